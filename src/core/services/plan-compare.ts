/**
 * Comparisons of an experiment's students: the runs' accuracies with what was measured of their
 * teachers, handed to the analysis engine (`compareRuns`), plus the K-dependence warnings.
 */
import { AppError } from '../../shared/errors'
import { kDependenceWarnings } from '../../shared/k-dependence'
import type { RunDetail, RunSummary } from '../../shared/types'
import { runDeviceLabel } from '../../shared/backends'
import type { ImportedTeacherRef } from '../../shared/onnx'
import { compareRuns, type ComparedRun, type ComparisonTable } from '../analysis/compare'
import type { Store } from '../store/store'

/** Which runs to compare: the given ids, else an experiment's (the latest when none is named). */
export interface CompareRequest {
  experimentId?: number
  runIds?: number[]
  metric?: 'best' | 'last'
  /** The variant the others are compared with (default baseline). */
  reference?: string
}

/**
 * The measured accuracy of the teacher snapshot that taught a student: the teacher's test accuracy
 * when its last epoch taught, else its validation accuracy at the snapshot epoch (test accuracy is
 * evaluated only at the best and last epochs). De-kd by target: whether no epoch reached the target.
 */
export function teacherMeasure(
  store: Store,
  d: RunDetail,
): {
  teacherAccuracy?: number | null
  teacherEpoch?: number | null
  teacherFellBack?: boolean
  /** Which split `teacherAccuracy` was measured on (test only at a teacher run's last epoch). */
  teacherAccuracySplit?: 'test' | 'validation' | null
} {
  const ref = d.config.teacher
  if (!ref) return {}
  const t = store.runs.detail(ref.runId)
  if (!t) return {}
  const epoch = d.teacherEpoch ?? ref.epoch ?? t.metrics.at(-1)?.epoch ?? null
  const atEpoch = t.metrics.find((m) => m.epoch === epoch)
  const accuracy =
    t.result && epoch === t.result.last.epoch ? t.result.last.accuracy : (atEpoch?.valAccuracy ?? null)
  const fellBack =
    ref.epoch === null && ref.targetAccuracy !== null && atEpoch !== undefined
      ? atEpoch.valAccuracy < ref.targetAccuracy
      : false
  const onTest = Boolean(t.result && epoch === t.result.last.epoch)
  return {
    teacherAccuracy: accuracy,
    teacherEpoch: epoch,
    teacherFellBack: fellBack,
    teacherAccuracySplit: accuracy === null ? null : onTest ? 'test' : 'validation',
  }
}

/** An imported teacher in a comparison: its name, measured test accuracy and file hash (lineage). */
function importedTeacherLabel(store: Store, ref: ImportedTeacherRef): string {
  const t = store.onnxTeachers.get(ref.id)
  const sha = (ref.sha256 ?? t?.sha256 ?? '?').slice(0, 8)
  if (!t) return `onnx:${ref.id} (deleted) sha256 ${sha}`
  // A run synced from another history whose teacher ids differ: never another file's name.
  if (ref.sha256 && ref.sha256 !== t.sha256) return `onnx:${ref.id} (not in this history) sha256 ${sha}`
  return `onnx:${t.name} (${(100 * t.testAccuracy).toFixed(2)}% test${t.nearChance ? ', near chance' : ''}) sha256 ${sha}`
}

/** K-dependence warnings of a set of runs (one dataset's K; mixed datasets give none). */
export function kWarnings(store: Store, list: readonly RunSummary[]): string[] {
  const students = list.filter((r) => r.role === 'student' && r.status === 'completed')
  const ds = new Set(students.map((r) => r.datasetId))
  if (ds.size !== 1) return []
  const k = store.datasets.get([...ds][0]!)?.classNames.length ?? 0
  if (k < 2) return []
  const configs = students.flatMap((r) => {
    const c = store.runs.detail(r.id)?.config
    return c ? [{ variant: c.variant, variantParams: c.variantParams }] : []
  })
  return kDependenceWarnings(configs, k)
}

/** The runs a comparison covers (students and teachers alike; `compareExperiment` keeps students). */
function runsToCompare(store: Store, opts: CompareRequest): RunSummary[] {
  if (opts.runIds?.length) {
    return opts.runIds.map((id) => {
      const r = store.runs.get(id)
      if (!r) throw new AppError('not_found', `run ${id} not found`)
      return r
    })
  }
  const e = opts.experimentId ? store.experiments.get(opts.experimentId) : store.experiments.latest()
  if (!e)
    throw new AppError(
      'not_found',
      opts.experimentId ? `experiment ${opts.experimentId} not found` : 'no experiments yet',
    )
  return store.runs.list({ experimentId: e.id, limit: 10_000 })
}

/** How a comparison row names a student's teacher: imported file, or teacher model and snapshot. */
function teacherLabel(store: Store, d: RunDetail): string | undefined {
  if (d.config.importedTeacher) return importedTeacherLabel(store, d.config.importedTeacher)
  const ref = d.config.teacher
  if (!ref) return undefined
  const snapshot = ref.epoch
    ? `@e${ref.epoch}`
    : ref.targetAccuracy
      ? `@>=${(ref.targetAccuracy * 100).toFixed(0)}%`
      : ''
  return `${store.runs.get(ref.runId)?.model ?? '?'}${snapshot}`
}

/** A completed student as the analysis engine sees it. */
function comparedRun(store: Store, r: RunSummary): ComparedRun {
  const d = store.runs.detail(r.id)!
  const ref = d.config.importedTeacher
  const found = ref ? store.onnxTeachers.get(ref.id) : undefined
  // An id that names another file in this history (a run synced from elsewhere) measures nothing.
  const imported = found && (!ref?.sha256 || ref.sha256 === found.sha256) ? found : undefined
  const measured = imported ? { teacherAccuracy: imported.testAccuracy } : ref ? {} : teacherMeasure(store, d)
  return {
    variant: r.variant,
    seed: r.seed,
    model: r.model,
    teacher: teacherLabel(store, d),
    bestTestAccuracy: d.result?.best.accuracy ?? r.testAccuracy ?? undefined,
    lastTestAccuracy: d.result?.last.accuracy ?? r.testAccuracy ?? undefined,
    selection: d.result?.selection,
    ...measured,
    device: runDeviceLabel(r),
  }
}

/** The engine's comparison of an experiment's students (or of any runs). */
export function compareExperiment(store: Store, opts: CompareRequest): ComparisonTable {
  const list = runsToCompare(store, opts)
  const rows = list
    .filter((r) => r.role === 'student' && r.status === 'completed')
    .map((r) => comparedRun(store, r))
  // Accuracies are k / (test-set size): differences are compared at that resolution.
  const testSizes = new Set(list.map((r) => store.datasets.get(r.datasetId)?.counts.test ?? 0))
  const testSize = testSizes.size === 1 ? [...testSizes][0]! : 0
  const table = compareRuns(rows, {
    metric: opts.metric ?? 'best',
    ...(opts.reference ? { baseline: opts.reference } : {}),
    ...(testSize > 0 ? { resolution: 1 / testSize } : {}),
  })
  table.warnings.push(...kWarnings(store, list))
  return table
}
