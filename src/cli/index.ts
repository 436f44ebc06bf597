/**
 * `tfkd`: the headless host. It uses the same core as the desktop app and writes to the same data
 * folder (TFKD_HOME or the OS app-data folder), so its runs show up in the app.
 */
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Command, Option } from 'commander'
import cliProgress from 'cli-progress'
import { AppError } from '../shared/errors'
import { stringifyWire } from '../shared/wire-json'
import { runConfigInput, resolveRunConfig } from '../shared/schemas'
import { RUN_STATUSES, VARIANT_IDS } from '../shared/types'
import { createAppCore, type AppCore } from '../core/services/app-core'
import { createForkSpawner } from '../core/services/fork-trainer'
import { resolveDataHome } from '../core/paths'
import { startWebServer } from '../server/index'
import { registerDatasetCommands } from './datasets'
import { registerExportCommand } from './export'
import { registerReproduceCommands } from './reproduce'
import { isPlanRun, registerExperimentCommands, runPlan, type PlanFlags } from './experiments'
import {
  addPlanOptions,
  addTrainingOptions,
  flagOf,
  int,
  planFromOptions,
  trainingFromOptions,
  withFlagName,
} from './run-options'
import { registerClusterCommands } from './cluster'
import { deviceText, duration, pct, table } from './format'
import { importedTeacherRef, parseTeacherRef, registerTeacherCommands } from './teachers'
import {
  ONNX_EXECUTION_PROVIDERS,
  TEACHER_LOGITS_MODES,
  type OnnxExecutionProvider,
  type TeacherLogitsMode,
} from '../shared/onnx'

/** `--teacher run:ID` as a run config's teacher (undefined for onnx:ID or no flag). */
function runTeacherOf(ref: unknown, epoch: unknown): { runId: number; epoch: number | null } | undefined {
  if (!ref || !('run' in (ref as object))) return undefined
  return { runId: (ref as { run: number }).run, epoch: (epoch as number | undefined) ?? null }
}
import { registerDoctorCommand } from './doctor'

const VERSION = '0.1.0'
const trainerEntry = fileURLToPath(new URL('./trainer.js', import.meta.url))
const tfkdBin = fileURLToPath(new URL('../../bin/tfkd.js', import.meta.url))

function openCore(host: 'cli' | 'web'): AppCore {
  return createAppCore({
    dataHome: resolveDataHome(),
    host,
    spawnTrainer: createForkSpawner(trainerEntry),
    version: VERSION,
    // What Slurm array tasks run: this very install (same Node, same bin/tfkd.js).
    tfkdInstall: { node: process.execPath, tfkd: tfkdBin },
  })
}

const program = new Command('tfkd')
  .description('Teacher-free Knowledge Distillation experiments, headless')
  .version(VERSION)

const runCommand = program
  .command('run')
  .description('train one run, or an experiment plan (--preset, --plan, --variants, --seeds), and record it')
addTrainingOptions(runCommand)
  .addOption(new Option('--variant <id>', 'distillation variant').choices([...VARIANT_IDS]))
  .option('--seed <n>', 'seed of every random source of the run', int('--seed'))
  .option('--teacher-run <id>', 'teacher run for kd, re-kd, de-kd, tfkd-self', int('--teacher-run'))
  .option(
    '--teacher <onnx:ID|run:ID>',
    'the teacher: an imported ONNX teacher (tfkd teachers import) or a teacher run; in a plan, onnx:ID teaches every slot',
    parseTeacherRef,
  )
  .addOption(
    new Option(
      '--teacher-logits <mode>',
      'per-batch (on the augmented batch) or cached once on unaugmented images',
    ).choices([...TEACHER_LOGITS_MODES]),
  )
  .addOption(
    new Option('--teacher-device <ep>', 'ONNX Runtime execution provider of an imported teacher').choices([
      ...ONNX_EXECUTION_PROVIDERS,
    ]),
  )
  .option(
    '--teacher-epoch <n>',
    "use the teacher's checkpoint of this epoch (de-kd snapshot)",
    int('--teacher-epoch'),
  )
addPlanOptions(runCommand)
  .option('--no-progress', 'no progress bar (one line per epoch only)')
  .action(async (o: Record<string, unknown>) => {
    if (isPlanRun(o as PlanFlags)) {
      const training = trainingFromOptions(o)
      const plan = planFromOptions(o)
      const ref = o.teacher as ReturnType<typeof parseTeacherRef> | undefined
      if (ref && 'onnx' in ref)
        plan.importedTeachers = { stronger: ref.onnx, weaker: ref.onnx, self: ref.onnx }
      if (ref && 'run' in ref) {
        throw new AppError(
          'invalid_input',
          '--teacher run:ID is for one run; plans reuse runs with reuseTeachers in --plan',
        )
      }
      if (o.teacherLogits) plan.teacherLogits = o.teacherLogits as TeacherLogitsMode
      const core = openCore('cli')
      try {
        const exp = await runPlan(core, plan, o.progress !== false && process.stderr.isTTY).catch(
          (err: unknown) => {
            throw withFlagName(err, training)
          },
        )
        const t = core.plans.compare({ experimentId: exp.id })
        process.stdout.write(`\n${core.plans.format(t, 'md')}\n`)
        if (exp.status === 'cancelled') process.exitCode = 130
      } finally {
        await core.close()
      }
      return
    }
    const input = Object.fromEntries(
      Object.entries({
        dataset: o.dataset,
        model: o.model,
        variant: o.variant,
        epochs: o.epochs,
        batchSize: o.batchSize,
        optimizer: o.optimizer,
        learningRate: o.lr,
        momentum: o.momentum,
        weightDecay: o.weightDecay,
        seed: o.seed,
        validationFraction: o.valFraction,
        maxTrainSamples: o.maxTrain,
        backend: o.backend,
        variantParams: Object.keys(o.param as object).length ? o.param : undefined,
        teacher:
          o.teacherRun === undefined
            ? runTeacherOf(o.teacher, o.teacherEpoch)
            : { runId: o.teacherRun, epoch: (o.teacherEpoch as number | undefined) ?? null },
        importedTeacher:
          o.teacher && 'onnx' in (o.teacher as object)
            ? importedTeacherRef(
                (o.teacher as { onnx: number }).onnx,
                o.teacherDevice as OnnxExecutionProvider | undefined,
              )
            : undefined,
        teacherLogits: o.teacherLogits,
      }).filter(([, v]) => v !== undefined),
    )
    const parsed = runConfigInput.safeParse(input)
    if (!parsed.success) {
      const i = parsed.error.issues[0]!
      throw new AppError('invalid_input', `${flagOf(String(i.path[0] ?? ''))}: ${i.message}`)
    }
    const config = resolveRunConfig(parsed.data)
    const core = openCore('cli')
    const showBar = o.progress !== false && process.stderr.isTTY
    const bar = new cliProgress.SingleBar(
      {
        format:
          'epoch {epoch}/{epochs} |{bar}| {percentage}% | loss {loss} | {speed} samples/s | ETA {etaText}',
        barsize: 30,
        hideCursor: true,
        stream: process.stderr,
      },
      cliProgress.Presets.shades_classic,
    )
    let barStarted = false
    let runId = 0
    let interrupted = false
    const onSigint = () => {
      if (interrupted) process.exit(130)
      interrupted = true
      process.stderr.write('\ncancelling at the next batch (Ctrl-C again to force)...\n')
      if (runId) core.runs.cancel(runId)
    }
    process.on('SIGINT', onSigint)
    core.on('diagnostics:backend', (r) => {
      process.stderr.write(`backend: ${r.chosen} (${r.device})\n`)
      for (const rung of r.rungs.filter((x) => !x.ok && !x.reason?.startsWith('not tried'))) {
        process.stderr.write(`  ${rung.id}: ${rung.reason}\n`)
      }
    })
    core.on('runs:log', (l) => {
      if (l.runId === runId || l.runId === null) process.stderr.write(`${l.level}: ${l.message}\n`)
    })
    core.on('runs:progress', (p) => {
      if (p.runId !== runId) return
      const payload = {
        epoch: p.epoch,
        epochs: p.epochs,
        loss: p.loss.toFixed(4),
        speed: Math.round(p.samplesPerSec),
        etaText: duration(p.etaMs),
      }
      if (showBar) {
        if (!barStarted) {
          bar.start(1000, 0, payload)
          barStarted = true
        }
        bar.update(Math.round(p.fraction * 1000), payload)
      }
    })
    core.on('runs:epoch', ({ runId: id, metrics: m }) => {
      if (id !== runId) return
      const text =
        `epoch ${m.epoch}/${config.epochs}: train loss ${m.trainLoss.toFixed(4)} acc ${pct(m.trainAccuracy)}` +
        ` | val loss ${m.valLoss.toFixed(4)} acc ${pct(m.valAccuracy)} | ${duration(m.durationMs)}` +
        ` (${Math.round(m.samplesPerSec)} samples/s)`
      if (barStarted) bar.stop()
      barStarted = false
      process.stdout.write(`${text}\n`)
    })
    try {
      const run = core.runs.start(config)
      runId = run.id
      process.stdout.write(
        `run ${run.id}: ${config.model} / ${config.variant} on ${run.datasetName}, seed ${config.seed}, ${config.epochs} epochs\n`,
      )
      const done = await core.runs.waitFor(run.id)
      if (barStarted) bar.stop()
      if (done.status === 'completed') {
        process.stdout.write(
          `run ${done.id} completed: test accuracy ${pct(done.testAccuracy)}, test loss ${done.testLoss?.toFixed(4)}` +
            ` (best val epoch ${done.bestEpoch}, ${pct(done.bestValAccuracy)}) in ${duration((done.finishedAt ?? 0) - (done.startedAt ?? 0))}\n`,
        )
      } else {
        process.stderr.write(
          `run ${done.id} ${done.status}${done.failureReason ? `: ${done.failureReason}` : ''}\n`,
        )
        process.exitCode = done.status === 'cancelled' ? 130 : 1
      }
    } finally {
      process.off('SIGINT', onSigint)
      await core.close()
    }
  })

program
  .command('runs')
  .description('list recorded runs')
  .addOption(new Option('--status <status>', 'only runs in this state').choices([...RUN_STATUSES]))
  .option('--limit <n>', 'at most N runs', int('--limit'), 50)
  .option('--json', 'print JSON')
  .action(async (o: { status?: (typeof RUN_STATUSES)[number]; limit: number; json?: boolean }) => {
    const core = openCore('cli')
    try {
      const runs = core.store.runs.list({ status: o.status, limit: o.limit })
      if (o.json) {
        process.stdout.write(`${stringifyWire(runs, 2)}\n`)
        return
      }
      if (runs.length === 0) {
        process.stdout.write('no runs yet; start one with `tfkd run`\n')
        return
      }
      process.stdout.write(
        `${table(
          [
            'id',
            'status',
            'dataset',
            'model',
            'variant',
            'seed',
            'epochs',
            'test acc',
            'backend',
            'device',
            'duration',
            'reason',
          ],
          runs.map((r) => [
            String(r.id),
            r.status,
            r.datasetName,
            r.model,
            r.variant,
            String(r.seed),
            `${r.epochsDone}/${r.epochsPlanned}`,
            pct(r.testAccuracy),
            r.backend ?? '-',
            deviceText(r),
            r.startedAt ? duration((r.finishedAt ?? Date.now()) - r.startedAt) : '-',
            r.failureReason ?? '',
          ]),
        )}\n`,
      )
    } finally {
      await core.close()
    }
  })

program
  .command('models')
  .description('list the models')
  .action(async () => {
    const core = openCore('cli')
    try {
      for (const m of await core.handlers['models:list']({}))
        process.stdout.write(`${m.id.padEnd(12)} ${m.description}\n`)
    } finally {
      await core.close()
    }
  })

program
  .command('serve')
  .description('serve the UI and the app contract to a browser (127.0.0.1 only unless --host)')
  .option('--port <n>', 'port (0 = any free port)', int('--port'), 7860)
  .option('--host <addr>', 'address to bind', '127.0.0.1')
  .option('--allow-remote', 'allow binding to a non-loopback address (the token is still required)')
  .option(
    '--max-upload-mb <n>',
    'largest dataset archive a browser may upload, in MB',
    int('--max-upload-mb'),
    2048,
  )
  .action(async (o: { port: number; host: string; allowRemote?: boolean; maxUploadMb: number }) => {
    const core = openCore('web')
    const staticDir = fileURLToPath(new URL('../renderer', import.meta.url))
    const server = await startWebServer({
      core,
      host: o.host,
      port: o.port,
      staticDir,
      allowRemote: Boolean(o.allowRemote),
      // Archives uploaded from a browser are extracted under the data folder, then imported.
      upload: { dir: join(resolveDataHome(), 'uploads'), maxBytes: o.maxUploadMb * 1024 * 1024 },
    })
    process.stdout.write(
      `tfkd-studio is serving at:\n    ${server.url}\n(the token in the URL is required; Ctrl-C to stop)\n`,
    )
    const stop = async () => {
      await server.close()
      await core.close()
      process.exit(0)
    }
    process.once('SIGINT', () => void stop())
    process.once('SIGTERM', () => void stop())
  })

registerDatasetCommands(program, () => openCore('cli'))
registerExperimentCommands(program, () => openCore('cli'))
registerExportCommand(program, () => openCore('cli'))
registerReproduceCommands(program, () => openCore('cli'), VERSION)
registerTeacherCommands(program, () => openCore('cli'))
registerClusterCommands(program, () => openCore('cli'), { trainerEntry })
registerDoctorCommand(program, () => openCore('cli'))

program.parseAsync(process.argv).catch((err: unknown) => {
  const e = AppError.from(err)
  process.stderr.write(`tfkd: ${e.message}\n`)
  process.exit(e.code === 'invalid_input' ? 2 : 1)
})
