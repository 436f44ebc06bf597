/**
 * `npm run bench`: training throughput of the two reference models on every backend that loads,
 * each in its own trainer process (as in the app), while this host process measures its own
 * event-loop delay. `--peer` runs the PyTorch peer (scripts/bench/torch_train_speed.py) with the
 * same settings in the same run and prints ours / peer.
 *
 *   npm run bench -- [--peer] [--json] [--seconds 10] [--batch 128]
 *                    [--models mnist-cnn,resnet20] [--backends wasm,cpu,...]
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { Command } from 'commander'
import { createForkSpawner } from '../core/services/fork-trainer'
import { trainerEnv } from '../core/train/trainer-env'
import type { BenchResult } from '../shared/trainer-protocol'
import { BACKEND_IDS, type BackendId } from '../shared/types'
import { table } from './format'

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = resolve(here, '..', '..')

/** The reference models of scripts/bench/torch_train_speed.py, mapped to our registry. */
const REFERENCE = {
  'mnist-cnn': { registry: 'cnn-small', inputShape: [28, 28, 1], numClasses: 10 },
  resnet20: { registry: 'resnet20', inputShape: [32, 32, 3], numClasses: 100 },
} as const satisfies Record<
  string,
  { registry: string; inputShape: [number, number, number]; numClasses: number }
>
type RefModel = keyof typeof REFERENCE

interface Row {
  model: RefModel
  backend: BackendId
  ours?: BenchResult & { hostLoopDelayMaxMs: number; hostLoopDelayP99Ms: number }
  error?: string
  peer?: { samplesPerSec: number; threads: number } | { error: string }
  ratio?: number
}

async function benchOurs(
  model: RefModel,
  backend: BackendId,
  batchSize: number,
  seconds: number,
  extra: { profile?: boolean; counters?: boolean; minSteps?: number; readEvery?: number } = {},
): Promise<NonNullable<Row['ours']>> {
  const spawnTrainer = createForkSpawner(join(here, 'trainer.js'), { silent: true })
  const t = spawnTrainer({ env: trainerEnv(process.env) })
  const loop = monitorEventLoopDelay({ resolution: 5 })
  loop.enable()
  try {
    const result = await new Promise<BenchResult>((resolvePromise, reject) => {
      t.onMessage((m) => {
        if (m.type === 'bench-result') resolvePromise(m.result)
        else if (m.type === 'bench-failed') reject(new Error(m.reason))
      })
      t.onExit(({ code, signal }) => reject(new Error(`bench worker exited (${signal ?? code})`)))
      const ref = REFERENCE[model]
      t.send({
        type: 'bench',
        model: ref.registry,
        inputShape: [...ref.inputShape],
        numClasses: ref.numClasses,
        batchSize,
        seconds,
        backend,
        ...extra,
      })
    })
    return { ...result, hostLoopDelayMaxMs: loop.max / 1e6, hostLoopDelayP99Ms: loop.percentile(99) / 1e6 }
  } finally {
    loop.disable()
    t.send({ type: 'shutdown' })
  }
}

function benchPeer(
  model: RefModel,
  batchSize: number,
  seconds: number,
  device: string,
): Promise<Row['peer']> {
  const script = process.env.TFKD_PEER_SCRIPT ?? resolve(repoRoot, 'scripts', 'bench', 'torch_train_speed.py')
  const python = process.env.TFKD_PEER_PYTHON ?? '/usr/bin/python3'
  if (!existsSync(script)) return Promise.resolve({ error: `peer script not found: ${script}` })
  return new Promise((resolvePromise) => {
    const child = spawn(python, [script, device, model, String(batchSize), String(seconds)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (b: Buffer) => (out += b.toString()))
    child.stderr.on('data', (b: Buffer) => (err += b.toString()))
    child.on('error', (e) => resolvePromise({ error: `${python}: ${e.message}` }))
    child.on('close', (code) => {
      const m = /threads (\d+) .*samples\/s ([\d.]+)/.exec(out)
      if (code === 0 && m) resolvePromise({ threads: Number(m[1]), samplesPerSec: Number(m[2]) })
      else
        resolvePromise({
          error: `peer failed (exit ${code}): ${(err.trim().split('\n').pop() ?? '').slice(0, 200)} (install PyTorch: apt-get install python3-torch)`,
        })
    })
  })
}

interface BenchOptions {
  peer?: boolean
  peerDevice: string
  json?: boolean
  profile?: boolean
  counters?: boolean
  minSteps: string
  readEvery?: string
  seconds: string
  batch: string
  models: string
  backends: string
}

/** Measures every model on every backend (and on the peer with --peer), one row per pair. */
async function measureAll(
  o: BenchOptions,
  models: RefModel[],
  backends: BackendId[],
  batch: number,
  seconds: number,
): Promise<Row[]> {
  const rows: Row[] = []
  const log = (s: string) => {
    if (!o.json) process.stderr.write(`${s}\n`)
  }
  for (const model of models) {
    for (const backend of backends) {
      log(`${model} on ${backend}...`)
      const row: Row = { model, backend }
      try {
        row.ours = await benchOurs(model, backend, batch, seconds, {
          profile: Boolean(o.profile),
          counters: Boolean(o.counters),
          minSteps: Number(o.minSteps),
          ...(o.readEvery ? { readEvery: Number(o.readEvery) } : {}),
        })
      } catch (err) {
        row.error = err instanceof Error ? err.message : String(err)
      }
      rows.push(row)
    }
    if (o.peer) {
      log(`${model} on PyTorch ${o.peerDevice} (peer)...`)
      const peer = await benchPeer(model, batch, seconds, o.peerDevice)
      for (const r of rows.filter((x) => x.model === model)) {
        r.peer = peer
        if (r.ours && peer && 'samplesPerSec' in peer) r.ratio = r.ours.samplesPerSec / peer.samplesPerSec
      }
    }
  }
  return rows
}

/** `--json`: one object, model -> backend -> figures (or the error). */
function printJson(rows: readonly Row[], batch: number, seconds: number): void {
  const byModel: Record<string, Record<string, unknown>> = {}
  for (const r of rows) {
    byModel[r.model] ??= {}
    byModel[r.model]![r.backend] = r.ours
      ? {
          samplesPerSec: r.ours.samplesPerSec,
          msPerStep: r.ours.msPerStep,
          peakRssMb: r.ours.peakRssMb,
          hostLoopDelayMaxMs: r.ours.hostLoopDelayMaxMs,
          device: r.ours.device,
          ...(r.ours.profile ? { profile: r.ours.profile } : {}),
          ...(r.ours.counters ?? {}),
          peerSamplesPerSec: r.peer && 'samplesPerSec' in r.peer ? r.peer.samplesPerSec : null,
          ratio: r.ratio ?? null,
        }
      : { error: r.error }
  }
  process.stdout.write(`${JSON.stringify({ batchSize: batch, seconds, models: byModel }, null, 2)}\n`)
}

/** The table for people, then the profiles and the peer's first error. */
function printTable(rows: readonly Row[], withPeer: boolean): void {
  const fmt = (n: number | undefined, d = 0) => (n === undefined ? '-' : n.toFixed(d))
  process.stdout.write(
    `${table(
      [
        'model',
        'backend',
        'samples/s',
        'ms/step',
        'peak RSS MB',
        'host loop max ms',
        'peer samples/s',
        'ours/peer',
        'note',
      ],
      rows.map((r) => [
        r.model,
        r.backend,
        fmt(r.ours?.samplesPerSec),
        fmt(r.ours?.msPerStep, 1),
        fmt(r.ours?.peakRssMb),
        fmt(r.ours?.hostLoopDelayMaxMs, 1),
        r.peer && 'samplesPerSec' in r.peer
          ? `${r.peer.samplesPerSec.toFixed(0)} (${r.peer.threads} thr)`
          : '-',
        r.ratio === undefined ? '-' : `${r.ratio.toFixed(2)}x`,
        r.error ? r.error.slice(0, 90) : (r.ours?.device ?? ''),
      ]),
    )}\n`,
  )
  for (const r of rows.filter((x) => x.ours?.profile)) {
    process.stdout.write(
      `\nprofile of one step, ${r.model} on ${r.backend} (kernel ms):\n${r.ours!.profile!.map(([k, ms]) => `  ${k.padEnd(28)} ${Number.isFinite(ms) ? ms.toFixed(1) : 'n/a'}`).join('\n')}\n`,
    )
  }
  for (const r of rows.filter((x) => x.ours?.counters)) {
    const c = r.ours!.counters!
    process.stdout.write(
      `\nGPU calls per steady-state step, ${r.model} on ${r.backend} (${r.ours!.steps} steps): ` +
        `${c.dispatchesPerStep.toFixed(1)} dispatches, ${c.submitsPerStep.toFixed(1)} submits, ` +
        `${c.readbacksPerStep.toFixed(1)} readbacks, ${c.buffersPerStep.toFixed(1)} buffers created, ` +
        `${c.bindGroupsPerStep.toFixed(1)} bind groups; ${c.pipelinesAfterWarmup} pipelines created after warm-up\n`,
    )
  }
  if (!withPeer) return
  const failed = rows.find((r) => r.peer && 'error' in r.peer)
  if (failed?.peer && 'error' in failed.peer)
    process.stdout.write(`peer (${failed.model}): ${failed.peer.error}\n`)
}

const program = new Command('bench')
  .option('--peer', 'also run the PyTorch peer with the same settings, and print ours / peer')
  .option('--peer-device <device>', 'where the peer runs: cpu (all cores) or cuda', 'cpu')
  .option('--json', 'print one JSON object')
  .option('--profile', 'also profile one step per model and backend and print the longest kernels')
  .option(
    '--counters',
    'count GPU calls per training step: dispatches, submits, readbacks, pipelines, buffers (webgpu)',
  )
  .option('--min-steps <n>', 'measure at least this many steps, however long they take', '1')
  .option(
    '--read-every <n>',
    "steps between loss readbacks (default: the training loop's: 1 on CPU, 16 on WebGPU)",
  )
  .option('--seconds <n>', 'seconds measured per model and backend', '10')
  .option('--batch <n>', 'batch size', '128')
  .option('--models <list>', 'reference models', 'mnist-cnn,resnet20')
  .option(
    '--backends <list>',
    'backends to try (default: every rung but the pure-JS cpu one, which takes minutes per step)',
    BACKEND_IDS.filter((b) => b !== 'cpu').join(','),
  )
  .action(async (o: BenchOptions) => {
    const seconds = Number(o.seconds)
    const batch = Number(o.batch)
    const models = o.models.split(',').filter((m): m is RefModel => {
      if (!(m in REFERENCE))
        throw new Error(`unknown reference model "${m}"; expected ${Object.keys(REFERENCE).join(', ')}`)
      return true
    })
    const rows = await measureAll(o, models, o.backends.split(',') as BackendId[], batch, seconds)
    if (o.json) printJson(rows, batch, seconds)
    else printTable(rows, Boolean(o.peer))
  })

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
