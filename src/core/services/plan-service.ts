/**
 * Experiment plans: expands a plan into runs (teachers once, reused by every student), stores the
 * experiment and all its runs in one transaction with their lineage, and queues them. Plans can be
 * cancelled and resumed (cut-off runs continue from their last epoch checkpoint). Comparisons of an
 * experiment's students live in plan-compare.ts.
 */
import { ZodError } from 'zod'
import { AppError } from '../../shared/errors'
import {
  expandPlan,
  planFileOf,
  experimentPlanInput,
  presetDataProblem,
  resolveParsedPlan,
  type ExperimentPlan,
  type ExperimentPlanInput,
  type PlannedRun,
  type ResolvedPlan,
  type TeacherSlot,
} from '../../shared/plan'
import { kMatchedVariantParams } from '../../shared/k-dependence'
import { resolveRunConfig } from '../../shared/schemas'
import { teacherSlotOf, variantsTaughtBy } from '../../shared/variants'
import type { ExperimentDetail, RunConfig } from '../../shared/types'
import { isActiveRunStatus } from '../../shared/run-states'
import { formatComparison, type ComparisonTable } from '../analysis/compare'
import { compareExperiment, type CompareRequest } from './plan-compare'
import { isModelId, MODEL_CATALOG, modelInputProblem, type ModelId } from '../models/catalog'
import type { DatasetRecord, Store } from '../store/store'
import type { RunService } from './run-service'
import type { ImportedTeacherRef } from '../../shared/onnx'
import { checkImportedTeacher } from './teacher-service'

/**
 * Parses a plan that did not come through a host's contract (a CLI's flags or plan file, a preset
 * built in code): a bad field throws an AppError `plan: <field>: <what is wrong>`.
 */
export function parsePlan(input: unknown): ExperimentPlan {
  try {
    return experimentPlanInput.parse(input)
  } catch (err) {
    zodToAppError(err, 'plan: ')
  }
}

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

/** The plan's dataset, by id or name; a preset's data requirements are checked against it. */
function planDataset(store: Store, plan: ResolvedPlan): DatasetRecord {
  const ds = plan.dataset ? store.datasets.byRef(plan.dataset) : undefined
  if (plan.dataset && !ds)
    throw new AppError('not_found', `dataset "${plan.dataset}" not found`, { field: 'dataset' })
  const dataProblem = presetDataProblem(
    plan.preset,
    ds ? { name: ds.name, inputShape: ds.inputShape, classCount: ds.classNames.length } : null,
  )
  if (dataProblem) throw new AppError('invalid_input', dataProblem, { field: 'dataset' })
  if (!ds) throw new AppError('not_found', `dataset "${plan.dataset}" not found`, { field: 'dataset' })
  return ds
}

/** Reused teachers must be completed runs on the plan's dataset. */
function checkReusedTeachers(store: Store, plan: ResolvedPlan, ds: DatasetRecord): void {
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
}

/** Imported teachers: checked once, their hash recorded in every student's config. */
function checkImportedTeachers(
  store: Store,
  plan: ResolvedPlan,
  ds: DatasetRecord,
): Map<number, ImportedTeacherRef> {
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
  return importedRefs
}

/** Every planned run's config resolved (variant defaults, per-model values) before anything is written. */
function resolveConfigs(
  planned: readonly PlannedRun[],
  ds: DatasetRecord,
  importedRefs: Map<number, ImportedTeacherRef>,
): RunConfig[] {
  return planned.map((p) => {
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
}

/** Every model the plan trains takes the dataset's input shape (refused before anything is stored). */
function checkModelInputs(plan: ResolvedPlan, planned: PlannedRun[], ds: DatasetRecord): void {
  for (const model of new Set(planned.map((p) => p.config.model))) {
    if (!isModelId(model)) continue
    const problem = modelInputProblem(model, ds)
    if (!problem) continue
    const field =
      model === plan.student
        ? 'student'
        : model === plan.strongerTeacher
          ? 'strongerTeacher'
          : 'weakerTeacher'
    throw new AppError('invalid_input', `${field}: ${problem}`, { field })
  }
}

/** Validates and expands a plan without storing anything (start and preview share it). */
export function preparePlan(store: Store, input: ExperimentPlan): PreparedPlan {
  let plan = resolveParsedPlan(input)
  checkModels(plan)
  const ds = planDataset(store, plan)
  // A reproduction study with K-matched values: the multipliers follow the dataset's K (stored).
  if (plan.reproduce?.hyperparameters === 'k-matched')
    plan = {
      ...plan,
      variantParams: kMatchedVariantParams(plan.variants, plan.variantParams, ds.classNames.length),
    }
  checkReusedTeachers(store, plan, ds)
  const importedRefs = checkImportedTeachers(store, plan, ds)
  const planned = expandPlan(plan)
  checkModelInputs(plan, planned, ds)
  return { plan, ds, planned, configs: resolveConfigs(planned, ds, importedRefs) }
}

/**
 * Stores a prepared plan in one transaction: the experiment, then its runs in planned order, each
 * student linked to the run id its teacher got. Returns the experiment id and the run ids.
 */
function storePlan(
  store: Store,
  { plan, ds, planned, configs }: PreparedPlan,
): { experimentId: number; ids: number[] } {
  return store.db.transaction(() => {
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
}

/** What a prepared plan would run, for people (no ids: nothing is stored). */
function previewPlan({ plan, ds, planned, configs }: PreparedPlan): PlanPreview {
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
}

export function createPlanService(deps: { store: Store; runs: RunService }) {
  const { store, runs } = deps
  const prepareParsed = (plan: ExperimentPlan): PreparedPlan => preparePlan(store, plan)

  function startParsed(plan: ExperimentPlan): ExperimentDetail {
    const stored = storePlan(store, prepareParsed(plan))
    runs.enqueue(stored.ids)
    return detail(stored.experimentId)
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
    prepare: (input: ExperimentPlanInput): PreparedPlan => prepareParsed(parsePlan(input)),
    /** `prepare` for a plan a host's contract parsed already (parsed once, not twice). */
    prepareParsed,
    /** Validates, stores and queues a plan. Returns the experiment with its runs (all queued). */
    start: (input: ExperimentPlanInput): ExperimentDetail => startParsed(parsePlan(input)),
    /** `start` for a plan a host's contract parsed already. */
    startParsed,
    /** What a plan would run, without storing or queueing anything. */
    preview: (input: ExperimentPlanInput): PlanPreview => previewPlan(prepareParsed(parsePlan(input))),
    get: detail,
    /** The experiment's plan as a plan file (`tfkd run --plan`, the UI's "Load plan…"). */
    planFile(id: number): ExperimentPlanInput {
      const e = store.experiments.get(id)
      if (!e) throw new AppError('not_found', `experiment ${id} not found`)
      try {
        return planFileOf(e.plan, e.datasetName)
      } catch (err) {
        zodToAppError(err, `experiment ${id}'s stored plan: `)
      }
    },
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
    compare: (opts: CompareRequest): ComparisonTable => compareExperiment(store, opts),
    format: formatComparison,
  }
}

export type PlanService = ReturnType<typeof createPlanService>
