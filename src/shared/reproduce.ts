/**
 * The reproduction study: one plan that tests the paper's four claims on the user's data, at a scale
 * (smoke: minutes on a laptop CPU; small: ~2 h on 2 cores for a 60,000-image 28x28 set; paper: the
 * repository's CIFAR-100 recipe), and the types of its report. TF-free, so the CLI, the UI and the
 * core build and read the same plan. The paper's own numbers come from ../shared/TFKD-SPEC.md.
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
  /** Default 'k-matched'. */
  hyperparameters?: ReproduceHyperparameters
}

export const SCALE_DESCRIPTIONS: Record<ReproduceScale, string> = {
  smoke:
    "a few minutes on a 2-core CPU (mnist-10k): cnn-small student, resnet8 / mlp teachers, 2,000 training images, 3 epochs (stronger and weaker teachers 6, the self teacher the student's 3); checks the pipeline: no verdicts",
  small:
    "~2 h on 2 cores for a 60,000-image 28x28 dataset: cnn-small student, resnet8 / mlp teachers, all images, 5 epochs (stronger and weaker teachers 8, the self teacher the student's 5), one teacher per seed",
  paper:
    "the repository's CIFAR-100 recipe (preset paper-cifar100: 200 epochs, mobilenetv2 student), one teacher per seed; days on a CPU, hours on a GPU",
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
    reproduce: { scale: req.scale, seeds: n, hyperparameters: req.hyperparameters ?? 'k-matched' },
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
  hyperparameters?: ReproduceHyperparameters
}): string {
  const hp = req.hyperparameters === 'repository' ? ' --hyperparameters repository' : ''
  return `tfkd reproduce --dataset ${req.dataset} --scale ${req.scale} --seeds ${req.seeds}${hp}`
}

export const CLAIM_IDS = ['re-kd', 'de-kd', 'tfkd-self', 'tfkd-reg'] as const
export type ClaimId = (typeof CLAIM_IDS)[number]

export type ClaimVerdict = 'supported' | 'contradicted' | 'inconclusive' | 'invalid premise'

/** One paired comparison within a claim (variant - reference over matched seeds). */
export interface ClaimComparison {
  variant: VariantId
  reference: VariantId
  /** 'improves': delta > 0; 'not-worse': delta > -margin (non-inferiority, the paper's "comparable"). */
  kind: 'improves' | 'not-worse'
  /** Matched seeds. */
  n: number
  /** Per seed: [seed, variant accuracy, reference accuracy]. */
  pairs: [number, number, number][]
  delta: number
  /** Unadjusted 95% t-interval of delta. */
  ci: [number, number]
  /** Bonferroni interval over the claims' primary tests (consistent with the Holm p). */
  ciAdjusted: [number, number]
  p: number
  /** Holm-adjusted over the claims' primary comparisons (NaN for secondary ones). */
  pHolm: number
  dz: number
  /** Whether this comparison's own criterion holds, fails, or cannot be decided. */
  outcome: 'holds' | 'fails' | 'undecided'
}

export interface PremiseCheck {
  /** What must be true for the claim's test to mean anything. */
  premise: string
  /** Measured facts, in words, with numbers. */
  measured: string
  ok: boolean | null
}

/** The paper's numbers for one claim (CIFAR-100 top-1 %), from TFKD-SPEC.md. */
export interface PaperFigure {
  setting: string
  variant: number
  reference: number
}

export interface ClaimResult {
  id: ClaimId
  title: string
  /** The primary comparison first (its p is in the Holm family), then secondary ones. */
  comparisons: ClaimComparison[]
  premises: PremiseCheck[]
  verdict: ClaimVerdict
  /** Why this verdict, in one sentence. */
  reason: string
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

export interface ReproReport {
  experimentId: number
  name: string
  datasetName: string
  /** The study's scale and seeds when it was planned by `tfkd reproduce` (else null). */
  study: { scale: ReproduceScale; seeds: number; hyperparameters?: ReproduceHyperparameters } | null
  /** K, hyperparameters and what they amount to, epochs, convergence, whether verdicts are given. */
  regime: StudyRegime | null
  /** Per-variant mean ± sd with hyperparameters, effects with intervals, per-class effects. */
  appendix: ReportAppendix | null
  selection: SelectionRule
  alpha: number
  /** Non-inferiority margin for "comparable" / "at least as good" (accuracy fraction). */
  margin: number
  resolution: number
  claims: ClaimResult[]
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
