/**
 * Experiment plans: expands a plan into runs (teachers once, reused by every student), stores the
 * experiment and all its runs in one transaction with their lineage, and queues them. Plans can be
 * cancelled and resumed (cut-off runs continue from their last epoch checkpoint).
 */
import { ZodError } from 'zod'
import { AppError } from '../../shared/errors'
import {
  expandPlan,
  presetDataProblem,
  resolvePlan,
  type ExperimentPlanInput,
  type PlannedRun,
  type ResolvedPlan,
  type TeacherSlot,
} from '../../shared/plan'
import { resolveRunConfig } from '../../shared/schemas'
import { kDependenceWarnings, type KParams } from '../../shared/k-dependence'
import { teacherSlotOf, variantsTaughtBy } from '../../shared/variants'
import type { ExperimentDetail, RunConfig, RunDetail, RunSummary } from '../../shared/types'
import { runDeviceLabel } from '../../shared/backends'
import { isActiveRunStatus } from '../../shared/run-states'
import { compareRuns, formatComparison, type ComparisonTable } from '../analysis/compare'
import { isModelId, MODEL_CATALOG, type ModelId } from '../models/catalog'
import type { DatasetRecord, Store } from '../store/store'
import type { RunService } from './run-service'
import type { ImportedTeacherRef } from '../../shared/onnx'
import { checkImportedTeacher } from './teacher-service'

function zodToAppError(err: unknown, prefix: string): never {
  if (err instanceof ZodError) {
    const i = err.issues[0]!
    const where = i.path.join('.')
    const message =
      i.code === 'unrecognized_keys'
        ? `${prefix}${where ? `${where}: ` : ''}unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}`
        : `${prefix}${where || '?'}: ${i.message}`
    throw new AppError('invalid_input', message, {
      field: i.path.join('.'),
      issues: err.issues.map((x) => ({ path: x.path.join('.'), message: x.message })),
    })
  }
  throw err
}

function checkModels(plan: ResolvedPlan): void {
  for (const [field, id] of [
    ['student', plan.student],
    ['strongerTeacher', plan.strongerTeacher],
    ['weakerTeacher', plan.weakerTeacher],
  ] as const) {
    if (!isModelId(id)) {
      throw new AppError(
        'invalid_input',
        `${field}: unknown model "${id}"; known: ${Object.keys(MODEL_CATALOG).join(', ')}`,
        {
          field,
        },
      )
    }
  }
  const strength = (id: string) => MODEL_CATALOG[id as ModelId].strength
  // Which teachers the plan needs follows from its variants' declared teacher kinds.
  const slots = new Set(plan.variants.map(teacherSlotOf))
  const who = (slot: TeacherSlot) => {
    const ids = variantsTaughtBy(slot)
    return `${ids.join(' and ')} need${ids.length === 1 ? 's' : ''}`
  }
  // An imported teacher's strength is what its measured accuracy says, not a catalog rank.
  const imported = plan.importedTeachers
  if (
    slots.has('stronger') &&
    imported.stronger === undefined &&
    strength(plan.strongerTeacher) <= strength(plan.student)
  ) {
    throw new AppError(
      'invalid_input',
      `strongerTeacher: ${plan.strongerTeacher} is not stronger than the student ${plan.student} (${who('stronger')} a stronger teacher)`,
      { field: 'strongerTeacher' },
    )
  }
  if (
    slots.has('weaker') &&
    imported.weaker === undefined &&
    strength(plan.weakerTeacher) >= strength(plan.student)
  ) {
    throw new AppError(
      'invalid_input',
      `weakerTeacher: ${plan.weakerTeacher} is not weaker than the student ${plan.student} (${who('weaker')} a weaker teacher)`,
      { field: 'weakerTeacher' },
    )
  }
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
  return { teacherAccuracy: accuracy, teacherEpoch: epoch, teacherFellBack: fellBack }
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

/** A validated, expanded plan: what `start` stores and queues. */
export interface PreparedPlan {
  plan: ResolvedPlan
  ds: DatasetRecord
  planned: PlannedRun[]
  /** Resolved configs, by index of `planned` (teacher: null; the planner fills in lineage). */
  configs: RunConfig[]
}

export interface PlanPreview {
  name: string
  dataset: {
    name: string
    inputShape: [number, number, number]
    classes: number
    counts: { train: number; test: number }
  }
  teachers: number
  students: number
  runs: {
    key: string
    role: string
    model: string
    variant: string
    seed: number
    epochs: number
    splitSeed: number
    maxTrainSamples: number
    teacher: string | null
  }[]
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
    return c ? [{ variant: c.variant, variantParams: c.variantParams as KParams }] : []
  })
  return kDependenceWarnings(configs, k)
}

export function createPlanService(deps: { store: Store; runs: RunService }) {
  const { store, runs } = deps

  /** Validates and expands a plan without storing anything (start and preview share it). */
  function prepare(input: ExperimentPlanInput): PreparedPlan {
    let plan: ResolvedPlan
    try {
      plan = resolvePlan(input)
    } catch (err) {
      zodToAppError(err, 'plan: ')
    }
    checkModels(plan)
    const ds = plan.dataset
      ? /^\d+$/.test(plan.dataset)
        ? store.datasets.get(Number(plan.dataset))
        : store.datasets.byName(plan.dataset)
      : undefined
    if (plan.dataset && !ds)
      throw new AppError('not_found', `dataset "${plan.dataset}" not found`, { field: 'dataset' })
    const dataProblem = presetDataProblem(
      plan.preset,
      ds ? { name: ds.name, inputShape: ds.inputShape, classCount: ds.classNames.length } : null,
    )
    if (dataProblem) throw new AppError('invalid_input', dataProblem, { field: 'dataset' })
    if (!ds) throw new AppError('not_found', `dataset "${plan.dataset}" not found`, { field: 'dataset' })
    for (const [slot, runId] of Object.entries(plan.reuseTeachers)) {
      const t = store.runs.get(runId)
      if (!t) throw new AppError('not_found', `reuseTeachers.${slot}: run ${runId} not found`)
      if (t.status !== 'completed' || t.datasetId !== ds.id) {
        throw new AppError(
          'invalid_input',
          `reuseTeachers.${slot}: run ${runId} must be a completed run on ${ds.name} (it is ${t.status} on ${t.datasetName})`,
        )
      }
    }
    // Imported teachers: checked once, their hash recorded in every student's config.
    const importedRefs = new Map<number, ImportedTeacherRef>()
    for (const [slot, id] of Object.entries(plan.importedTeachers)) {
      try {
        importedRefs.set(id, checkImportedTeacher(store, { id }, ds))
      } catch (err) {
        if (err instanceof AppError)
          throw new AppError(err.code, `importedTeachers.${slot}: ${err.message}`, err.details)
        throw err
      }
    }
    const planned = expandPlan(plan)
    // Resolve every config (variant defaults, per-model values) before writing anything.
    const configs = planned.map((p) => {
      try {
        const importedTeacher = p.config.importedTeacher
          ? importedRefs.get(p.config.importedTeacher.id)
          : undefined
        return resolveRunConfig({
          ...p.config,
          dataset: String(ds.id),
          teacher: null,
          ...(importedTeacher ? { importedTeacher } : {}),
        })
      } catch (err) {
        if (err instanceof AppError) throw new AppError(err.code, `${p.key}: ${err.message}`, err.details)
        throw err
      }
    })
    return { plan, ds, planned, configs }
  }

  function detail(id: number): ExperimentDetail {
    const e = store.experiments.get(id)
    if (!e) throw new AppError('not_found', `experiment ${id} not found`)
    return { ...e, runs: store.runs.list({ experimentId: id, limit: 10_000 }).reverse() }
  }

  return {
    /**
     * Validates and expands a plan without storing anything: the resolved plan, its dataset and every
     * run with its resolved config. `start` stores and queues this; `tfkd cluster submit` writes it
     * to a job folder instead.
     */
    prepare,
    /** Validates, stores and queues a plan. Returns the experiment with its runs (all queued). */
    start(input: ExperimentPlanInput): ExperimentDetail {
      const { plan, ds, planned, configs } = prepare(input)
      const runIds = store.db.transaction(() => {
        const experimentId = store.experiments.insert({ name: plan.name, datasetId: ds.id, plan })
        // Teacher run ids by planned key ('teacher:stronger', 'teacher:stronger:3', 'reuse:self').
        const teacherRun = new Map<string, number>(
          Object.entries(plan.reuseTeachers).map(([slot, runId]) => [`reuse:${slot}`, runId]),
        )
        const ids: number[] = []
        planned.forEach((p, i) => {
          const teacher = p.teacher
            ? {
                runId: teacherRun.get(p.teacher.key)!,
                epoch: p.teacher.epoch,
                targetAccuracy: p.teacher.targetAccuracy ?? null,
              }
            : null
          const run = store.runs.insert({
            experimentId,
            datasetId: ds.id,
            config: { ...configs[i]!, teacher },
            teacherRunId: teacher?.runId ?? null,
            role: p.role,
          })
          if (p.role === 'teacher') teacherRun.set(p.key, run.id)
          ids.push(run.id)
        })
        return { experimentId, ids }
      })()
      runs.enqueue(runIds.ids)
      return detail(runIds.experimentId)
    },
    /** What a plan would run, without storing or queueing anything. */
    preview(input: ExperimentPlanInput): PlanPreview {
      const { plan, ds, planned, configs } = prepare(input)
      return {
        name: plan.name,
        dataset: {
          name: ds.name,
          inputShape: ds.inputShape,
          classes: ds.classNames.length,
          counts: ds.counts,
        },
        teachers: planned.filter((p) => p.role === 'teacher').length,
        students: planned.filter((p) => p.role === 'student').length,
        runs: planned.map((p, i) => ({
          key: p.key,
          role: p.role,
          model: configs[i]!.model,
          variant: configs[i]!.variant,
          seed: configs[i]!.seed,
          epochs: configs[i]!.epochs,
          splitSeed: configs[i]!.splitSeed ?? configs[i]!.seed,
          maxTrainSamples: configs[i]!.maxTrainSamples,
          teacher: p.teacher ? `${p.teacher.key}${p.teacher.epoch ? `@${p.teacher.epoch}` : ''}` : null,
        })),
      }
    },
    get: detail,
    list: () => store.experiments.list(),
    latest: () => store.experiments.latest(),
    /**
     * Cancels every queued or running run of the experiment, including runs left behind by a host
     * that is gone. Runs another live host drives are left to it (their ids come back in `skipped`).
     */
    cancel(id: number): ExperimentDetail {
      const d = detail(id)
      store.experiments.setStatus(id, 'cancelled')
      // Students first, so none starts in the moment a teacher is cancelled.
      for (const r of [...d.runs].reverse()) {
        if (!isActiveRunStatus(r.status)) continue
        try {
          runs.cancel(r.id)
        } catch (err) {
          if (!(err instanceof AppError && err.code === 'conflict')) throw err
        }
      }
      return detail(id)
    },
    /**
     * Re-queues every run that did not complete, whatever its state: cut-off runs continue from
     * their checkpoint, runs left queued or running by a host that is gone are taken over.
     */
    resume(id: number): ExperimentDetail {
      const d = detail(id)
      store.experiments.setStatus(id, 'active')
      runs.enqueue(d.runs.filter((r) => r.status !== 'completed').map((r) => r.id))
      return detail(id)
    },
    /** The engine's comparison of an experiment's students (or of any runs). */
    compare(opts: { experimentId?: number; runIds?: number[]; metric?: 'best' | 'last' }): ComparisonTable {
      let list: RunSummary[]
      if (opts.runIds?.length) {
        list = opts.runIds.map((id) => {
          const r = store.runs.get(id)
          if (!r) throw new AppError('not_found', `run ${id} not found`)
          return r
        })
      } else {
        const e = opts.experimentId ? store.experiments.get(opts.experimentId) : store.experiments.latest()
        if (!e)
          throw new AppError(
            'not_found',
            opts.experimentId ? `experiment ${opts.experimentId} not found` : 'no experiments yet',
          )
        list = store.runs.list({ experimentId: e.id, limit: 10_000 })
      }
      const rows = list
        .filter((r) => r.role === 'student' && r.status === 'completed')
        .map((r) => {
          const d = store.runs.detail(r.id)!
          const ref = d.config.importedTeacher
          const found = ref ? store.onnxTeachers.get(ref.id) : undefined
          const imported = found && (!ref?.sha256 || ref.sha256 === found.sha256) ? found : undefined
          const measured = imported
            ? { teacherAccuracy: imported.testAccuracy }
            : ref
              ? {}
              : teacherMeasure(store, d)
          const teacher = d.config.importedTeacher
            ? importedTeacherLabel(store, d.config.importedTeacher)
            : d.config.teacher
              ? `${store.runs.get(d.config.teacher.runId)?.model ?? '?'}${
                  d.config.teacher.epoch
                    ? `@e${d.config.teacher.epoch}`
                    : d.config.teacher.targetAccuracy
                      ? `@>=${(d.config.teacher.targetAccuracy * 100).toFixed(0)}%`
                      : ''
                }`
              : undefined
          return {
            variant: r.variant,
            seed: r.seed,
            model: r.model,
            teacher,
            bestTestAccuracy: d.result?.best.accuracy ?? r.testAccuracy ?? undefined,
            lastTestAccuracy: d.result?.last.accuracy ?? r.testAccuracy ?? undefined,
            selection: d.result?.selection,
            ...measured,
            device: runDeviceLabel(r),
          }
        })
      // Accuracies are k / (test-set size): differences are compared at that resolution.
      const testSizes = new Set(list.map((r) => store.datasets.get(r.datasetId)?.counts.test ?? 0))
      const testSize = testSizes.size === 1 ? [...testSizes][0]! : 0
      const table = compareRuns(rows, {
        metric: opts.metric ?? 'best',
        ...(testSize > 0 ? { resolution: 1 / testSize } : {}),
      })
      table.warnings.push(...kWarnings(store, list))
      return table
    },
    format: formatComparison,
  }
}

export type PlanService = ReturnType<typeof createPlanService>
