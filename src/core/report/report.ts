/**
 * The reproduction report of an experiment, as data: the four claims tested on its students (see
 * analysis/claims.ts), per-seed accuracies, validation curves, the De-KD teacher-accuracy points, the
 * teachers, the configuration, the environment and the command that reruns it. Rendered to Markdown,
 * LaTeX and HTML by render.ts; shown by the Report view.
 */
import { cpus, totalmem } from 'node:os'
import { AppError } from '../../shared/errors'
import type { ResolvedPlan } from '../../shared/plan'
import { reproduceCommand, type ReportEnvironment, type ReproReport } from '../../shared/reproduce'
import type { RunSummary, VariantId } from '../../shared/types'
import { learnsFromSnapshots } from '../../shared/variants'
import { evaluateClaims, type StudyStudent } from '../analysis/claims'
import { compareRuns } from '../analysis/compare'
import { mean } from '../analysis/stats'
import { kWarnings, teacherMeasure } from '../services/plan-compare'
import { studyRegime } from './regime'
import { buildAppendix } from './appendix'
import type { Store } from '../store/store'

export interface ReportOptions {
  alpha?: number
  /** Non-inferiority margin (fraction), default 0.005. */
  margin?: number
  appVersion: string
  /** Injected for reproducible tests; default Date.now(). */
  now?: number
}

/** Where the report was computed: versions, machine, the backends and devices the runs used. */
export function collectEnvironment(appVersion: string, runs: readonly RunSummary[]): ReportEnvironment {
  const cpu = cpus()
  return {
    appVersion,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    backends: [...new Set(runs.map((r) => r.backend).filter((b): b is string => Boolean(b)))],
    devices: [...new Set(runs.map((r) => r.device).filter((d): d is string => Boolean(d)))],
  }
}

function rerunCommand(plan: ResolvedPlan | null, datasetName: string, experimentId: number): string {
  if (plan?.reproduce) {
    return reproduceCommand({
      dataset: datasetName,
      scale: plan.reproduce.scale,
      seeds: plan.reproduce.seeds,
      // Studies planned before the choice was recorded ran the repository's values.
      hyperparameters: plan.reproduce.hyperparameters ?? 'repository',
    })
  }
  return `tfkd run --plan plan.json   # plan.json: the configuration below (experiment ${experimentId})`
}

/** The completed students' best accuracies, validation curves by variant and De-KD snapshot pairs. */
function collectStudents(
  store: Store,
  done: readonly RunSummary[],
): {
  students: (StudyStudent & { selection?: string })[]
  curves: Map<VariantId, Map<number, number[]>>
  deKd: ReproReport['deKd']
} {
  const students: (StudyStudent & { selection?: string })[] = []
  const curves = new Map<VariantId, Map<number, number[]>>()
  const deKd: ReproReport['deKd'] = []
  for (const r of done.filter((x) => x.role === 'student')) {
    const d = store.runs.detail(r.id)
    if (!d?.result) continue
    const m = teacherMeasure(store, d)
    const s = {
      variant: r.variant,
      seed: r.seed,
      accuracy: d.result.best.accuracy,
      teacherAccuracy: m.teacherAccuracy ?? null,
      teacherEpoch: m.teacherEpoch ?? null,
      teacherFellBack: m.teacherFellBack ?? false,
      selection: d.result.selection,
    }
    students.push(s)
    const byEpoch = curves.get(r.variant) ?? new Map<number, number[]>()
    for (const em of d.metrics) byEpoch.set(em.epoch, [...(byEpoch.get(em.epoch) ?? []), em.valAccuracy])
    curves.set(r.variant, byEpoch)
    if (learnsFromSnapshots(r.variant) && s.teacherAccuracy !== null && s.teacherEpoch !== null) {
      deKd.push({
        seed: r.seed,
        teacherEpoch: s.teacherEpoch,
        teacherAccuracy: s.teacherAccuracy,
        teacherAccuracySplit: m.teacherAccuracySplit ?? null,
        studentAccuracy: s.accuracy,
        fellBack: s.teacherFellBack,
      })
    }
  }
  return { students, curves, deKd }
}

/** Builds the report of experiment `experimentId` from the store. */
export function buildReport(store: Store, experimentId: number, opts: ReportOptions): ReproReport {
  const e = store.experiments.get(experimentId)
  if (!e) throw new AppError('not_found', `experiment ${experimentId} not found`)
  const plan = (e.plan ?? null) as ResolvedPlan | null
  const runs = store.runs.list({ experimentId, limit: 10_000 }).reverse()
  const done = runs.filter((r) => r.status === 'completed')
  const { students, curves, deKd } = collectStudents(store, done)
  const ds = store.datasets.get(e.datasetId)
  const testSize = ds?.counts.test ?? 0
  const resolution = testSize > 0 ? 1 / testSize : 1e-12
  const alpha = opts.alpha ?? 0.05
  const margin = opts.margin ?? 0.005
  const table = compareRuns(
    students.map((s) => ({
      variant: s.variant,
      seed: s.seed,
      bestTestAccuracy: s.accuracy,
      selection: s.selection as 'validation' | 'test (no validation split)' | undefined,
    })),
    { resolution, alpha },
  )
  const warnings = [...table.warnings, ...kWarnings(store, runs)]
  const unfinished = runs.filter((r) => r.status !== 'completed')
  if (unfinished.length) {
    warnings.push(
      `${unfinished.length} of ${runs.length} runs did not complete (${[...new Set(unfinished.map((r) => r.status))].join(', ')}); they are left out`,
    )
  }
  return {
    experimentId,
    name: e.name,
    datasetName: e.datasetName,
    study: plan?.reproduce ?? null,
    regime: ds ? studyRegime(store, runs, ds.classNames.length, plan?.reproduce ?? null) : null,
    appendix: ds ? buildAppendix(store, runs, ds.classNames, resolution) : null,
    selection: table.selection,
    alpha,
    margin,
    resolution,
    claims: evaluateClaims(students, { alpha, margin, resolution }),
    perSeed: students.map((s) => ({ variant: s.variant, seed: s.seed, accuracy: s.accuracy })),
    curves: [...curves].map(([variant, byEpoch]) => ({
      variant,
      points: [...byEpoch]
        .sort((a, b) => a[0] - b[0])
        .map(([ep, accs]): [number, number] => [ep, mean(accs)]),
    })),
    deKd,
    teachers: done
      .filter((r) => r.role === 'teacher')
      .map((r) => ({
        runId: r.id,
        model: r.model,
        seed: r.seed,
        accuracy: store.runs.detail(r.id)?.result?.last.accuracy ?? r.testAccuracy,
        epochs: r.epochsDone,
      })),
    runCounts: e.runCounts,
    config: plan,
    environment: collectEnvironment(opts.appVersion, runs),
    command: rerunCommand(plan, e.datasetName, experimentId),
    warnings,
    createdAt: opts.now ?? Date.now(),
  }
}
