/**
 * Entry of the trainer child process. It loads a TF.js backend, trains one run and reports every
 * event to its host, which records them: this process never touches the database. It runs under
 * Electron's utilityProcess (messages through process.parentPort) or child_process.fork
 * (process.send), so a native abort or a blocked thread never takes the app down.
 */
import type { HostToTrainer, TrainerStart, TrainerToHost } from '../../shared/trainer-protocol'
import { parseHostToTrainer } from '../../shared/trainer-schemas'
import type { BackendReport } from '../../shared/types'
import { loadBackend } from '../backend/ladder'
import { requestWebGpuAdapter } from '../backend/webgpu-adapter'
import { carveValidation, channelStats, type DatasetSplits } from '../data/arrays'
import { loadSource } from '../data/source'
import { makeLoss } from '../distill/losses'
import { exportModel } from '../export/model-export'
import { buildModel } from '../models/registry'
import { runOnnxEval } from '../onnx/eval-job'
import { deriveSeed } from '../random'
import { storageAppError } from '../storage-errors'
import { runBench } from '../train/bench-step'
import { openTeacher } from '../train/open-teacher'
import type { TeacherSource } from '../train/teacher-source'
import { CancelledError, trainModel } from '../train/train-loop'

interface ParentPort {
  on(event: 'message', listener: (e: { data: unknown }) => void): void
  postMessage(msg: unknown): void
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort

/**
 * The host is gone (killed, crashed): nobody will record what this process does, so it stops at
 * once, quietly (no ERR_IPC_CHANNEL_CLOSED stack on the terminal it shared with the host).
 */
function parentGone(): never {
  process.exit(0)
}

function send(msg: TrainerToHost): void {
  if (parentPort) parentPort.postMessage(msg)
  else if (process.send) {
    if (!process.connected) parentGone()
    // A channel that closes while the message is in flight reports it here, not as an 'error' event.
    process.send(msg, undefined, undefined, (err) => {
      if (err) parentGone()
    })
  }
}

// Under fork the channel closes when the host dies; the training loop yields every batch, so this
// runs within one batch of the host's death.
process.on('disconnect', parentGone)
// The host decides when a run stops: a terminal's Ctrl-C (or a hang-up) reaching this process too
// (Electron's utilityProcess shares the host's process group) must not kill the run under it; the
// host relays a cancel instead, and kills this process when it has to.
process.on('SIGINT', () => undefined)
process.on('SIGHUP', () => undefined)

/** Hands on the host's messages, parsed; a malformed one is answered with the failure it causes. */
function onMessage(listener: (msg: HostToTrainer) => void): void {
  const receive = (m: unknown): void => {
    const parsed = parseHostToTrainer(m)
    if (parsed.ok) listener(parsed.msg)
    else send(parsed.reply)
  }
  if (parentPort) parentPort.on('message', (e) => receive(e.data))
  else process.on('message', receive)
}

let backend: BackendReport | null = null
const abort = new AbortController()

async function ensureBackend(pin: TrainerStart['config']['backend'] = 'auto'): Promise<BackendReport> {
  if (!backend) {
    backend = await loadBackend({
      pin,
      disableNative: process.env.TFKD_DISABLE_NATIVE === '1',
      disableWebgpu: process.env.TFKD_DISABLE_WEBGPU === '1',
      onWarning: (id, message) => send({ type: 'log', level: 'warn', message: `${id}: ${message}` }),
    })
    send({ type: 'backend', report: backend })
  }
  return backend
}

export function loadData(start: Pick<TrainerStart, 'dataset' | 'config'>): DatasetSplits {
  const source = loadSource(start.dataset)
  const { train, validation } = carveValidation(source.train, {
    fraction: start.config.validationFraction,
    // A plan's teachers and students share the split (splitSeed); a lone run uses its own seed.
    seed: start.config.splitSeed ?? start.config.seed,
    maxTrain: start.config.maxTrainSamples,
  })
  const { mean, std } = channelStats(train)
  return {
    train,
    validation,
    test: source.test,
    numClasses: source.classNames.length,
    classNames: source.classNames,
    mean,
    std,
  }
}

async function run(start: TrainerStart): Promise<void> {
  const { runId, config } = start
  try {
    const report = await ensureBackend(config.backend)
    const data = loadData(start)
    const loss = makeLoss(config.variant, config.variantParams, config.model)
    const model = buildModel(config.model, {
      inputShape: data.train.shape,
      numClasses: data.numClasses,
      seed: deriveSeed(config.seed, 'model-init'),
    })
    const teacher: TeacherSource | undefined = loss.needsTeacher
      ? await openTeacher(start, data, {
          backend: report.chosen,
          log: (message) => send({ type: 'log', level: 'warn', message }),
        })
      : undefined
    send({
      type: 'started',
      runId,
      backend: report.chosen,
      device: report.device,
      ...(report.deviceInfo ? { deviceInfo: report.deviceInfo } : {}),
    })
    const result = await trainModel({
      model,
      data,
      config,
      loss,
      teacher,
      signal: abort.signal,
      // Per-epoch checkpoints carry the optimizer state and the best-so-far (with best.tfkd), so an
      // interrupted run re-queued with `resumeFrom` continues exactly where it stopped.
      checkpoints: { dir: start.checkpointDir, meta: { runId, config } },
      ...(start.resumeFrom ? { resumeFrom: start.resumeFrom.path } : {}),
      hooks: {
        onProgress: (p) => send({ type: 'progress', progress: { runId, ...p } }),
        onEpoch: (metrics) => send({ type: 'epoch', runId, metrics }),
        onCheckpoint: ({ epoch, path, bytes }) => send({ type: 'checkpoint', runId, epoch, path, bytes }),
      },
    })
    await teacher?.dispose()
    if (result.details?.teacherCost && start.onnxTeacher)
      result.details.teacherCost.sha256 = start.onnxTeacher.sha256
    send({ type: 'completed', runId, result })
  } catch (err) {
    if (err instanceof CancelledError) send({ type: 'cancelled', runId })
    else send({ type: 'failed', runId, reason: err instanceof Error ? err.message : String(err) })
  }
}

onMessage((msg) => {
  switch (msg.type) {
    case 'start':
      void run(msg)
      break
    case 'probe':
      ensureBackend().catch((err: unknown) => {
        send({ type: 'log', level: 'error', message: String(err) })
        process.exit(3)
      })
      break
    case 'doctor':
      requestWebGpuAdapter()
        .then((r) =>
          send(
            r.ok
              ? { type: 'webgpu-adapter', adapter: r.facts, reason: null }
              : { type: 'webgpu-adapter', adapter: null, reason: r.reason },
          ),
        )
        .then(() => ensureBackend())
        .catch((err: unknown) => {
          send({ type: 'log', level: 'error', message: String(err) })
          process.exit(3)
        })
      break
    case 'bench':
      runBench(msg)
        .then((result) => send({ type: 'bench-result', result }))
        .catch((err: unknown) =>
          send({ type: 'bench-failed', reason: err instanceof Error ? err.message : String(err) }),
        )
      break
    case 'onnx-eval':
      runOnnxEval(msg, (done, total) => send({ type: 'job-progress', done, total }), abort.signal)
        .then((result) => send({ type: 'onnx-eval-result', result }))
        .catch((err: unknown) =>
          send({ type: 'job-failed', reason: err instanceof Error ? err.message : String(err) }),
        )
      break
    case 'export-model':
      ensureBackend(msg.config.backend)
        .then(() => exportModel(msg, loadData(msg)))
        .then((result) => send({ type: 'export-result', result }))
        .catch((err: unknown) => {
          // A read-only, full or unwritable output folder: name it, the cause and the way out.
          const storage = storageAppError(err, 'cannot write the export to', msg.outDir, msg.storageWayOut)
          if (storage) send({ type: 'job-failed', reason: storage.message, code: 'storage' })
          else send({ type: 'job-failed', reason: err instanceof Error ? err.message : String(err) })
        })
      break
    case 'cancel':
      abort.abort()
      break
    case 'shutdown':
      // Let queued messages flush before exiting.
      setTimeout(() => process.exit(0), 20)
      break
  }
})

send({ type: 'ready', pid: process.pid })
