/**
 * The seven training variants as data: what each one tests, which teacher it needs and its
 * hyperparameters (zod schemas with the repository's defaults). TF-free, so every host (CLI, UI,
 * planner) can list variants and validate plans; the loss functions live in core/distill/losses.ts.
 *
 * Defaults follow ../shared/TFKD-SPEC.md ("Hyperparameters shipped"): the repository's values for
 * the compact students (MobileNetV2 / ShuffleNetV2), which are what this app trains.
 */
import { z } from 'zod'
import { VARIANT_IDS, type VariantId } from './types'

/** Which teacher a variant needs; the planner trains (or reuses) one run of that kind. */
export const TEACHER_KINDS = ['none', 'stronger', 'weaker', 'poor-snapshot', 'same-arch'] as const
export type TeacherKind = (typeof TEACHER_KINDS)[number]

/** Which teacher run of a plan a student learns from: the stronger or weaker architecture, or its own. */
export type TeacherSlot = 'stronger' | 'weaker' | 'self'

/**
 * What each teacher kind means to the planner and the charts, so they read a variant's declared
 * kind, never its id: the teacher run it learns from (`slot`), and whether it learns from that run's
 * early snapshots (one student group per snapshot epoch, plotted against the snapshot's accuracy).
 */
export const TEACHER_KIND_INFO = {
  none: { slot: null, snapshots: false },
  stronger: { slot: 'stronger', snapshots: false },
  weaker: { slot: 'weaker', snapshots: false },
  'poor-snapshot': { slot: 'stronger', snapshots: true },
  'same-arch': { slot: 'self', snapshots: false },
} as const satisfies Record<TeacherKind, { slot: TeacherSlot | null; snapshots: boolean }>

/**
 * How the KL term is averaged. `elementwise_mean` (the repository's, PyTorch `KLDivLoss()` default)
 * divides the summed KL by N*K; `batchmean` (textbook) by N. The repository's multipliers are only
 * meaningful with `elementwise_mean`.
 */
export const KL_REDUCTIONS = ['elementwise_mean', 'batchmean'] as const
export type KlReduction = (typeof KL_REDUCTIONS)[number]

/** tfkd-reg student softening: `one` = softmax(z) (repository code), `tau` = softmax(z / T) (paper Eq. 9). */
export const STUDENT_TEMPERATURES = ['one', 'tau'] as const
export type StudentTemperature = (typeof STUDENT_TEMPERATURES)[number]

const alpha = (d: number) => z.number().min(0).max(1).default(d).describe('weight of the distillation term')
const temperature = (d: number) => z.number().positive().default(d).describe('softmax temperature T')
const multiplier = (d: number) =>
  z.number().positive().default(d).describe('extra factor m on the KL term (repository: 1, 50 or 100)')
const reduction = () => z.enum(KL_REDUCTIONS).default('elementwise_mean').describe('KL reduction')

// The multiplier (default 1, the repository's form) lets K-matched values keep the repository's
// per-sample weight at another number of classes (see k-dependence.ts).
const kdParams = (a: number, t: number) =>
  z
    .object({
      alpha: alpha(a),
      temperature: temperature(t),
      multiplier: multiplier(1),
      reduction: reduction(),
    })
    .strict()

export const VARIANT_PARAMS = {
  baseline: z.object({}).strict(),
  lsr: z
    .object({
      epsilon: z
        .number()
        .min(0)
        .lt(1)
        .default(0.1)
        .describe('smoothing mass; 1-eps on the label, eps/(K-1) on each other class'),
    })
    .strict(),
  kd: kdParams(0.95, 20),
  're-kd': kdParams(0.6, 20),
  'de-kd': kdParams(0.95, 20),
  'tfkd-self': z
    .object({
      alpha: alpha(0.95),
      temperature: temperature(20),
      multiplier: multiplier(1),
      reduction: reduction(),
    })
    .strict(),
  'tfkd-reg': z
    .object({
      alpha: alpha(0.95),
      temperature: temperature(20),
      multiplier: multiplier(1),
      correctProb: z
        .number()
        .gt(0)
        .lt(1)
        .default(0.99)
        .describe('probability a of the true class in the virtual teacher (repository: 0.99)'),
      studentTemperature: z.enum(STUDENT_TEMPERATURES).default('one'),
      reduction: reduction(),
    })
    .strict(),
} as const satisfies Record<VariantId, z.ZodType>

/** Resolved (defaults applied) hyperparameters of variant V. */
export type VariantParams<V extends VariantId = VariantId> = z.output<(typeof VARIANT_PARAMS)[V]>
/** What a user or plan file may give: any subset; unknown keys are errors. */
export type VariantParamsInput<V extends VariantId = VariantId> = z.input<(typeof VARIANT_PARAMS)[V]>

export interface VariantDef<V extends VariantId = VariantId> {
  id: V
  name: string
  /** One line: the question this variant answers in the paper's argument. */
  tests: string
  teacher: TeacherKind
  /** Loss in words, for tooltips and reports. */
  loss: string
  params: (typeof VARIANT_PARAMS)[V]
  /**
   * The repository's per-model hyperparameters where they differ from the defaults (keyed by our
   * model ids; the spec's MobileNetV2 / ShuffleNetV2 values map to our compact versions).
   */
  modelOverrides?: Partial<Record<string, Partial<VariantParams<V>>>>
}

export const VARIANTS = {
  baseline: {
    id: 'baseline',
    name: 'Baseline',
    tests: 'the reference: plain cross-entropy, no teacher, no smoothing',
    teacher: 'none',
    loss: 'CE',
    params: VARIANT_PARAMS.baseline,
  },
  lsr: {
    id: 'lsr',
    name: 'Label smoothing',
    tests: 'a uniform prior as regulariser: the yardstick Tf-KD reg must match or beat',
    teacher: 'none',
    loss: 'CE against 1-eps on the label and eps/(K-1) elsewhere',
    params: VARIANT_PARAMS.lsr,
  },
  kd: {
    id: 'kd',
    name: 'Normal KD',
    tests: 'standard distillation from a stronger pretrained teacher',
    teacher: 'stronger',
    loss: '(1-alpha) CE + alpha T^2 m KL(softmax_T(t) || softmax_T(z))',
    params: VARIANT_PARAMS.kd,
  },
  're-kd': {
    id: 're-kd',
    name: 'Reversed KD',
    tests: 'whether a weaker model can still improve a stronger one (KD as regulariser)',
    teacher: 'weaker',
    loss: '(1-alpha) CE + alpha T^2 KL(softmax_T(t) || softmax_T(z)), teacher weaker than the student',
    params: VARIANT_PARAMS['re-kd'],
  },
  'de-kd': {
    id: 'de-kd',
    name: 'Defective KD',
    tests: 'whether a poorly trained teacher (early snapshot) still improves the student',
    teacher: 'poor-snapshot',
    loss: '(1-alpha) CE + alpha T^2 KL(softmax_T(t) || softmax_T(z)), teacher snapshotted early',
    params: VARIANT_PARAMS['de-kd'],
  },
  'tfkd-self': {
    id: 'tfkd-self',
    name: 'Tf-KD self-training',
    tests: 'whether the same architecture trained normally improves a fresh copy of itself',
    teacher: 'same-arch',
    loss: '(1-alpha) CE + alpha T^2 m KL(softmax_T(t) || softmax_T(z))',
    params: VARIANT_PARAMS['tfkd-self'],
  },
  'tfkd-reg': {
    id: 'tfkd-reg',
    name: 'Tf-KD virtual teacher',
    tests: 'whether a hand-made teacher distribution (no model) gives the gains of KD',
    teacher: 'none',
    loss: '(1-alpha) CE + alpha m KL(softmax(p_d / T) || softmax(z)), p_d = a on the label, (1-a)/(K-1) elsewhere',
    params: VARIANT_PARAMS['tfkd-reg'],
    modelOverrides: {
      mobilenetv2: { temperature: 40 },
      shufflenetv2: { temperature: 10 },
    },
  },
} as const satisfies { [V in VariantId]: VariantDef<V> }

export function isVariantId(id: string): id is VariantId {
  return (VARIANT_IDS as readonly string[]).includes(id)
}

/** True when the variant needs teacher logits at every training step. */
export function needsTeacher(variant: VariantId): boolean {
  return VARIANTS[variant].teacher !== 'none'
}

/**
 * Every registered variant's declared teacher kind: the table plans read (`expandPlan`). A test
 * follows docs/extending.md's variant recipe by passing a copy with a test-only variant added.
 */
export type TeacherKindTable = Readonly<Record<string, TeacherKind>>
export const VARIANT_TEACHER_KINDS: TeacherKindTable = Object.fromEntries(
  VARIANT_IDS.map((v) => [v, VARIANTS[v].teacher]),
)

/** The declared teacher kind of a variant id (`none` for an id this build does not know). */
export function teacherKindOf(variant: string): TeacherKind {
  return teacherKindIn(VARIANT_TEACHER_KINDS, variant)
}

/** `teacherKindOf` reading `kinds` (the plan's path; a test passes a copy with its own variant). */
export function teacherKindIn(kinds: TeacherKindTable, variant: string): TeacherKind {
  return Object.hasOwn(kinds, variant) ? kinds[variant]! : 'none'
}

/** The plan's teacher run this variant learns from, or null when it needs none. */
export function teacherSlotOf(variant: string): TeacherSlot | null {
  return TEACHER_KIND_INFO[teacherKindOf(variant)].slot
}

/** True when the variant learns from early snapshots of its teacher (one group per snapshot). */
export function learnsFromSnapshots(variant: string): boolean {
  return TEACHER_KIND_INFO[teacherKindOf(variant)].snapshots
}

/** The variants whose teacher is the plan's `slot` run, in registry order (for messages). */
export function variantsTaughtBy(slot: TeacherSlot): VariantId[] {
  return VARIANT_IDS.filter((v) => teacherSlotOf(v) === slot)
}

/**
 * Validates and completes a variant's hyperparameters: schema defaults, then the repository's
 * per-model values (when `model` has any), then the caller's input. Throws a ZodError on unknown
 * keys or out-of-range values.
 */
export function resolveVariantParams<V extends VariantId>(
  variant: V,
  input: unknown = {},
  model?: string,
): VariantParams<V> {
  return completeVariantParams(
    variant,
    VARIANT_PARAMS[variant].parse(input ?? {}) as VariantParams<V>,
    input,
    model,
  )
}

/**
 * `resolveVariantParams` after the parse: `given` is `input` parsed by the variant's schema (which
 * filled its defaults); the repository's per-model values beat the defaults, `input`'s own keys beat both.
 */
export function completeVariantParams<V extends VariantId>(
  variant: V,
  given: VariantParams<V>,
  input: unknown,
  model?: string,
): VariantParams<V> {
  const def: VariantDef<V> = VARIANTS[variant] as unknown as VariantDef<V>
  const overrides = (model && def.modelOverrides?.[model]) || {}
  // Only the keys the caller actually gave beat the model overrides.
  const explicit = typeof input === 'object' && input !== null ? Object.keys(input) : []
  const out: Record<string, unknown> = { ...given, ...overrides }
  for (const k of explicit) out[k] = (given as Record<string, unknown>)[k]
  return out as VariantParams<V>
}

/**
 * How the UI names each hyperparameter: the paper's symbol, a readable name, its range and what it
 * does (Yuan et al., CVPR 2020, Eq. 3 and 9). Keys are the VARIANT_PARAMS fields.
 */
export const PARAM_INFO: Record<string, { symbol: string; name: string; range: string; meaning: string }> = {
  alpha: {
    symbol: 'α',
    name: 'KD weight',
    range: '0 to 1',
    meaning: 'weight of the distillation term; 1 − α goes to cross-entropy',
  },
  temperature: {
    symbol: 'T',
    name: 'temperature',
    range: '> 0',
    meaning: 'softmax temperature of the soft targets',
  },
  multiplier: {
    symbol: 'm',
    name: 'KL multiplier',
    range: '> 0',
    meaning: 'extra factor on the KL term (repository: 1, 50 or 100)',
  },
  correctProb: {
    symbol: 'a',
    name: 'correct-class probability',
    range: 'between 0 and 1',
    meaning: 'probability of the true class in the virtual teacher',
  },
  epsilon: {
    symbol: 'ε',
    name: 'smoothing',
    range: '0 to below 1',
    meaning: '1 − ε on the label, ε/(K − 1) on each other class',
  },
  reduction: {
    symbol: '',
    name: 'KL reduction',
    range: 'one of the listed',
    meaning: 'elementwise_mean divides by N·K (repository), batchmean by N (textbook)',
  },
  studentTemperature: {
    symbol: '',
    name: 'student softening',
    range: 'one of the listed',
    meaning: 'one: softmax(z) (repository code); tau: softmax(z / T) (paper Eq. 9)',
  },
}

/** Hyperparameters that take one of a fixed set of values (shown as a select, not free text). */
export const PARAM_CHOICES: Record<string, readonly string[]> = {
  reduction: KL_REDUCTIONS,
  studentTemperature: STUDENT_TEMPERATURES,
}
