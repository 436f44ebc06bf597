/**
 * Plan-level CLI: `tfkd run` with a plan (preset, plan file, several variants or seeds),
 * `tfkd experiments [list|show|cancel|resume]` and `tfkd compare`.
 */
import { readFileSync } from 'node:fs'
import cliProgress from 'cli-progress'
import { InvalidArgumentError, type Command } from 'commander'
import { AppError } from '../shared/errors'
import type { ExperimentPlanInput } from '../shared/plan'
import { VARIANT_IDS, type ExperimentDetail, type RunStatus, type VariantId } from '../shared/types'
import { COMPARE_FORMATS, type CompareFormat } from '../core/analysis/compare'
import type { AppCore } from '../core/app/app-core'
import { withTrainingCore } from './exit-codes'
import { duration, pct, table } from './format'
import { summarizePlan } from '../shared/plan-state'

/** Options of `tfkd run` that make it a plan rather than one run. */
export interface PlanFlags {
  plan?: string
  /** The plan the flags start from when no --plan file is given (`tfkd experiments duplicate`). */
  base?: ExperimentPlanInput
  preset?: string
  variants?: string
  seeds?: string
  teacherModel?: string
  weakerTeacher?: string
  deKdEpochs?: string
  teacherEpochs?: number
}

export function isPlanRun(o: PlanFlags): boolean {
  return Boolean(o.plan || o.preset || o.variants || o.seeds)
}

function parseVariants(v: string): VariantId[] {
  if (v === 'all') return [...VARIANT_IDS]
  return v.split(',').map((x) => {
    const id = x.trim()
    if (!(VARIANT_IDS as readonly string[]).includes(id)) {
      throw new InvalidArgumentError(
        `--variants: unknown variant "${id}"; expected all or some of ${VARIANT_IDS.join(', ')}`,
      )
    }
    return id as VariantId
  })
}

function parseSeeds(v: string): number[] {
  // "3" = three seeds (1, 2, 3); "7,8,9" = exactly these.
  if (/^\d+$/.test(v)) return Array.from({ length: Number(v) }, (_, i) => i + 1)
  return v.split(',').map((x) => {
    const n = Number(x)
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`--seeds: "${x}" is not a seed`)
    return n
  })
}

/** Builds the plan from a plan file and/or flags (flags win). */
export function planFromFlags(
  o: PlanFlags & { dataset?: string; model?: string },
  training: Record<string, unknown>,
  variantParams: Record<string, unknown> | undefined,
): ExperimentPlanInput {
  let plan: ExperimentPlanInput = o.base ?? {}
  if (o.plan) {
    let text: string
    try {
      text = readFileSync(o.plan, 'utf8')
    } catch (err) {
      throw new AppError(
        'invalid_input',
        `--plan ${o.plan}: cannot read the file (${(err as Error).message})`,
      )
    }
    try {
      plan = JSON.parse(text) as ExperimentPlanInput
    } catch (err) {
      throw new AppError('invalid_input', `--plan ${o.plan}: not valid JSON (${(err as Error).message})`)
    }
  }
  const variants = o.variants ? parseVariants(o.variants) : plan.variants
  return {
    ...plan,
    ...(o.preset ? { preset: o.preset as ExperimentPlanInput['preset'] } : {}),
    ...(o.dataset ? { dataset: o.dataset } : {}),
    ...(o.model ? { student: o.model } : {}),
    ...(o.teacherModel ? { strongerTeacher: o.teacherModel } : {}),
    ...(o.weakerTeacher ? { weakerTeacher: o.weakerTeacher } : {}),
    ...(variants ? { variants } : {}),
    ...(o.seeds ? { seeds: parseSeeds(o.seeds) } : {}),
    ...(o.deKdEpochs ? { deKdEpochs: o.deKdEpochs.split(',').map(Number) } : {}),
    ...(o.teacherEpochs ? { teacherEpochs: o.teacherEpochs } : {}),
    ...(Object.keys(training).length ? { training: { ...plan.training, ...training } } : {}),
    ...(variantParams && variants?.length === 1
      ? { variantParams: { ...plan.variantParams, [variants[0]!]: variantParams } }
      : {}),
  }
}

/** Resolves when every run of the experiment has ended, printing one line per ended run. */
function untilAllEnd(
  core: AppCore,
  exp: ExperimentDetail,
  label: Map<number, string>,
  out: {
    showBars: boolean
    multi: cliProgress.MultiBar
    overall: cliProgress.SingleBar | null
    started: number
  },
): Promise<void> {
  const ids = new Set(exp.runs.map((r) => r.id))
  const total = exp.runs.length
  let done = 0
  return new Promise<void>((resolve) => {
    const off = core.on('runs:status', (s) => {
      if (!ids.has(s.runId)) return
      if (['completed', 'failed', 'cancelled', 'interrupted'].includes(s.status)) {
        done++
        const line = `  run ${s.runId} ${label.get(s.runId)}: ${s.status}${s.testAccuracy !== null ? `, test ${pct(s.testAccuracy)}` : ''}${s.failureReason ? ` (${s.failureReason})` : ''}`
        if (out.showBars) out.multi.log(`${line}\n`)
        else process.stdout.write(`${line}\n`)
        const elapsed = Date.now() - out.started
        out.overall?.update(done, {
          info: `${done}/${total} runs, ETA ${duration((elapsed / done) * (total - done))}`,
        })
        if (done === total) {
          off()
          resolve()
        }
      }
    })
  })
}

/** Runs a plan to the end with an overall bar and a bar for the current run; Ctrl-C stops it. */
export async function runPlan(
  core: AppCore,
  plan: ExperimentPlanInput,
  showBars: boolean,
): Promise<ExperimentDetail> {
  const exp = core.plans.start(plan)
  const total = exp.runs.length
  process.stdout.write(
    `experiment ${exp.id}: ${exp.name}\n  ${total} runs (${exp.runs.filter((r) => r.role === 'teacher').length} teachers), dataset ${exp.datasetName}\n`,
  )
  const ids = new Set(exp.runs.map((r) => r.id))
  const label = new Map(
    exp.runs.map((r) => [
      r.id,
      `${r.role === 'teacher' ? 'teacher ' : ''}${r.model}/${r.variant}/s${r.seed}`,
    ]),
  )
  const multi = new cliProgress.MultiBar(
    {
      format: '{name} |{bar}| {percentage}% | {info}',
      barsize: 28,
      hideCursor: true,
      stream: process.stderr,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  )
  const overall = showBars ? multi.create(total, 0, { name: 'plan'.padEnd(28), info: 'starting' }) : null
  const current = showBars ? multi.create(1000, 0, { name: ''.padEnd(28), info: '' }) : null
  const started = Date.now()
  const finished = untilAllEnd(core, exp, label, { showBars, multi, overall, started })
  // A trainer's warnings (e.g. a GPU libtensorflow has no kernels for), once per message.
  const warned = new Set<string>()
  const offLog = core.on('runs:log', (l) => {
    if (l.runId !== null && !ids.has(l.runId)) return
    if (warned.has(l.message)) return
    warned.add(l.message)
    const line = `${l.level}: ${l.message}\n`
    if (showBars) multi.log(line)
    else process.stderr.write(line)
  })
  const offProgress = core.on('runs:progress', (p) => {
    if (!ids.has(p.runId)) return
    current?.update(Math.round(p.fraction * 1000), {
      name: (label.get(p.runId) ?? '').slice(0, 28).padEnd(28),
      info: `epoch ${p.epoch}/${p.epochs}, loss ${p.loss.toFixed(3)}, ${Math.round(p.samplesPerSec)}/s, ETA ${duration(p.etaMs)}`,
    })
  })
  // Ctrl-C / SIGTERM / SIGHUP: the host's signal handling (exit-codes.ts) cancels the running run
  // and interrupts the queued ones; each then ends here like any other run.
  try {
    await finished
  } finally {
    offProgress()
    offLog()
    multi.stop()
  }
  const d = core.plans.get(exp.id)
  process.stdout.write(
    `experiment ${exp.id} finished in ${duration(Date.now() - started)}: ${JSON.stringify(d.runCounts)}\n`,
  )
  if (d.runs.some((r) => r.status !== 'completed')) {
    process.stdout.write(`  resume it with: tfkd experiments resume ${exp.id}\n`)
  }
  return d
}

/**
 * Re-queues what did not complete and waits for it, one line per ended run; returns how the resumed
 * runs ended (the exit code follows them).
 */
async function resumeExperiment(core: AppCore, id: number): Promise<RunStatus[]> {
  const e = core.plans.get(id)
  // Every run that did not complete, unless another live tfkd process drives it.
  const todo = e.runs.filter(
    (r) => r.status !== 'completed' && core.runs.ownerOf(r.id).kind !== 'other-host',
  ).length
  if (!todo) {
    process.stdout.write(`experiment ${id}: nothing to resume\n`)
    return []
  }
  const ids = new Set(e.runs.map((r) => r.id))
  const ended: RunStatus[] = []
  const finished = new Promise<void>((resolve) => {
    core.on('runs:status', (s) => {
      if (ids.has(s.runId) && ['completed', 'failed', 'cancelled', 'interrupted'].includes(s.status)) {
        process.stdout.write(
          `  run ${s.runId}: ${s.status}${s.failureReason ? ` (${s.failureReason})` : ''}\n`,
        )
        ended.push(s.status)
        if (ended.length === todo) resolve()
      }
    })
  })
  core.plans.resume(id)
  process.stdout.write(`experiment ${id}: resuming ${todo} runs\n`)
  await finished
  return ended
}

export function registerExperimentCommands(program: Command, openCore: () => AppCore): void {
  const experiments = program
    .command('experiments')
    .description('list, show, cancel, resume, export (plan) or duplicate experiments')
  experiments
    .command('list', { isDefault: true })
    .description('list experiments')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const core = openCore()
      try {
        const list = core.plans.list()
        if (o.json) return void process.stdout.write(`${JSON.stringify(list, null, 2)}\n`)
        if (!list.length)
          return void process.stdout.write('no experiments yet; start one with `tfkd run --preset quick`\n')
        process.stdout.write(
          `${table(
            ['id', 'name', 'dataset', 'status', 'runs'],
            // The plan's state from its runs ("stopped · 1 interrupted ..."), not only the stored flag.
            list.map((e) => [
              String(e.id),
              e.name,
              e.datasetName,
              summarizePlan(e.runCounts, e.status).words,
              JSON.stringify(e.runCounts),
            ]),
          )}\n`,
        )
      } finally {
        await core.close()
      }
    })
  experiments
    .command('show <id>')
    .description("an experiment's runs")
    .action(async (id: string) => {
      const core = openCore()
      try {
        const e = core.plans.get(Number(id))
        process.stdout.write(`experiment ${e.id}: ${e.name} (${e.status})\n`)
        process.stdout.write(
          `${table(
            ['run', 'role', 'model', 'variant', 'seed', 'teacher', 'status', 'test acc', 'reason'],
            e.runs.map((r) => [
              String(r.id),
              r.role,
              r.model,
              r.variant,
              String(r.seed),
              r.teacherRunId ? String(r.teacherRunId) : '-',
              r.status,
              pct(r.testAccuracy),
              r.failureReason ?? '',
            ]),
          )}\n`,
        )
      } finally {
        await core.close()
      }
    })
  for (const verb of ['cancel', 'resume'] as const) {
    experiments
      .command(`${verb} <id>`)
      .description(
        verb === 'cancel'
          ? 'cancel its queued and running runs'
          : 'run what did not complete (interrupted runs continue from their checkpoint)',
      )
      .action(async (id: string) => {
        if (verb === 'resume') return withTrainingCore(openCore, (core) => resumeExperiment(core, Number(id)))
        const core = openCore()
        try {
          core.plans.cancel(Number(id))
          process.stdout.write(`experiment ${id} cancelled\n`)
        } finally {
          await core.close()
        }
      })
  }
  registerCompareCommand(program, openCore)
}

/** `tfkd compare`: the engine's comparison in one of the COMPARE_FORMATS. */
function registerCompareCommand(program: Command, openCore: () => AppCore): void {
  program
    .command('compare')
    .description("compare an experiment's variants: mean +- std over seeds, delta vs baseline, paired tests")
    .option('--experiment <id>', 'experiment id (default: the latest)')
    .option('--runs <ids>', 'compare these runs instead (comma-separated ids)')
    .option('--metric <which>', 'test accuracy at the best (validation-selected) or last epoch', 'best')
    .option('--format <fmt>', `output format: ${COMPARE_FORMATS.join(', ')}`, 'md')
    .action(async (o: { experiment?: string; runs?: string; metric: string; format: string }) => {
      if (!(COMPARE_FORMATS as readonly string[]).includes(o.format)) {
        throw new AppError(
          'invalid_input',
          `--format must be one of ${COMPARE_FORMATS.join(', ')}, got "${o.format}"`,
        )
      }
      if (o.metric !== 'best' && o.metric !== 'last') {
        throw new AppError('invalid_input', `--metric must be best or last, got "${o.metric}"`)
      }
      const core = openCore()
      try {
        const t = core.plans.compare({
          experimentId: o.experiment ? Number(o.experiment) : undefined,
          runIds: o.runs ? o.runs.split(',').map(Number) : undefined,
          metric: o.metric,
        })
        process.stdout.write(`${core.plans.format(t, o.format as CompareFormat)}\n`)
        // md and json carry the family in the table; csv and latex name it on stderr (stdout stays data).
        if ((o.format === 'csv' || o.format === 'latex') && t.holmFamily)
          process.stderr.write(
            `p (Holm) is adjusted over this table's ${t.holmFamily.length} comparison(s) with ${t.baseline}: ${t.holmFamily.join('; ') || 'none'}\n`,
          )
      } finally {
        await core.close()
      }
    })
}
