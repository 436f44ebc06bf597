/**
 * The reproduction study: one plan that tests the paper's four claims on the user's data, at a scale
 * (smoke: minutes on a laptop CPU; small: ~2 h on 2 cores for a 60,000-image 28x28 set; paper: the
 * repository's CIFAR-100 recipe), and the types of its report. TF-free, so the CLI, the UI and the
 * core build and read the same plan. The paper's own numbers come from docs/method-spec.md.
 */
import type { ExperimentPlanInput } from './plan'
import type { VariantId } from './types'
import type { SelectionRule } from './selection'
import type { StudyRegime } from './regime'
import type { ReportAppendix } from './appendix'

export const REPRODUCE_SCALES = ['smoke', 'small', 'paper'] as const
export type ReproduceScale = (typeof REPRODUCE_SCALES)[number]

/**
 * Which hyperparameters a study runs: 'k-matched' (default) scales the repository's KL multipliers by
 * K / 100, so that at K classes the distillation weights (and Tf-KD reg's smoothing) are those its
 * values were tuned for at K = 100; 'repository' runs its values as they are.
 */
export const REPRODUCE_HYPERPARAMETERS = ['k-matched', 'repository'] as const
export type ReproduceHyperparameters = (typeof REPRODUCE_HYPERPARAMETERS)[number]

/**
 * Whether a study at this scale may print verdicts. The smoke scale (minutes, 2,000 images, 3 epochs)
 * checks the pipeline only: its report and `tfkd reproduce` print "pipeline check: no verdicts"
 * instead. The one switch every host reads (CLI, report renderers, the Report view).
 */
export function verdictsAllowed(scale: ReproduceScale | null | undefined): boolean {
  return scale !== 'smoke'
}

/** What a report prints where verdicts are not allowed. */
export const NO_VERDICTS = 'pipeline check: no verdicts'

/** The verdict a report shows for a claim: its verdict, or NO_VERDICTS at the smoke scale. */
export function shownVerdict(r: { study: { scale: ReproduceScale } | null }, c: { verdict: string }): string {
  return verdictsAllowed(r.study?.scale) ? c.verdict : NO_VERDICTS
}

export interface ReproduceRequest {
  /** Dataset id or name. */
  dataset: string
  scale: ReproduceScale
  /** Number of seeds (1..n); default 3, the fewest that give a verdict. */
  seeds?: number
  /** Margin of "comparable" / "at least as good", in pp, stored in the plan (default DEFAULT_MARGIN_PP). */
  margin?: number
  /** Default 'k-matched'. */
  hyperparameters?: ReproduceHyperparameters
}

/**
 * What each scale trains. No durations here: the time depends on the dataset and the machine, and
 * the UI shows one estimate, from the speed measured on this machine (issue 22: "~2 h" here beside a
 * measured "10 h 50 m" left the reader with two answers).
 */
export const SCALE_DESCRIPTIONS: Record<ReproduceScale, string> = {
  smoke:
    "a pipeline check (mnist-10k): cnn-small student, resnet8 / mlp teachers, 2,000 training images, 3 epochs (stronger and weaker teachers 6, the self teacher the student's 3); checks the pipeline: no verdicts",
  small:
    "for a 60,000-image 28x28 dataset: cnn-small student, resnet8 / mlp teachers, all images, 5 epochs (stronger and weaker teachers 8, the self teacher the student's 5), one teacher per seed",
  paper:
    "the repository's CIFAR-100 recipe (preset paper-cifar100: 200 epochs, mobilenetv2 student), one teacher per seed",
}

/** The plan of a reproduction study. Every variant is planned: the four claims need all seven. */
export function reproducePlan(req: ReproduceRequest): ExperimentPlanInput {
  const n = req.seeds ?? 3
  if (!Number.isInteger(n) || n < 1 || n > 100)
    throw new Error(`seeds: expected a whole number from 1 to 100, received ${String(req.seeds)}`)
  const seeds = Array.from({ length: n }, (_, i) => i + 1)
  const common = {
    name: `reproduce the paper (${req.scale}) on ${req.dataset}, ${n} seeds`,
    dataset: req.dataset,
    seeds,
    reproduce: {
      scale: req.scale,
      seeds: n,
      margin: checkMarginPp(req.margin ?? DEFAULT_MARGIN_PP, '--margin'),
      hyperparameters: req.hyperparameters ?? 'k-matched',
    },
    // The De-KD teacher is its own run of deKdEpochs epochs, so its accuracy is measured on test.
    poorTeacherRuns: true,
  } satisfies ExperimentPlanInput
  switch (req.scale) {
    case 'smoke':
      return {
        ...common,
        student: 'cnn-small',
        strongerTeacher: 'resnet8',
        weakerTeacher: 'mlp',
        variants: ['baseline', 'lsr', 'kd', 're-kd', 'de-kd', 'tfkd-self', 'tfkd-reg'],
        // The stronger and weaker teachers train longer than students so that the KD teacher is
        // measurably stronger; the de-kd teacher is its first-epoch snapshot. The self teacher trains
        // the student's recipe (expandPlan).
        teacherEpochs: 6,
        deKdEpochs: [1],
        training: {
          epochs: 3,
          batchSize: 64,
          learningRate: 0.1,
          lrSchedule: 'constant',
          maxTrainSamples: 2000,
          validationFraction: 0.1,
        },
      }
    case 'small':
      return {
        ...common,
        student: 'cnn-small',
        strongerTeacher: 'resnet8',
        weakerTeacher: 'mlp',
        variants: ['baseline', 'lsr', 'kd', 're-kd', 'de-kd', 'tfkd-self', 'tfkd-reg'],
        teacherPerSeed: true,
        teacherEpochs: 8,
        deKdEpochs: [1],
        training: {
          epochs: 5,
          batchSize: 64,
          learningRate: 0.1,
          lrSchedule: 'multistep',
          lrMilestones: [3],
          lrGamma: 0.2,
          warmupEpochs: 0,
          maxTrainSamples: 0,
          validationFraction: 0.1,
        },
      }
    case 'paper':
      return {
        ...common,
        preset: 'paper-cifar100',
        teacherPerSeed: true,
        deKdEpochs: [1],
      }
  }
}

/** The command that reruns a study. */
export function reproduceCommand(req: {
  dataset: string
  scale: ReproduceScale
  seeds: number
  margin?: number
  hyperparameters?: ReproduceHyperparameters
}): string {
  const margin = req.margin !== undefined && req.margin !== DEFAULT_MARGIN_PP ? ` --margin ${req.margin}` : ''
  const hp = req.hyperparameters === 'repository' ? ' --hyperparameters repository' : ''
  return `tfkd reproduce --dataset ${req.dataset} --scale ${req.scale} --seeds ${req.seeds}${margin}${hp}`
}

export const CLAIM_IDS = ['re-kd', 'de-kd', 'tfkd-self', 'tfkd-reg'] as const
export type ClaimId = (typeof CLAIM_IDS)[number]

/**
 * A claim's verdict, in the report's words:
 * - supported: every part of the claim holds after Holm's correction over the report's family, with
 *   every premise measured on the test split and met, and every reference beating the baseline;
 * - not reproduced in this regime: a part went significantly the other way (in this study's data,
 *   scale and hyperparameters; not a refutation of the paper);
 * - inconclusive: no decision either way; the report states the power the study had;
 * - reference failed: "comparable to X" / "at least as good as X" cannot count because X itself does
 *   not measurably beat the baseline here;
 * - invalid premise: a measured premise fails (e.g. the "weaker" teacher is not weaker);
 * - unverified premise: a premise was not measured on the test split;
 * - insufficient seeds: fewer matched seeds than a decision needs;
 * - not run: the claim's variants were not in the plan.
 */
export const CLAIM_VERDICTS = [
  'supported',
  'not reproduced in this regime',
  'inconclusive',
  'reference failed',
  'invalid premise',
  'unverified premise',
  'insufficient seeds',
  'not run',
] as const
export type ClaimVerdict = (typeof CLAIM_VERDICTS)[number]

/** The "comparable" / "not worse" margin of a study, in percentage points: default and allowed range. */
export const DEFAULT_MARGIN_PP = 0.5
export const MARGIN_MIN_PP = 0.05
export const MARGIN_MAX_PP = 5

/** Validates a margin in percentage points; the error names the value and the range. */
export function checkMarginPp(pp: number, name = 'margin'): number {
  if (!(Number.isFinite(pp) && pp >= MARGIN_MIN_PP && pp <= MARGIN_MAX_PP))
    throw new Error(
      `${name}: expected a margin in percentage points from ${MARGIN_MIN_PP} to ${MARGIN_MAX_PP} (e.g. 0.5), received ${String(pp)}`,
    )
  return pp
}

/**
 * What a comparison tests (delta = variant - reference over matched seeds):
 * - 'improves': delta > 0, two-sided paired t-test at alpha;
 * - 'not-worse': delta > -margin, one-sided at alpha / 2 (non-inferiority: "at least as good");
 * - 'comparable': -margin < delta < margin, TOST with each one-sided test at alpha / 2 ("comparable").
 */
export type ComparisonKind = 'improves' | 'not-worse' | 'comparable'

/** What a comparison could see: power figures at the level Holm asks of the family's first test. */
export interface ComparisonPower {
  /** Per-test level used: alpha / (family size) (Bonferroni, Holm's strictest step). */
  level: number
  /**
   * 'improves': smallest true |delta| detected with 80% power (n seeds, the observed sd);
   * 'not-worse': smallest true delta with which non-inferiority is shown with 80% power;
   * 'comparable': smallest margin within which TOST shows equivalence with 80% power at delta = 0.
   * Accuracy fraction; NaN below two seeds.
   */
  minDetectable: number
  /** The paper's difference for this comparison (accuracy fraction), null when the paper gives none. */
  paperEffect: number | null
  /** Power of this test with n seeds at the paper's difference. */
  powerAtPaper: number | null
  /** Seeds needed for 80% power at the paper's difference (null: above 100, or no paper figure). */
  seedsForPaper: number | null
}

/** One paired comparison within a claim (variant - reference over matched seeds). */
export interface ClaimComparison {
  variant: VariantId
  reference: VariantId
  kind: ComparisonKind
  /**
   * 'claim': a part of the claim itself; 'reference': the reference of a "comparable to X" / "at least
   * as good as X" part must itself beat the baseline, else that part cannot count.
   */
  role: 'claim' | 'reference'
  /** De-KD: the teacher snapshot these students learnt from ("epoch 1"); null otherwise. */
  snapshot: string | null
  /** Matched seeds. */
  n: number
  /** Per seed: [seed, variant accuracy, reference accuracy]. */
  pairs: [number, number, number][]
  delta: number
  /** Observed sd of the differences, and the sd the tests use: floored at the metric's resolution. */
  sdObserved: number
  sd: number
  /** Unadjusted two-sided 95% t-interval of delta (with the floored sd). */
  ci: [number, number]
  /**
   * The interval that decides: the two-sided t-interval at `ciLevel` = 1 - alpha p / pHolm, so that it
   * excludes 0 ('improves'), lies above -margin ('not-worse') or inside +-margin ('comparable')
   * exactly when pHolm < alpha. Without adjustment it is the 1 - 2 (alpha / 2) interval.
   */
  ciAdjusted: [number, number]
  ciLevel: number
  /**
   * p on the two-sided scale, compared with alpha: the two-sided t p for 'improves', twice the
   * one-sided p for 'not-worse', twice the larger TOST p for 'comparable'.
   */
  p: number
  /** Holm-adjusted over the report's family (every comparison that can decide a verdict). */
  pHolm: number
  /** Cohen's d_z = delta / sd (floored sd) and its exact 95% interval (noncentral t). */
  dz: number
  dzCi: [number, number]
  outcome: 'holds' | 'fails' | 'undecided'
  power: ComparisonPower
}

export interface PremiseCheck {
  /** What must be true for the claim's test to mean anything. */
  premise: string
  /** Measured facts, as one plain sentence with the numbers, saying whether the premise is met. */
  measured: string
  /** true: met (measured on the test split); false: measured and not met; null: not measured on test. */
  ok: boolean | null
  /** De-KD: the snapshot this premise is about. */
  snapshot?: string | null
}

/** The paper's numbers for one claim (CIFAR-100 top-1 %), from docs/method-spec.md. */
export interface PaperFigure {
  setting: string
  variant: number
  reference: number
}

export interface ClaimResult {
  id: ClaimId
  title: string
  /** The claim's parts first (the primary one first), then the reference checks. */
  comparisons: ClaimComparison[]
  premises: PremiseCheck[]
  verdict: ClaimVerdict
  /** Why this verdict, in one sentence. */
  reason: string
  /** What the study could have seen for this claim, in one sentence (from the primary comparison). */
  power: string
  paper: PaperFigure[]
}

export interface ReportEnvironment {
  appVersion: string
  node: string
  platform: string
  cpu: string
  cores: number
  memoryGiB: number
  backends: string[]
  devices: string[]
}

/**
 * A variant outside the paper's seven (a later logit baseline such as dkd or dist): reported beside
 * the four claims, never in them, as paired comparisons with the baseline and with KD.
 */
export interface ExtraArm {
  variant: VariantId
  name: string
  paper: string
  /** Seeds of the arm and its mean accuracy over them. */
  n: number
  accuracy: number
  comparisons: {
    reference: VariantId
    /** Matched seeds. */
    n: number
    /** Mean paired difference (arm - reference), differences rounded to the resolution. */
    delta: number
    /** Unadjusted 95% t-interval of delta. */
    ci: [number, number]
    /** Two-sided paired t-test, unadjusted. */
    p: number
    dz: number
  }[]
}

export interface ReproReport {
  experimentId: number
  name: string
  datasetName: string
  /** The study's scale and seeds when it was planned by `tfkd reproduce` (else null). */
  study: {
    scale: ReproduceScale
    seeds: number
    margin?: number
    hyperparameters?: ReproduceHyperparameters
  } | null
  /** K, hyperparameters and what they amount to, epochs, convergence, whether verdicts are given. */
  regime: StudyRegime | null
  /** Per-variant mean ± sd with hyperparameters, effects with intervals, per-class effects. */
  appendix: ReportAppendix | null
  selection: SelectionRule
  alpha: number
  /** Margin of "comparable" (TOST) and "at least as good" (non-inferiority), accuracy fraction. */
  margin: number
  /** Where the margin came from: stored in the plan before the study ran, or given at report time. */
  marginSource: 'plan' | 'report' | 'default'
  /** The Holm family: every comparison that can decide a verdict, as "variant vs reference". */
  family: string[]
  resolution: number
  claims: ClaimResult[]
  /** Later baselines planned beside the paper's variants (absent in reports made before them). */
  extraArms?: ExtraArm[]
  /** Per variant (and seed): the student's accuracy; for dot plots. */
  perSeed: { variant: VariantId; seed: number; accuracy: number }[]
  /** Per variant: mean validation accuracy per epoch over seeds; for the curves. */
  curves: { variant: VariantId; points: [number, number][] }[]
  /** De-KD: the poor teachers' snapshot accuracy against their students' accuracy. */
  deKd: {
    seed: number
    teacherEpoch: number
    teacherAccuracy: number
    /** 'test': the teacher's own run ended at the snapshot (poorTeacherRuns); else validation. */
    teacherAccuracySplit?: 'test' | 'validation' | null
    studentAccuracy: number
    fellBack: boolean
  }[]
  /** The teachers: model, seed, measured test accuracy, epochs. */
  teachers: { runId: number; model: string; seed: number; accuracy: number | null; epochs: number }[]
  runCounts: Record<string, number>
  config: unknown
  environment: ReportEnvironment
  command: string
  warnings: string[]
  createdAt: number
}

export const CLAIM_TITLES: Record<ClaimId, string> = {
  're-kd': '(a) KD from a weaker teacher (Re-KD) improves the student',
  'de-kd': '(b) A poorly trained teacher (De-KD) still improves the student',
  'tfkd-self': '(c) Tf-KD self improves over the baseline and is comparable to normal KD',
  'tfkd-reg': '(d) Tf-KD reg is comparable to normal KD and at least as good as LSR',
}

/** The paper's figures beside ours (CIFAR-100 top-1 %, repository README and paper tables). */
export const PAPER_FIGURES: Record<ClaimId, PaperFigure[]> = {
  're-kd': [
    { setting: 'ResNet18 taught by MobileNetV2 vs ResNet18 baseline', variant: 77.28, reference: 75.87 },
    { setting: 'ResNet18 taught by ShuffleNetV2 vs ResNet18 baseline', variant: 77.35, reference: 75.87 },
    { setting: 'ResNeXt29 taught by MobileNetV2 vs ResNeXt29 baseline', variant: 81.53, reference: 81.03 },
  ],
  'de-kd': [
    { setting: 'MobileNetV2 taught by a 15.48% ResNet18 vs baseline', variant: 70.65, reference: 68.38 },
    { setting: 'ShuffleNetV2 taught by a 15.48% ResNet18 vs baseline', variant: 71.82, reference: 70.34 },
  ],
  'tfkd-self': [
    { setting: 'MobileNetV2 Tf-KD self vs baseline', variant: 70.96, reference: 68.38 },
    { setting: 'ShuffleNetV2 Tf-KD self vs baseline', variant: 72.23, reference: 70.34 },
    { setting: 'ResNet18 Tf-KD self vs baseline', variant: 77.1, reference: 75.87 },
    { setting: 'MobileNetV2 Tf-KD self vs normal KD', variant: 70.96, reference: 71.05 },
  ],
  'tfkd-reg': [
    { setting: 'MobileNetV2 Tf-KD reg vs LSR', variant: 70.88, reference: 69.32 },
    { setting: 'MobileNetV2 Tf-KD reg vs normal KD', variant: 70.88, reference: 71.05 },
    { setting: 'ShuffleNetV2 Tf-KD reg vs LSR', variant: 72.09, reference: 70.83 },
    { setting: 'ResNet18 Tf-KD reg vs LSR', variant: 77.36, reference: 77.26 },
  ],
}

/**
 * The paper's difference for each comparison the claims make, in percentage points (CIFAR-100 top-1;
 * MobileNetV2 unless stated; the paper picked its numbers on the test set), for power statements.
 * Key: `${variant} vs ${reference}`.
 */
export const PAPER_EFFECTS_PP: Record<string, { pp: number; setting: string }> = {
  're-kd vs baseline': { pp: 77.28 - 75.87, setting: 'ResNet18 taught by MobileNetV2' },
  'de-kd vs baseline': { pp: 70.65 - 68.38, setting: 'MobileNetV2 taught by a 15.48% ResNet18' },
  'tfkd-self vs baseline': { pp: 70.96 - 68.38, setting: 'MobileNetV2 Tf-KD self' },
  'tfkd-self vs kd': { pp: 70.96 - 71.05, setting: 'MobileNetV2 Tf-KD self vs normal KD' },
  'tfkd-reg vs baseline': { pp: 70.88 - 68.38, setting: 'MobileNetV2 Tf-KD reg' },
  'tfkd-reg vs kd': { pp: 70.88 - 71.05, setting: 'MobileNetV2 Tf-KD reg vs normal KD' },
  'tfkd-reg vs lsr': { pp: 70.88 - 69.32, setting: 'MobileNetV2 Tf-KD reg vs LSR' },
  'kd vs baseline': { pp: 71.05 - 68.38, setting: 'MobileNetV2 taught by ResNet18' },
  'lsr vs baseline': { pp: 69.32 - 68.38, setting: 'MobileNetV2 with label smoothing' },
}
