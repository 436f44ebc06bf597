/**
 * The seven training variants as data: what each one tests, which teacher it needs and its
 * hyperparameters (zod schemas with the repository's defaults). TF-free, so every host (CLI, UI,
 * planner) can list variants and validate plans; the loss functions live in core/distill/losses.ts.
 *
 * Defaults follow docs/method-spec.md ("Hyperparameters shipped"): the repository's values for
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
const reduction = (d: KlReduction = 'elementwise_mean') =>
  z.enum(KL_REDUCTIONS).default(d).describe('KL reduction')

// The multiplier (default 1, the repository's form) lets K-matched values keep the repository's
// per-sample weight at another number of classes (see k-dependence.ts).
const standardize = (d: boolean) =>
  z
    .boolean()
    .default(d)
    .describe('logit standardization: z-score each logit row before dividing by T (distillation term only)')
const kdParams = (a: number, t: number, o: { m?: number; r?: KlReduction; std?: boolean } = {}) =>
  z
    .object({
      alpha: alpha(a),
      temperature: temperature(t),
      multiplier: multiplier(o.m ?? 1),
      reduction: reduction(o.r),
      standardize: standardize(o.std ?? false),
    })
    .strict()

/**
 * DKD's warm-up was tuned for the reference's 240-epoch CIFAR-100 schedule: a plan of E < 240 epochs
 * warms up over warmupEpochs x E / 240 epochs (the same fraction of training, 1/12 at the defaults).
 */
export const DKD_REFERENCE_EPOCHS = 240
const weight = (d: number, what: string) => z.number().min(0).max(1000).default(d).describe(what)

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
  'tfkd-self': kdParams(0.95, 20),
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
  dkd: z
    .object({
      alpha: weight(1, 'weight of TCKD (target vs non-target mass)'),
      beta: weight(8, 'weight of NCKD (distribution among the non-target classes)'),
      temperature: temperature(4),
      warmupEpochs: z
        .number()
        .min(0)
        .max(10_000)
        .default(20)
        .describe(`epochs over which the KD weight rises to 1 (of ${DKD_REFERENCE_EPOCHS}; scaled)`),
      standardize: standardize(false),
    })
    .strict(),
  dist: z
    .object({
      beta: weight(1, 'weight of the inter-class relation (rows)'),
      gamma: weight(1, 'weight of the intra-class relation (columns)'),
      temperature: temperature(1),
    })
    .strict(),
  // KD with logit standardization (Sun et al., CVPR 2024), the LSKD repository's CIFAR-100 KD+LS:
  // 0.1 CE + 9 T^2 KL (batchmean) at T = 2, i.e. alpha 0.9 and m 10 here.
  'kd-std': kdParams(0.9, 2, { m: 10, r: 'batchmean', std: true }),
} as const satisfies Record<VariantId, z.ZodType>

/** Resolved (defaults applied) hyperparameters of variant V. */
export type VariantParams<V extends VariantId = VariantId> = z.output<(typeof VARIANT_PARAMS)[V]>
/** What a user or plan file may give: any subset; unknown keys are errors. */
export type VariantParamsInput<V extends VariantId = VariantId> = z.input<(typeof VARIANT_PARAMS)[V]>

/**
 * How a variant's loss depends on the number of classes K, declared once per variant so that
 * K-matching, the picker's effective weights and the comparison warnings (shared/k-dependence.ts)
 * read it and never pick variants by id. Keys name the variant's own hyperparameters.
 * - `none`: no distillation term, or one that does not change with K (`why` says which).
 * - `smoothing`: label smoothing; `epsilon` is the mass moved off the label at any K.
 * - `kd-weight`: a KL term of per-sample weight `weight` x `temperature`^2 x `multiplier`, divided by
 *   K under the `elementwise_mean` reduction; its defaults were tuned at K = `tunedAtK`, and K-matching
 *   scales `multiplier` by K / tunedAtK. `temperature` null: no T^2 factor. `virtualTeacher`: the KL
 *   is against a hand-made teacher, so the loss is a label smoothing (its strength is shown).
 */
export type KDependence =
  | { kind: 'none'; why: string }
  | { kind: 'smoothing'; epsilon: string }
  | {
      kind: 'kd-weight'
      weight: string
      temperature: string | null
      multiplier: string
      reduction: string
      tunedAtK: number
      virtualTeacher?: { correctProb: string; temperature: string; studentSoftening: string }
    }

const KD_STYLE = {
  kind: 'kd-weight',
  weight: 'alpha',
  temperature: 'temperature',
  multiplier: 'multiplier',
  reduction: 'reduction',
  tunedAtK: 100,
} as const satisfies KDependence

/** A hyperparameter in words: the paper's symbol, a readable name, its range and what it does. */
export interface ParamInfo {
  symbol: string
  name: string
  range: string
  meaning: string
}

export interface VariantDef<V extends VariantId = VariantId> {
  id: V
  name: string
  /** Short name for tables, warnings and report rows (e.g. "Tf-KD reg"). */
  short: string
  /** The method's paper, cited in the picker and the report. */
  paper: string
  /** One line: the question this variant answers in the paper's argument. */
  tests: string
  teacher: TeacherKind
  /** Loss in words, for tooltips and reports. */
  loss: string
  params: (typeof VARIANT_PARAMS)[V]
  /** How its loss depends on K (what K-matching and the picker read). */
  kDependence: KDependence
  /** Named sets of hyperparameters the picker offers in one click (e.g. the reference's per-dataset values). */
  presets?: Readonly<Record<string, Partial<VariantParams<V>>>>
  /** Where a hyperparameter means something else here than in PARAM_INFO (e.g. DKD's alpha and beta). */
  paramInfo?: Readonly<Record<string, ParamInfo>>
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
    short: 'Baseline',
    paper: 'Yuan et al., Revisiting Knowledge Distillation via Label Smoothing Regularization, CVPR 2020',
    tests: 'the reference: plain cross-entropy, no teacher, no smoothing',
    teacher: 'none',
    loss: 'CE',
    params: VARIANT_PARAMS.baseline,
    kDependence: { kind: 'none', why: 'plain cross-entropy: no distillation term' },
  },
  lsr: {
    id: 'lsr',
    name: 'Label smoothing',
    short: 'LSR',
    paper: 'Szegedy et al., Rethinking the Inception Architecture for Computer Vision, CVPR 2016',
    tests: 'a uniform prior as regulariser: the yardstick Tf-KD reg must match or beat',
    teacher: 'none',
    loss: 'CE against 1-eps on the label and eps/(K-1) elsewhere',
    params: VARIANT_PARAMS.lsr,
    kDependence: { kind: 'smoothing', epsilon: 'epsilon' },
  },
  kd: {
    id: 'kd',
    name: 'Normal KD',
    short: 'KD',
    paper: 'Hinton, Vinyals and Dean, Distilling the Knowledge in a Neural Network, 2015',
    tests: 'standard distillation from a stronger pretrained teacher',
    teacher: 'stronger',
    loss: '(1-alpha) CE + alpha T^2 m KL(softmax_T(t) || softmax_T(z)); standardize: z-scored logits in the KL term',
    params: VARIANT_PARAMS.kd,
    kDependence: KD_STYLE,
  },
  're-kd': {
    id: 're-kd',
    name: 'Reversed KD',
    short: 'Re-KD',
    paper: 'Yuan et al., Revisiting Knowledge Distillation via Label Smoothing Regularization, CVPR 2020',
    tests: 'whether a weaker model can still improve a stronger one (KD as regulariser)',
    teacher: 'weaker',
    loss: '(1-alpha) CE + alpha T^2 KL(softmax_T(t) || softmax_T(z)), teacher weaker than the student',
    params: VARIANT_PARAMS['re-kd'],
    kDependence: KD_STYLE,
  },
  'de-kd': {
    id: 'de-kd',
    name: 'Defective KD',
    short: 'De-KD',
    paper: 'Yuan et al., Revisiting Knowledge Distillation via Label Smoothing Regularization, CVPR 2020',
    tests: 'whether a poorly trained teacher (early snapshot) still improves the student',
    teacher: 'poor-snapshot',
    loss: '(1-alpha) CE + alpha T^2 KL(softmax_T(t) || softmax_T(z)), teacher snapshotted early',
    params: VARIANT_PARAMS['de-kd'],
    kDependence: KD_STYLE,
  },
  'tfkd-self': {
    id: 'tfkd-self',
    name: 'Tf-KD self-training',
    short: 'Tf-KD self',
    paper: 'Yuan et al., Revisiting Knowledge Distillation via Label Smoothing Regularization, CVPR 2020',
    tests: 'whether the same architecture trained normally improves a fresh copy of itself',
    teacher: 'same-arch',
    loss: '(1-alpha) CE + alpha T^2 m KL(softmax_T(t) || softmax_T(z))',
    params: VARIANT_PARAMS['tfkd-self'],
    kDependence: KD_STYLE,
  },
  'tfkd-reg': {
    id: 'tfkd-reg',
    name: 'Tf-KD virtual teacher',
    short: 'Tf-KD reg',
    paper: 'Yuan et al., Revisiting Knowledge Distillation via Label Smoothing Regularization, CVPR 2020',
    tests: 'whether a hand-made teacher distribution (no model) gives the gains of KD',
    teacher: 'none',
    loss: '(1-alpha) CE + alpha m KL(softmax(p_d / T) || softmax(z)), p_d = a on the label, (1-a)/(K-1) elsewhere',
    params: VARIANT_PARAMS['tfkd-reg'],
    kDependence: {
      ...KD_STYLE,
      temperature: null,
      virtualTeacher: {
        correctProb: 'correctProb',
        temperature: 'temperature',
        studentSoftening: 'studentTemperature',
      },
    },
    modelOverrides: {
      mobilenetv2: { temperature: 40 },
      shufflenetv2: { temperature: 10 },
    },
  },
  dkd: {
    id: 'dkd',
    name: 'Decoupled KD',
    short: 'DKD',
    paper: 'Zhao et al., Decoupled Knowledge Distillation, CVPR 2022 (mdistiller)',
    tests: 'a later logit baseline: KD split into target-class (TCKD) and non-target-class (NCKD) terms',
    teacher: 'stronger',
    loss:
      'CE + w(e) (alpha TCKD + beta NCKD), TCKD = T^2 KL(b_t || b_s) on the binary split (p_y, 1 - p_y), ' +
      'NCKD = T^2 KL over the non-target classes (logits - 1000 onehot); w(e) = min(e / W, 1), W = warmupEpochs ' +
      `x min(1, E / ${DKD_REFERENCE_EPOCHS}) for a plan of E epochs, e counted fractionally per step`,
    params: VARIANT_PARAMS.dkd,
    kDependence: {
      kind: 'none',
      why: 'KL summed over the classes, mean over the batch: the same weights at any K',
    },
    paramInfo: {
      alpha: {
        symbol: 'α',
        name: 'TCKD weight',
        range: '0 to 1000',
        meaning: 'weight of the target-class term',
      },
      beta: {
        symbol: 'β',
        name: 'NCKD weight',
        range: '0 to 1000',
        meaning: 'weight of the non-target-class term',
      },
    },
  },
  dist: {
    id: 'dist',
    name: 'DIST',
    short: 'DIST',
    paper: 'Huang et al., Knowledge Distillation from A Stronger Teacher, NeurIPS 2022 (torchdistill)',
    tests: 'a later logit baseline: match the teacher by correlation (relations), not by exact probabilities',
    teacher: 'stronger',
    loss:
      'CE + T^2 (beta inter + gamma intra), inter = 1 - mean Pearson over rows of softmax_T(z) vs softmax_T(t), ' +
      'intra = the same over columns (classes across the batch)',
    params: VARIANT_PARAMS.dist,
    kDependence: { kind: 'none', why: 'correlations per row and per column: no 1 / K factor' },
    presets: {
      'ImageNet (reference)': { beta: 1, gamma: 1, temperature: 1 },
      CIFAR: { beta: 2, gamma: 2, temperature: 4 },
    },
    paramInfo: {
      beta: {
        symbol: 'β',
        name: 'inter-class weight',
        range: '0 to 1000',
        meaning: 'weight of the row (per-sample) relation',
      },
      gamma: {
        symbol: 'γ',
        name: 'intra-class weight',
        range: '0 to 1000',
        meaning: 'weight of the column (per-class) relation',
      },
    },
  },
  'kd-std': {
    id: 'kd-std',
    name: 'KD + logit standardization',
    short: 'KD+LS',
    paper: 'Sun et al., Logit Standardization in Knowledge Distillation, CVPR 2024',
    tests: "normal KD on z-scored logits: the teacher's logit scale no longer has to be matched",
    teacher: 'stronger',
    loss: '(1-alpha) CE + alpha T^2 m KL(softmax(zscore(t) / T) || softmax(zscore(z) / T)); CE on the raw logits',
    params: VARIANT_PARAMS['kd-std'],
    kDependence: KD_STYLE,
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

/**
 * Every registered variant's declared K-dependence: the table shared/k-dependence.ts reads. A test
 * follows docs/extending.md's variant recipe by passing a copy with a test-only variant added.
 */
export type KDependenceTable = Readonly<Record<string, KDependence>>
export const VARIANT_K_DEPENDENCE: KDependenceTable = Object.fromEntries(
  VARIANT_IDS.map((v) => [v, VARIANTS[v].kDependence]),
)

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
export const PARAM_INFO: Record<string, ParamInfo> = {
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
  standardize: {
    symbol: '',
    name: 'logit standardization',
    range: 'true or false',
    meaning: 'z-score each logit row (mean 0, std 1) before dividing by T, in the distillation term only',
  },
  warmupEpochs: {
    symbol: '',
    name: 'KD warm-up epochs',
    range: '≥ 0',
    meaning: `the distillation weight rises linearly to 1 over these epochs (of ${DKD_REFERENCE_EPOCHS}; scaled to shorter plans)`,
  },
  beta: { symbol: 'β', name: 'weight β', range: '0 to 1000', meaning: 'weight of a distillation term' },
  gamma: { symbol: 'γ', name: 'weight γ', range: '0 to 1000', meaning: 'weight of a distillation term' },
}

/** How `variant` names hyperparameter `key`: its own wording where it declares one, else PARAM_INFO's. */
export function paramInfoOf(variant: string, key: string): ParamInfo | undefined {
  const own: Readonly<Record<string, ParamInfo>> | undefined = isVariantId(variant)
    ? (VARIANTS[variant] as VariantDef).paramInfo
    : undefined
  return own?.[key] ?? PARAM_INFO[key]
}

/** Hyperparameters that take one of a fixed set of values (shown as a select, not free text). */
export const PARAM_CHOICES: Record<string, readonly string[]> = {
  reduction: KL_REDUCTIONS,
  studentTemperature: STUDENT_TEMPERATURES,
  standardize: ['false', 'true'],
}
