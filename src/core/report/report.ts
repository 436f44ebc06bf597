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
import type { RunDetail, RunSummary, VariantId } from '../../shared/types'
import { learnsFromSnapshots } from '../../shared/variants'
import { evaluateStudy, type StudyStudent } from '../analysis/claims'
import { compareRuns } from '../analysis/compare'
import { mean } from '../analysis/stats'
import { kWarnings } from '../services/plan-compare'
import { extraArms } from './extra-arms'
import { studyRegime } from './regime'
import { buildAppendix } from './appendix'
import type { Store } from '../store/store'

export interface ReportOptions {
  alpha?: number
  /**
   * Margin of "comparable" / "at least as good" (fraction). Default: the one stored in the plan before
   * the study ran, else 0.005; given here, it overrides the plan's and the report says so.
   */
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
      ...(plan.reproduce.margin !== undefined ? { margin: plan.reproduce.margin } : {}),
      // Studies planned before the choice was recorded ran the repository's values.
      hyperparameters: plan.reproduce.hyperparameters ?? 'repository',
    })
  }
  return `tfkd run --plan plan.json   # plan.json: the configuration below (experiment ${experimentId})`
}

/**
 * What a student's teacher measured, and on which split: an imported ONNX teacher's accuracy measured
 * at import on the test split; a trained teacher's test accuracy when the snapshot that taught is its
 * last or best epoch (the epochs the trainer evaluates on test), else its validation accuracy at that
 * epoch (which cannot verify a premise).
 */
function teacherOf(
  store: Store,
  d: RunDetail,
): Pick<
  StudyStudent,
  'teacherAccuracy' | 'teacherSplit' | 'teacherEpoch' | 'teacherId' | 'teacherSnapshot' | 'teacherFellBack'
> {
  const none = { teacherAccuracy: null, teacherSplit: null, teacherEpoch: null, teacherFellBack: false }
  const imp = d.config.importedTeacher
  if (imp) {
    const t = store.onnxTeachers.get(imp.id)
    const same = t && (!imp.sha256 || imp.sha256 === t.sha256)
    return same
      ? { ...none, teacherAccuracy: t.testAccuracy, teacherSplit: 'test', teacherId: `onnx:${imp.id}` }
      : { ...none, teacherId: `onnx:${imp.id}` }
  }
  const ref = d.config.teacher
  const t = ref ? store.runs.detail(ref.runId) : undefined
  if (!ref || !t) return none
  const epoch = d.teacherEpoch ?? ref.epoch ?? t.metrics.at(-1)?.epoch ?? null
  const onTest = [t.result?.last, t.result?.best].find((r) => r && r.epoch === epoch)
  const atEpoch = t.metrics.find((m) => m.epoch === epoch)
  const snapshot = ref.epoch
    ? `epoch ${ref.epoch}`
    : ref.targetAccuracy
      ? `first epoch >= ${(100 * ref.targetAccuracy).toFixed(0)}%`
      : null
  return {
    teacherAccuracy: onTest ? onTest.accuracy : (atEpoch?.valAccuracy ?? null),
    teacherSplit: onTest ? 'test' : atEpoch ? 'validation' : null,
    teacherEpoch: epoch,
    teacherId: ref.runId,
    teacherSnapshot: snapshot,
    teacherFellBack:
      ref.epoch === null && ref.targetAccuracy !== null && atEpoch !== undefined
        ? atEpoch.valAccuracy < ref.targetAccuracy
        : false,
  }
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
    const s = {
      variant: r.variant,
      seed: r.seed,
      accuracy: d.result.best.accuracy,
      ...teacherOf(store, d),
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
        teacherAccuracySplit: s.teacherSplit ?? null,
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
  const stored = plan?.reproduce?.margin
  const margin = opts.margin ?? (stored !== undefined ? stored / 100 : 0.005)
  const marginSource = opts.margin !== undefined ? 'report' : stored !== undefined ? 'plan' : 'default'
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
  if (marginSource === 'report' && stored !== undefined && Math.abs(stored / 100 - margin) > 1e-12)
    warnings.push(
      `the margin ±${(100 * margin).toFixed(2)} pp was given at report time, not the ±${stored.toFixed(2)} pp the plan fixed before the study: the "comparable" and "at least as good" verdicts were not pre-registered`,
    )
  const unfinished = runs.filter((r) => r.status !== 'completed')
  if (unfinished.length) {
    warnings.push(
      `${unfinished.length} of ${runs.length} runs did not complete (${[...new Set(unfinished.map((r) => r.status))].join(', ')}); they are left out`,
    )
  }
  const evaluation = evaluateStudy(students, {
    alpha,
    margin,
    resolution,
    ...(plan ? { planned: plan.variants } : {}),
  })
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
    marginSource,
    family: evaluation.family,
    resolution,
    claims: evaluation.claims,
    extraArms: extraArms(students, { resolution }),
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
