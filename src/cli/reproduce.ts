/**
 * `tfkd reproduce`: plans and runs the study that tests the paper's four claims on a dataset, then
 * writes its report; `tfkd report`: the report of any experiment, as Markdown, LaTeX or HTML.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { InvalidArgumentError, Option, type Command } from 'commander'
import { AppError } from '../shared/errors'
import {
  checkMarginPp,
  DEFAULT_MARGIN_PP,
  MARGIN_MAX_PP,
  MARGIN_MIN_PP,
  REPRODUCE_HYPERPARAMETERS,
  REPRODUCE_SCALES,
  reproducePlan,
  SCALE_DESCRIPTIONS,
  shownVerdict,
  type ReproduceHyperparameters,
  type ReproduceScale,
} from '../shared/reproduce'
import { regimeSentences } from '../shared/regime'
import type { AppCore } from '../core/app/app-core'
import { buildReport } from '../core/report/report'
import { REPORT_FORMATS, renderReport, type ReportFormat } from '../core/report/render'
import { withTrainingCore } from './exit-codes'
import { runPlan } from './experiments'
import type { ExperimentPlanInput } from '../shared/plan'
import { powerLines, studyPower } from '../shared/study-power'
import { plannedSpread, seedsWithinBudget } from '../core/report/pilot'
import { plannedRegimeLines } from '../core/report/regime'

function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v)
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(`${name} must be a whole number >= 1, got "${v}"`)
    return n
  }
}

/** `--margin <pp>`: percentage points, in the range the plan accepts; returned in pp. */
function marginPp(v: string): number {
  try {
    return checkMarginPp(Number(v.trim() === '' ? NaN : v), '--margin')
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message)
  }
}

const MARGIN_HELP =
  `margin of "comparable to" (TOST) and "at least as good as" (non-inferiority), in percentage points ` +
  `(${MARGIN_MIN_PP} to ${MARGIN_MAX_PP}; default ${DEFAULT_MARGIN_PP}, i.e. ±${DEFAULT_MARGIN_PP} pp of accuracy)`

/** Writes the report files; returns their paths. */
function writeReport(core: AppCore, experimentId: number, dir: string, version: string): string[] {
  const report = buildReport(core.store, experimentId, { appVersion: version })
  mkdirSync(dir, { recursive: true })
  return (['md', 'html'] as const).map((f) => {
    const path = join(dir, `tfkd-report-${experimentId}.${f}`)
    writeFileSync(path, renderReport(report, f))
    return path
  })
}

/** Writes the report files and prints each claim's verdict with its first comparison. */
function printVerdicts(core: AppCore, experimentId: number, out: string, version: string): void {
  const paths = writeReport(core, experimentId, out, version)
  const report = buildReport(core.store, experimentId, { appVersion: version })
  process.stdout.write('\n')
  if (report.regime) for (const line of regimeSentences(report.regime)) process.stdout.write(`${line}\n`)
  process.stdout.write('\n')
  for (const c of report.claims) {
    const p = c.comparisons[0]!
    process.stdout.write(
      `${shownVerdict(report, c).toUpperCase().padEnd(18)} ${c.title}\n${''.padEnd(19)}${p.variant} vs ${p.reference}: Δ ${(100 * p.delta).toFixed(2)} pp, p (Holm) ${Number.isNaN(p.pHolm) ? '-' : p.pHolm.toPrecision(3)}; ${c.reason}\n${''.padEnd(19)}${c.power}\n`,
    )
  }
  process.stdout.write(`\nreport: ${paths.join(', ')}\n`)
}

function seedsOption(v: string): number | 'auto' {
  return v === 'auto' ? 'auto' : positiveInt('--seeds')(v)
}

interface ReproduceOptions {
  dataset: string
  scale: ReproduceScale
  seeds: number | 'auto'
  budget?: number
  hyperparameters: ReproduceHyperparameters
  out: string
  margin?: number
  dryRun?: boolean
  progress: boolean
}

/**
 * The study's plan, after stating (stdout; stderr with --dry-run, whose stdout is JSON) the power it
 * will have and the seeds it suggests, and the hyperparameters' regime at the dataset's K. `--seeds
 * auto` takes the suggestion within `--budget`; a budget smaller than the plan refuses it.
 */
function planStudy(core: AppCore, o: ReproduceOptions): ExperimentPlanInput {
  const say = (line: string) => (o.dryRun ? process.stderr : process.stdout).write(`${line}\n`)
  const make = (seeds: number) =>
    reproducePlan({
      dataset: o.dataset,
      scale: o.scale,
      seeds,
      hyperparameters: o.hyperparameters,
      ...(o.margin !== undefined ? { margin: o.margin } : {}),
    })
  const prepared = core.plans.prepare(make(3))
  const runsFor = (seeds: number) => {
    const p = core.plans.preview(make(seeds))
    return p.teachers + p.students
  }
  const spread = plannedSpread(core.store, prepared.ds.id, o.scale)
  let seeds: number
  if (o.seeds === 'auto') {
    const suggested = studyPower(3, spread).suggestedSeeds
    const pick = seedsWithinBudget(suggested, o.budget ?? null, runsFor)
    seeds = pick.seeds
    const short = `, the most that fit --budget ${o.budget} (80% power on every claim needs ${suggested ?? 'more than 100'})`
    say(`--seeds auto: ${seeds} seeds, ${pick.runs} runs${pick.limitedBy === 'budget' ? short : ''}`)
  } else {
    seeds = o.seeds
    if (o.budget !== undefined && runsFor(seeds) > o.budget)
      throw new AppError(
        'invalid_input',
        `--budget: ${seeds} seeds plan ${runsFor(seeds)} runs, more than the budget of ${o.budget}; lower --seeds or use --seeds auto`,
      )
  }
  for (const line of powerLines(studyPower(seeds, spread))) say(line)
  for (const line of plannedRegimeLines(prepared.ds.classNames.length, o.hyperparameters, prepared.configs))
    say(line)
  return make(seeds)
}

export function registerReproduceCommands(program: Command, openCore: () => AppCore, version: string): void {
  program
    .command('reproduce')
    .description(
      "test the paper's four claims on a dataset: plans every variant over seeds, runs it, writes the report",
    )
    .requiredOption('--dataset <id|name>', 'dataset id or name')
    .addOption(
      new Option('--scale <scale>', REPRODUCE_SCALES.map((s) => `${s}: ${SCALE_DESCRIPTIONS[s]}`).join('; '))
        .choices([...REPRODUCE_SCALES])
        .default('smoke'),
    )
    .option(
      '--seeds <n|auto>',
      'number of seeds (at least 3 for a verdict), or auto: the seeds for 80% power on every claim, within --budget',
      seedsOption,
      3,
    )
    .option(
      '--budget <runs>',
      'the most runs (teachers + students) the study may plan; --seeds auto picks the most seeds that fit',
      positiveInt('--budget'),
    )
    .addOption(
      new Option(
        '--hyperparameters <form>',
        "k-matched: the KL multipliers scaled by K / 100, so the distillation weights are the repository's at K = 100; repository: its values as they are (tuned at K = 100)",
      )
        .choices([...REPRODUCE_HYPERPARAMETERS])
        .default('k-matched'),
    )
    .option('--out <dir>', 'folder for tfkd-report-<id>.md and .html', '.')
    .option('--margin <pp>', `${MARGIN_HELP}; stored in the plan before the study runs`, marginPp)
    .option('--dry-run', 'print the plan (runs, teachers) and its power without running it')
    .option('--no-progress', 'no progress bars')
    .action(async (o: ReproduceOptions) => {
      if (o.dryRun) {
        const core = openCore()
        try {
          const plan = planStudy(core, o)
          process.stdout.write(`${JSON.stringify(core.plans.preview(plan), null, 2)}\n`)
        } finally {
          await core.close()
        }
        return
      }
      await withTrainingCore(openCore, async (core) => {
        const plan = planStudy(core, o)
        const exp = await runPlan(core, plan, o.progress !== false && process.stderr.isTTY)
        printVerdicts(core, exp.id, resolve(o.out), version)
        return exp.runs.map((r) => r.status)
      })
    })

  registerReportCommand(program, openCore, version)
}

/** `tfkd report`: an existing experiment's reproduction report. */
function registerReportCommand(program: Command, openCore: () => AppCore, version: string): void {
  program
    .command('report')
    .description("an experiment's reproduction report: the four claims, figures, environment, rerun command")
    .option('--experiment <id>', 'experiment id (default: the latest)')
    .option('--format <fmt>', `output format: ${REPORT_FORMATS.join(', ')}`, 'md')
    .option('--out <file>', 'write to this file instead of stdout')
    .option(
      '--margin <pp>',
      `${MARGIN_HELP}; default: the margin the plan stored before the study (overriding it is reported as not pre-registered)`,
      marginPp,
    )
    .action(async (o: { experiment?: string; format: string; out?: string; margin?: number }) => {
      if (!(REPORT_FORMATS as readonly string[]).includes(o.format)) {
        throw new AppError(
          'invalid_input',
          `--format must be one of ${REPORT_FORMATS.join(', ')}, got "${o.format}"`,
        )
      }
      const core = openCore()
      try {
        const id = o.experiment ? Number(o.experiment) : core.plans.latest()?.id
        if (id === undefined || !Number.isInteger(id))
          throw new AppError(
            'not_found',
            o.experiment ? `experiment "${o.experiment}" not found` : 'no experiments yet',
          )
        const text = renderReport(
          buildReport(core.store, id, {
            appVersion: version,
            ...(o.margin !== undefined ? { margin: o.margin / 100 } : {}),
          }),
          o.format as ReportFormat,
        )
        if (o.out) writeFileSync(o.out, text)
        else process.stdout.write(text)
      } finally {
        await core.close()
      }
    })
}
