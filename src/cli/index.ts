/**
 * `tfkd`: the headless host. It uses the same core as the desktop app and writes to the same data
 * folder (TFKD_HOME or the OS app-data folder), so its runs show up in the app.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Command, Option } from 'commander'
import { AppError } from '../shared/errors'
import { stringifyWire } from '../shared/wire-json'
import { RUN_STATUSES, VARIANT_IDS } from '../shared/types'
import { createAppCore, type AppCore } from '../core/app/app-core'
import { createForkSpawner } from '../core/services/fork-trainer'
import { resolveDataHome } from '../core/paths'
import { startWebServer } from '../server/index'
import { registerDatasetCommands } from './datasets'
import { registerExportCommand } from './export'
import { registerReproduceCommands } from './reproduce'
import { isPlanRun, registerExperimentCommands } from './experiments'
import { addPlanOptions, addTrainingOptions, int } from './run-options'
import { registerPlanFileCommands } from './experiment-plan'
import { registerClusterCommands } from './cluster'
import { deviceText, duration, pct, table } from './format'
import { parseTeacherRef, registerTeacherCommands } from './teachers'
import { ONNX_EXECUTION_PROVIDERS, TEACHER_LOGITS_MODES } from '../shared/onnx'

import { registerDoctorCommand } from './doctor'
import { errorPath, storageAppError } from '../core/storage-errors'
import { runOneFromFlags, runPlanFromFlags } from './run-command'
import { parseParallel } from '../core/services/parallel'
import { EXIT_BAD_INPUT, EXIT_CODES_HELP, EXIT_FAILED, EXIT_OK, isBadInput } from './exit-codes'
import { installSignalStop, signalExitCode } from '../core/services/host-signals'

const VERSION = '0.1.0'
/** `tfkd serve` on a signal: the run's grace to reach a batch boundary, and the hard deadline. */
const SERVE_GRACE_MS = 500
const SERVE_DEADLINE_MS = 850
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
  .addHelpText('after', EXIT_CODES_HELP)
  // A flag commander refuses (unknown, missing, not a number) is bad input: exit 2, as every other
  // validation error. Set before the subcommands, which inherit it.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? EXIT_OK : EXIT_BAD_INPUT))

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
  .option(
    '--parallel <N|auto>',
    'a plan: train up to N runs at once, each trainer on floor(CPUs / N) threads (TFKD_THREADS); ' +
      'auto: one run per 2 CPUs for small models (mlp, cnn-small), one per 8 CPUs for larger ones ' +
      '(so 1 below 16 CPUs), 1 for runs on a GPU; default: the runs.parallel setting, else 1. Students still wait for their teachers',
  )
  .option('--no-progress', 'no progress bar (one line per epoch only)')
  .action(async (o: Record<string, unknown>) => {
    if (isPlanRun(o)) await runPlanFromFlags(o, () => openCore('cli'))
    else await runOneFromFlags(o, () => openCore('cli'))
  })

program
  .command('settings')
  .description('host settings, kept in the data folder')
  .command('parallel [value]')
  .description(
    'how many runs train at once (N or auto; default 1), in every host (app, serve, run) unless tfkd run --parallel says otherwise; without a value, prints it',
  )
  .action(async (value: string | undefined) => {
    const setting = value === undefined ? undefined : parseParallel(value, 'parallel')
    const core = openCore('cli')
    try {
      if (setting !== undefined) core.runs.storeParallel(setting)
      process.stdout.write(`runs.parallel = ${core.runs.parallel()}\n`)
    } finally {
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
    if (!existsSync(join(staticDir, 'index.html')))
      process.stderr.write(
        `tfkd: the UI is not built (${staticDir} has no index.html): run \`npm run build:renderer\` ` +
          `in the repository, then reload the page\n`,
      )
    // Ctrl-C, SIGTERM, SIGHUP: the running run is cancelled at its next batch (killed after
    // SERVE_GRACE_MS), queued runs interrupted, and the host is gone within a second.
    installSignalStop({
      runs: core.runs,
      graceMs: SERVE_GRACE_MS,
      deadlineMs: SERVE_DEADLINE_MS,
      say: (line) => process.stderr.write(`${line}\n`),
      onStopped: async (signal) => {
        await server.close()
        await core.close()
        process.exit(signalExitCode(signal))
      },
      exitNow: (code) => process.exit(code),
    })
  })

registerDatasetCommands(program, () => openCore('cli'))
registerExperimentCommands(program, () => openCore('cli'))
registerPlanFileCommands(program, () => openCore('cli'))
registerExportCommand(program, () => openCore('cli'))
registerReproduceCommands(program, () => openCore('cli'), VERSION)
registerTeacherCommands(program, () => openCore('cli'))
registerClusterCommands(program, () => openCore('cli'), { trainerEntry })
registerDoctorCommand(program, () => openCore('cli'))

program.parseAsync(process.argv).catch((err: unknown) => {
  // A storage failure no command explained: name its file, the cause and the way out.
  const path = errorPath(err)
  const e = (path ? storageAppError(err, 'cannot write', path) : null) ?? AppError.from(err)
  process.stderr.write(`tfkd: ${e.message}\n`)
  // A storage failure is never bad input, whatever error carried it here.
  process.exit(e.code !== 'storage' && (isBadInput(err) || isBadInput(e)) ? EXIT_BAD_INPUT : EXIT_FAILED)
})
