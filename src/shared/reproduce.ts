/**
 * The reproduction study: one plan that tests the paper's four claims on the user's data, at a scale
 * (smoke: minutes on a laptop CPU; small: ~2 h on 2 cores for a 60,000-image 28x28 set; paper: the
 * repository's CIFAR-100 recipe), and the types of its report. TF-free, so the CLI, the UI and the
 * core build and read the same plan. The paper's own numbers come from docs/method-spec.md.
 */
import type { ExperimentPlanInput } from './plan'
import type { VariantId } from './types'
import type { SelectionRule } from './selection'

export const REPRODUCE_SCALES = ['smoke', 'small', 'paper'] as const
export type ReproduceScale = (typeof REPRODUCE_SCALES)[number]

export interface ReproduceRequest {
  /** Dataset id or name. */
  dataset: string
  scale: ReproduceScale
  /** Number of seeds (1..n); default 3, the fewest that give a verdict. */
  seeds?: number
}

export const SCALE_DESCRIPTIONS: Record<ReproduceScale, string> = {
  smoke:
    'a few minutes on a 2-core CPU (mnist-10k): cnn-small student, resnet8 / mlp teachers, 2,000 training images, 3 epochs (teachers 6); checks the pipeline, not the claims',
  small:
    '~2 h on 2 cores for a 60,000-image 28x28 dataset: cnn-small student, resnet8 / mlp teachers, all images, 5 epochs (teachers 8), one teacher per seed',
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
    reproduce: { scale: req.scale, seeds: n },
  } satisfies ExperimentPlanInput
  switch (req.scale) {
    case 'smoke':
      return {
        ...common,
        student: 'cnn-small',
        strongerTeacher: 'resnet8',
        weakerTeacher: 'mlp',
        variants: ['baseline', 'lsr', 'kd', 're-kd', 'de-kd', 'tfkd-self', 'tfkd-reg'],
        // Teachers train longer than students so that the KD teacher is measurably stronger; the
        // de-kd teacher is its first-epoch snapshot.
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
export function reproduceCommand(req: { dataset: string; scale: ReproduceScale; seeds: number }): string {
  return `tfkd reproduce --dataset ${req.dataset} --scale ${req.scale} --seeds ${req.seeds}`
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

/** The paper's numbers for one claim (CIFAR-100 top-1 %), from docs/method-spec.md. */
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
  study: { scale: ReproduceScale; seeds: number } | null
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
