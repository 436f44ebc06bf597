/**
 * Experiment plans: variants x seeds x (student, teacher) on one dataset, as data. `expandPlan` is a
 * pure function from a resolved plan to the runs it needs (teachers once, reused by every student),
 * so the CLI, the UI and tests see the same expansion the planner executes.
 */
import { z } from 'zod'
import {
  BACKEND_IDS,
  LR_SCHEDULES,
  OPTIMIZER_IDS,
  PAPER_VARIANT_IDS,
  VARIANT_IDS,
  type VariantId,
} from './types'
import type { RunConfig, RunRole } from './types'
import { DEFAULT_TRAINING, type TrainingConfig } from './defaults'
import {
  needsTeacher,
  TEACHER_KIND_INFO,
  teacherKindIn,
  VARIANT_TEACHER_KINDS,
  type TeacherKindTable,
  type TeacherSlot,
} from './variants'
import { TEACHER_LOGITS_MODES, type TeacherLogitsMode } from './onnx'
import { MARGIN_MAX_PP, MARGIN_MIN_PP } from './reproduce'

export const PRESET_IDS = ['quick', 'paper-cifar100', 'de-kd-sweep', 'logit-kd-baselines'] as const
export type PresetId = (typeof PRESET_IDS)[number]

/** Training fields shared by a single run's config (schemas.ts) and a plan's `training`. */
export const trainingFields = {
  epochs: z.number().int().min(1).max(10_000),
  batchSize: z.number().int().min(1).max(65_536),
  optimizer: z.enum(OPTIMIZER_IDS),
  learningRate: z.number().positive().max(100),
  lrSchedule: z.enum(LR_SCHEDULES),
  warmupEpochs: z.number().min(0).max(1000),
  lrMilestones: z.array(z.number().positive()).max(100),
  lrGamma: z.number().positive().max(1),
  momentum: z.number().min(0).max(1),
  weightDecay: z.number().min(0).max(1),
  validationFraction: z.number().min(0).max(0.9),
  maxTrainSamples: z.number().int().min(0),
  backend: z.enum([...BACKEND_IDS, 'auto']),
  /**
   * Seed of the validation split (and of the maxTrainSamples subset); null = the run's seed. Plans set
   * it so that a teacher and the students it teaches hold out the same images.
   */
  splitSeed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .nullable(),
}

export const augmentFields = {
  cropPadding: z.number().int().min(0).max(64),
  horizontalFlip: z.boolean(),
  rotationDegrees: z.number().min(0).max(180),
}

export const experimentPlanInput = z
  .object({
    name: z.string().min(1).max(200).optional(),
    /** Start from a preset; every other field overrides it. */
    preset: z.enum(PRESET_IDS).optional(),
    dataset: z.string().min(1).optional(),
    student: z.string().min(1).optional(),
    /** Teacher architecture for kd and de-kd (stronger than the student). */
    strongerTeacher: z.string().min(1).optional(),
    /** Teacher architecture for re-kd (weaker than the student). */
    weakerTeacher: z.string().min(1).optional(),
    variants: z.array(z.enum(VARIANT_IDS)).min(1).optional(),
    seeds: z
      .array(
        z
          .number()
          .int()
          .min(0)
          .max(2 ** 31 - 1),
      )
      .min(1)
      .max(100)
      .optional(),
    /** Seed of every teacher run (teachers are shared by all student seeds). */
    teacherSeed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .optional(),
    /**
     * One teacher per seed: teacher i (seed i + 1000) teaches student seed i and shares its data split,
     * so the variance over teachers enters the paired tests. Default false: one teacher for all seeds.
     */
    teacherPerSeed: z.boolean().optional(),
    /**
     * Epochs of the stronger and weaker teacher runs (default: the students' epochs). The self teacher
     * (Tf-KD self's) always trains the student's recipe: its model, epochs, data and schedule.
     */
    teacherEpochs: z.number().int().min(1).max(10_000).optional(),
    /** de-kd teachers: the stronger teacher's checkpoints at these epochs (repository: 1). */
    deKdEpochs: z.array(z.number().int().min(1)).min(1).max(50).optional(),
    /**
     * de-kd teachers as their own runs: the stronger teacher's recipe (model, seed, split) trained for
     * exactly each `deKdEpochs` count, so the poor teacher's accuracy is measured on the test split at
     * its last epoch (a snapshot of a longer run has only a validation accuracy at that epoch). Set by
     * `tfkd reproduce`; default false (snapshots).
     */
    poorTeacherRuns: z.boolean().optional(),
    /** de-kd teachers by accuracy instead: the first snapshot reaching each validation accuracy (0..1). */
    deKdTargetAccuracies: z.array(z.number().gt(0).lt(1)).min(1).max(50).optional(),
    /** Existing completed runs to use as teachers instead of training new ones. */
    reuseTeachers: z
      .object({
        stronger: z.number().int().positive().optional(),
        weaker: z.number().int().positive().optional(),
        self: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    /**
     * Imported ONNX teachers (`tfkd teachers import`, by id) instead of trained ones, per slot: no
     * teacher run is trained for a slot given here, and de-kd takes the imported model as it is.
     */
    importedTeachers: z
      .object({
        stronger: z.number().int().positive().optional(),
        weaker: z.number().int().positive().optional(),
        self: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    /** How students get their teacher's logits (default per-batch; see TeacherLogitsMode). */
    teacherLogits: z.enum(TEACHER_LOGITS_MODES).optional(),
    training: z
      .object({ ...trainingFields, augment: z.object(augmentFields).partial().strict() })
      .partial()
      .strict()
      .optional(),
    variantParams: z.partialRecord(z.enum(VARIANT_IDS), z.record(z.string(), z.unknown())).optional(),
    /** Set by `tfkd reproduce` / "Reproduce the paper": the study's scale, for its report and rerun. */
    reproduce: z
      .object({
        scale: z.enum(['smoke', 'small', 'paper']),
        seeds: z.number().int().min(1).max(100),
        /** Margin of "comparable" / "at least as good as", in pp, fixed before the study runs. */
        margin: z.number().min(MARGIN_MIN_PP).max(MARGIN_MAX_PP).optional(),
        /**
         * 'k-matched' (the default of `tfkd reproduce`): the planner scales the KL multipliers by K / 100
         * so the distillation weights are the repository's at K = 100; 'repository': its values as they
         * are. Absent in studies planned before this was recorded (they ran the repository's values).
         */
        hyperparameters: z.enum(['k-matched', 'repository']).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()

export type ExperimentPlanInput = z.input<typeof experimentPlanInput>
/** A plan as experimentPlanInput outputs it: parsed once, where it entered (see resolveParsedPlan). */
export type ExperimentPlan = z.output<typeof experimentPlanInput>

export interface ResolvedPlan {
  name: string
  preset: PresetId | null
  dataset: string
  student: string
  strongerTeacher: string
  weakerTeacher: string
  variants: VariantId[]
  seeds: number[]
  teacherSeed: number
  teacherPerSeed: boolean
  teacherEpochs: number
  deKdEpochs: number[]
  deKdTargetAccuracies: number[] | null
  poorTeacherRuns: boolean
  reuseTeachers: { stronger?: number; weaker?: number; self?: number }
  importedTeachers: { stronger?: number; weaker?: number; self?: number }
  teacherLogits: TeacherLogitsMode
  training: TrainingConfig
  variantParams: Partial<Record<VariantId, Record<string, unknown>>>
  reproduce: {
    scale: 'smoke' | 'small' | 'paper'
    seeds: number
    margin?: number
    hyperparameters?: 'k-matched' | 'repository'
  } | null
}

/**
 * The data a preset's recipe was made for. A preset that declares it refuses any other dataset (and
 * never falls back to the bundled digits): its epochs, augmentation and hyperparameters are the
 * repository's for that data, and running them elsewhere under the preset's name would mislead.
 */
export interface PresetDataRequirement {
  /** [height, width, channels] the recipe assumes (crop 32 + 4 padding, rotation, 3-channel stats). */
  inputShape: [number, number, number]
  /** Number of classes K the hyperparameters were tuned for. */
  classes: number
  /** In words, e.g. "CIFAR-100 (32x32x3, 100 classes)". */
  label: string
  /** How to get such a dataset into the app. */
  howToImport: string
}

export interface PresetDef {
  description: string
  plan: Omit<ExperimentPlanInput, 'preset'>
  /** Absent: the preset runs on any dataset (and defaults to its plan's dataset, if any). */
  requires?: PresetDataRequirement
}

const CIFAR100_IMPORT =
  'import CIFAR-100 first: download cifar-100-binary.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html), ' +
  'then `tfkd datasets import cifar-100-binary.tar.gz --name cifar-100` (or Datasets > Import in the app), ' +
  'and pass `--dataset cifar-100`'

/** Presets: starting points a user edits, each a partial plan. */
export const PRESETS: Record<PresetId, PresetDef> = {
  quick: {
    description:
      "MNIST-sized: cnn-small student, resnet8 / mlp teachers, 3 epochs, the paper's seven variants; minutes on a laptop CPU",
    plan: {
      dataset: 'mnist-10k',
      student: 'cnn-small',
      strongerTeacher: 'resnet8',
      weakerTeacher: 'mlp',
      variants: [...PAPER_VARIANT_IDS],
      seeds: [1, 2, 3],
      training: { epochs: 3, batchSize: 64, learningRate: 0.1, lrSchedule: 'constant', maxTrainSamples: 0 },
    },
  },
  'paper-cifar100': {
    description:
      "The repository's CIFAR-100 recipe: SGD 0.9, wd 5e-4, lr 0.1 x batch/128, 1 warm-up epoch, x0.2 at 60/120/160, 200 epochs, crop+flip+rotation; mobilenetv2 student",
    requires: {
      inputShape: [32, 32, 3],
      classes: 100,
      label: 'CIFAR-100 (32x32x3, 100 classes)',
      howToImport: CIFAR100_IMPORT,
    },
    plan: {
      student: 'mobilenetv2',
      strongerTeacher: 'resnet20',
      weakerTeacher: 'resnet8',
      variants: [...PAPER_VARIANT_IDS],
      seeds: [230, 231, 232],
      training: {
        epochs: 200,
        batchSize: 128,
        optimizer: 'sgd',
        learningRate: 0.1,
        momentum: 0.9,
        weightDecay: 5e-4,
        lrSchedule: 'multistep',
        warmupEpochs: 1,
        lrMilestones: [60, 120, 160],
        lrGamma: 0.2,
        augment: { cropPadding: 4, horizontalFlip: true, rotationDegrees: 15 },
      },
    },
  },
  'de-kd-sweep': {
    description:
      "Poor teachers: the stronger teacher's snapshots after 1, 2, 3 and 5 epochs each teach a fresh student (the paper's Fig. 2)",
    plan: {
      dataset: 'mnist-10k',
      student: 'cnn-small',
      strongerTeacher: 'resnet8',
      weakerTeacher: 'mlp',
      variants: ['baseline', 'de-kd'],
      seeds: [1, 2, 3],
      deKdEpochs: [1, 2, 3, 5],
      teacherEpochs: 5,
      training: { epochs: 3, batchSize: 64 },
    },
  },
  'logit-kd-baselines': {
    description:
      'Tf-KD against the later logit-KD baselines on any dataset: baseline, kd, dkd, dist, kd-std (KD + logit ' +
      'standardization), tfkd-self, tfkd-reg; one resnet8 teacher shared by kd, dkd, dist and kd-std; cnn-small ' +
      "student, 5 epochs (teachers 8), each method's reference defaults (DKD's 20-epoch warm-up scaled to 20 x 5 / 240)",
    plan: {
      student: 'cnn-small',
      strongerTeacher: 'resnet8',
      weakerTeacher: 'mlp',
      variants: ['baseline', 'kd', 'dkd', 'dist', 'kd-std', 'tfkd-self', 'tfkd-reg'],
      seeds: [1, 2, 3],
      teacherEpochs: 8,
      training: {
        epochs: 5,
        batchSize: 64,
        learningRate: 0.1,
        lrSchedule: 'multistep',
        lrMilestones: [3],
        lrGamma: 0.2,
        warmupEpochs: 0,
        validationFraction: 0.1,
      },
    },
  },
}

/** The dataset facts a requirement is checked against. */
export interface DatasetShape {
  name: string
  inputShape: [number, number, number]
  classCount: number
}

/**
 * Why `dataset` cannot run `preset` (null when it can, or the preset declares no data). `dataset`
 * null means none was chosen. Used by the planner (which refuses) and the UI (before Start).
 */
export function presetDataProblem(
  preset: PresetId | null | undefined,
  dataset: DatasetShape | null,
): string | null {
  const req = preset ? PRESETS[preset].requires : undefined
  if (!preset || !req) return null
  if (!dataset) return `preset ${preset} needs ${req.label} and no dataset was given; ${req.howToImport}`
  const [h, w, c] = dataset.inputShape
  const [rh, rw, rc] = req.inputShape
  if (h === rh && w === rw && c === rc && dataset.classCount === req.classes) return null
  return (
    `preset ${preset} needs ${req.label}; dataset ${dataset.name} is ${h}x${w}x${c} with ` +
    `${dataset.classCount} classes, so the preset's recipe (epochs, augmentation, hyperparameters tuned ` +
    `for K = ${req.classes}) does not apply to it; ${req.howToImport}, or drop --preset and set the plan's fields yourself`
  )
}

/** Parses a plan and resolves it (for a plan that did not come through a host's contract). */
export function resolvePlan(input: ExperimentPlanInput): ResolvedPlan {
  return resolveParsedPlan(experimentPlanInput.parse(input))
}

/** Applies the preset and the defaults to a plan parsed where it entered; no second parse. */
export function resolveParsedPlan(p: ExperimentPlan): ResolvedPlan {
  const preset = p.preset ? PRESETS[p.preset].plan : {}
  const pick = <K extends keyof typeof p & keyof typeof preset>(k: K) => p[k] ?? preset[k]
  const training: ResolvedPlan['training'] = {
    ...DEFAULT_TRAINING,
    ...preset.training,
    ...p.training,
    augment: { ...DEFAULT_TRAINING.augment, ...preset.training?.augment, ...p.training?.augment },
  }
  const variants = pick('variants') ?? [...PAPER_VARIANT_IDS]
  const seeds = pick('seeds') ?? [1, 2, 3]
  const student = pick('student') ?? 'cnn-small'
  // A preset that declares its data never falls back to the bundled digits ('' = none chosen; the
  // planner refuses it with presetDataProblem's message).
  const dataset = pick('dataset') ?? (p.preset && PRESETS[p.preset].requires ? '' : 'mnist-10k')
  return {
    name:
      p.name ??
      `${p.preset ?? 'plan'}: ${student} on ${dataset}, ${variants.length} variants x ${seeds.length} seeds`,
    preset: p.preset ?? null,
    dataset,
    student,
    strongerTeacher: pick('strongerTeacher') ?? 'resnet8',
    weakerTeacher: pick('weakerTeacher') ?? 'mlp',
    variants: [...new Set(variants)],
    seeds: [...new Set(seeds)],
    teacherSeed: pick('teacherSeed') ?? Math.max(...seeds) + 1000,
    teacherPerSeed: pick('teacherPerSeed') ?? false,
    teacherEpochs: pick('teacherEpochs') ?? training.epochs,
    deKdEpochs: pick('deKdEpochs') ?? [1],
    deKdTargetAccuracies: pick('deKdTargetAccuracies') ?? null,
    poorTeacherRuns: p.poorTeacherRuns ?? false,
    reuseTeachers: pick('reuseTeachers') ?? {},
    importedTeachers: p.importedTeachers ?? {},
    teacherLogits: p.teacherLogits ?? 'per-batch',
    training,
    variantParams: { ...preset.variantParams, ...p.variantParams },
    reproduce: p.reproduce ?? null,
  }
}

export type { TeacherSlot }

/** One run of an expanded plan. Students name their teacher by slot; the planner fills in run ids. */
export interface PlannedRun {
  key: string
  role: RunRole
  config: Omit<RunConfig, 'teacher'>
  teacher: { slot: TeacherSlot; key: string; epoch: number | null; targetAccuracy?: number } | null
}

/**
 * A teacher run's epochs: the self teacher is the student trained normally (Tf-KD self), so it takes
 * the student's epochs; the stronger teacher trains at least to its last De-KD snapshot.
 */
function teacherEpochsOf(plan: ResolvedPlan, slot: TeacherSlot, deKdMax: number): number {
  if (slot === 'self') return plan.training.epochs
  return slot === 'stronger' ? Math.max(plan.teacherEpochs, deKdMax) : plan.teacherEpochs
}

/** Teachers first (only those some student needs and no reused run covers), then students. */
export function expandPlan(plan: ResolvedPlan): PlannedRun[] {
  return expandPlanIn(VARIANT_TEACHER_KINDS, plan)
}

/**
 * `expandPlan` reading each variant's declared teacher kind from `kinds` (the path `expandPlan`
 * takes with `VARIANT_TEACHER_KINDS`; a test passes a copy with a test-only variant).
 */
export function expandPlanIn(kinds: TeacherKindTable, plan: ResolvedPlan): PlannedRun[] {
  const teacherSlotOf = (v: string): TeacherSlot | null => TEACHER_KIND_INFO[teacherKindIn(kinds, v)].slot
  const learnsFromSnapshots = (v: string): boolean => TEACHER_KIND_INFO[teacherKindIn(kinds, v)].snapshots
  const runs: PlannedRun[] = []
  const slots = new Set(plan.variants.map(teacherSlotOf).filter((s): s is TeacherSlot => s !== null))
  const teacherModel: Record<TeacherSlot, string> = {
    stronger: plan.strongerTeacher,
    weaker: plan.weakerTeacher,
    self: plan.student,
  }
  const deKdMax =
    plan.variants.some(learnsFromSnapshots) && !plan.deKdTargetAccuracies ? Math.max(...plan.deKdEpochs) : 0
  // Teachers and students share the validation split (a teacher must not have trained on the images
  // its students are selected on): per seed with per-seed teachers, else one split for the plan.
  const splitSeedOf = (seed: number) =>
    plan.training.splitSeed ?? (plan.teacherPerSeed ? seed : plan.seeds[0]!)
  const teacherKey = (slot: TeacherSlot, seed: number) =>
    plan.teacherPerSeed ? `teacher:${slot}:${seed}` : `teacher:${slot}`
  for (const slot of ['stronger', 'weaker', 'self'] as const) {
    if (!slots.has(slot) || plan.reuseTeachers[slot] !== undefined) continue
    if (plan.importedTeachers[slot] !== undefined) continue
    for (const seed of plan.teacherPerSeed ? plan.seeds : [plan.seeds[0]!]) {
      runs.push({
        key: teacherKey(slot, seed),
        role: 'teacher',
        teacher: null,
        config: {
          ...plan.training,
          splitSeed: splitSeedOf(seed),
          epochs: teacherEpochsOf(plan, slot, deKdMax),
          dataset: plan.dataset,
          model: teacherModel[slot],
          variant: 'baseline',
          seed: plan.teacherPerSeed ? seed + 1000 : plan.teacherSeed,
          variantParams: {},
        },
      })
    }
  }
  for (const variant of plan.variants) {
    const slot = teacherSlotOf(variant)
    const imported = slot ? plan.importedTeachers[slot] : undefined
    // Snapshot-taught variants (de-kd): one group per snapshot (by epoch, or by target accuracy);
    // the others, and an imported teacher (it has no snapshots): the final teacher.
    const snapshots: { epoch: number | null; targetAccuracy?: number; tag: string }[] =
      !learnsFromSnapshots(variant) || imported !== undefined
        ? [{ epoch: null, tag: '' }]
        : plan.deKdTargetAccuracies
          ? plan.deKdTargetAccuracies.map((a) => ({ epoch: null, targetAccuracy: a, tag: `@acc${a}` }))
          : plan.deKdEpochs.map((e) => ({ epoch: e, tag: `@${e}` }))
    for (const snap of snapshots) {
      for (const seed of plan.seeds) {
        runs.push({
          key: `student:${variant}${snap.tag}:${seed}`,
          role: 'student',
          teacher:
            slot && imported === undefined
              ? {
                  slot,
                  key: plan.reuseTeachers[slot] !== undefined ? `reuse:${slot}` : teacherKey(slot, seed),
                  epoch: snap.epoch,
                  ...(snap.targetAccuracy !== undefined ? { targetAccuracy: snap.targetAccuracy } : {}),
                }
              : null,
          config: {
            ...plan.training,
            splitSeed: splitSeedOf(seed),
            dataset: plan.dataset,
            model: plan.student,
            variant,
            seed,
            variantParams: plan.variantParams[variant] ?? {},
            ...(slot ? { teacherLogits: plan.teacherLogits } : {}),
            ...(imported !== undefined ? { importedTeacher: { id: imported } } : {}),
          },
        })
      }
    }
  }
  return plan.poorTeacherRuns ? withPoorTeacherRuns(runs) : runs
}

/**
 * `poorTeacherRuns`: every student taught by a snapshot (epoch e of a planned teacher run) gets its
 * own teacher run instead, that teacher's config trained for exactly e epochs (key `<teacher>@e<e>`),
 * and learns from its final epoch; teachers no student needs any more are dropped.
 */
function withPoorTeacherRuns(runs: readonly PlannedRun[]): PlannedRun[] {
  const teachers = new Map(runs.filter((r) => r.role === 'teacher').map((r) => [r.key, r]))
  const poor = new Map<string, PlannedRun>()
  const students = runs
    .filter((r) => r.role !== 'teacher')
    .map((r): PlannedRun => {
      const t = r.teacher
      const base = t && t.epoch !== null ? teachers.get(t.key) : undefined
      if (!t || !base || t.epoch === null) return r
      const key = `${t.key}@e${t.epoch}`
      if (!poor.has(key)) poor.set(key, { ...base, key, config: { ...base.config, epochs: t.epoch } })
      return { ...r, teacher: { ...t, key, epoch: null } }
    })
  const used = new Set(students.map((r) => r.teacher?.key))
  return [...[...teachers.values(), ...poor.values()].filter((t) => used.has(t.key)), ...students]
}

export { needsTeacher }

/**
 * A stored (resolved) plan as the plan file that `tfkd run --plan` and the UI's "Load plan…" accept:
 * every field explicit, so it plans the same runs again; the dataset by name (ids differ between
 * data folders). Null fields and keys this version does not know are left out; the result is
 * checked against the schema, so an export is always a loadable plan.
 */
export function planFileOf(stored: unknown, datasetName: string): ExperimentPlanInput {
  const known = Object.keys(experimentPlanInput.shape)
  const entries = Object.entries((stored ?? {}) as Record<string, unknown>).filter(
    ([k, v]) => known.includes(k) && v !== null && v !== undefined,
  )
  return experimentPlanInput.parse({ ...Object.fromEntries(entries), dataset: datasetName })
}
