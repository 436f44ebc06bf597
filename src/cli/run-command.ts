/**
 * `tfkd run`: one run from its flags (progress bar, one line per epoch, Ctrl-C cancels at the next
 * batch: exit-codes.ts), or an experiment plan (--preset, --plan, --variants, --seeds) followed by its comparison.
 */
import cliProgress from 'cli-progress'
import { AppError } from '../shared/errors'
import { runConfigInput, resolveRunConfig } from '../shared/schemas'
import type { RunConfig } from '../shared/types'
import type { OnnxExecutionProvider, TeacherLogitsMode } from '../shared/onnx'
import type { AppCore } from '../core/app/app-core'
import { parseParallel } from '../core/services/parallel'
import { runPlan } from './experiments'
import { withTrainingCore } from './exit-codes'
import { flagOf, planFromOptions, trainingFromOptions, withFlagName } from './run-options'
import { duration, pct } from './format'
import { importedTeacherRef, type parseTeacherRef } from './teachers'

/** `--teacher run:ID` as a run config's teacher (undefined for onnx:ID or no flag). */
function runTeacherOf(ref: unknown, epoch: unknown): { runId: number; epoch: number | null } | undefined {
  if (typeof ref !== 'object' || ref === null || !('run' in ref)) return undefined
  return { runId: (ref as { run: number }).run, epoch: (epoch as number | undefined) ?? null }
}

/** An experiment plan from the flags: runs it, then prints the comparison of its students. */
export async function runPlanFromFlags(o: Record<string, unknown>, openCore: () => AppCore): Promise<void> {
  const training = trainingFromOptions(o)
  const plan = planFromOptions(o)
  const ref = o.teacher as ReturnType<typeof parseTeacherRef> | undefined
  if (ref && 'onnx' in ref) plan.importedTeachers = { stronger: ref.onnx, weaker: ref.onnx, self: ref.onnx }
  if (ref && 'run' in ref) {
    throw new AppError(
      'invalid_input',
      '--teacher run:ID is for one run; plans reuse runs with reuseTeachers in --plan',
    )
  }
  if (o.teacherLogits) plan.teacherLogits = o.teacherLogits as TeacherLogitsMode
  const parallel = o.parallel === undefined ? null : parseParallel(o.parallel)
  await withTrainingCore(openCore, async (core) => {
    if (parallel !== null) core.runs.setParallel(parallel)
    const exp = await runPlan(core, plan, o.progress !== false && process.stderr.isTTY).catch(
      (err: unknown) => {
        throw withFlagName(err, training)
      },
    )
    const t = core.plans.compare({ experimentId: exp.id })
    process.stdout.write(`\n${core.plans.format(t, 'md')}\n`)
    return exp.runs.map((r) => r.status)
  })
}

/** One run's config from the flags; a bad value names its flag. */
function runConfigFromFlags(o: Record<string, unknown>): RunConfig {
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
        typeof o.teacher === 'object' && o.teacher !== null && 'onnx' in o.teacher
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
  return resolveRunConfig(parsed.data)
}

/**
 * Prints what the core reports about the run `runId()` names: the backend it got, its log lines,
 * a progress bar (when `showBar`) and one line per epoch. Returns `stopBar` for the end of the run.
 */
function followRun(
  core: AppCore,
  runId: () => number,
  config: RunConfig,
  showBar: boolean,
): { stopBar(): void } {
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
  const stopBar = () => {
    if (barStarted) bar.stop()
    barStarted = false
  }
  core.on('diagnostics:backend', (r) => {
    process.stderr.write(`backend: ${r.chosen} (${r.device})\n`)
    for (const rung of r.rungs.filter((x) => !x.ok && !x.reason?.startsWith('not tried'))) {
      process.stderr.write(`  ${rung.id}: ${rung.reason}\n`)
    }
  })
  core.on('runs:log', (l) => {
    if (l.runId === runId() || l.runId === null) process.stderr.write(`${l.level}: ${l.message}\n`)
  })
  core.on('runs:progress', (p) => {
    if (p.runId !== runId() || !showBar) return
    const payload = {
      epoch: p.epoch,
      epochs: p.epochs,
      loss: p.loss.toFixed(4),
      speed: Math.round(p.samplesPerSec),
      etaText: duration(p.etaMs),
    }
    if (!barStarted) {
      bar.start(1000, 0, payload)
      barStarted = true
    }
    bar.update(Math.round(p.fraction * 1000), payload)
  })
  core.on('runs:epoch', ({ runId: id, metrics: m }) => {
    if (id !== runId()) return
    const text =
      `epoch ${m.epoch}/${config.epochs}: train loss ${m.trainLoss.toFixed(4)} acc ${pct(m.trainAccuracy)}` +
      ` | val loss ${m.valLoss.toFixed(4)} acc ${pct(m.valAccuracy)} | ${duration(m.durationMs)}` +
      ` (${Math.round(m.samplesPerSec)} samples/s)`
    stopBar()
    process.stdout.write(`${text}\n`)
  })
  return { stopBar }
}

/** One run from the flags: trains it in this process's core and prints how it ended. */
export async function runOneFromFlags(o: Record<string, unknown>, openCore: () => AppCore): Promise<void> {
  const config = runConfigFromFlags(o)
  await withTrainingCore(openCore, async (core) => {
    let runId = 0
    const { stopBar } = followRun(core, () => runId, config, o.progress !== false && process.stderr.isTTY)
    const run = core.runs.start(config)
    runId = run.id
    process.stdout.write(
      `run ${run.id}: ${config.model} / ${config.variant} on ${run.datasetName}, seed ${config.seed}, ${config.epochs} epochs\n`,
    )
    const done = await core.runs.waitFor(run.id)
    stopBar()
    if (done.status === 'completed') {
      process.stdout.write(
        `run ${done.id} completed: test accuracy ${pct(done.testAccuracy)}, test loss ${done.testLoss?.toFixed(4)}` +
          ` (best val epoch ${done.bestEpoch}, ${pct(done.bestValAccuracy)}) in ${duration((done.finishedAt ?? 0) - (done.startedAt ?? 0))}\n`,
      )
    } else {
      process.stderr.write(
        `run ${done.id} ${done.status}${done.failureReason ? `: ${done.failureReason}` : ''}\n`,
      )
    }
    return [done.status]
  })
}
