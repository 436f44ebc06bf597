/**
 * Time estimate of a plan before it starts: the runs `expandPlan` will train, each at the measured
 * samples/s of its model on this machine (median of recent epochs), or a conservative guess.
 */
import { expandPlan, resolvePlan, type ExperimentPlanInput } from '../../../shared/plan'

/** Samples/s assumed for a model never trained here (slow on purpose: better early than late). */
export const UNMEASURED_SAMPLES_PER_SEC = 300

export interface PlanEstimate {
  runs: number
  teachers: number
  students: number
  /** Total seconds, or null when the plan does not resolve. */
  seconds: number
  /** Models without a measurement (the guess was used). */
  unmeasured: string[]
}

export function trainSamplesPerEpoch(
  datasetTrain: number,
  validationFraction: number,
  maxTrainSamples: number,
): number {
  const train = Math.floor(datasetTrain * (1 - validationFraction))
  return maxTrainSamples > 0 ? Math.min(train, maxTrainSamples) : train
}

export function estimatePlan(
  input: ExperimentPlanInput,
  datasetTrain: number,
  throughput: Readonly<Record<string, number>>,
): PlanEstimate {
  const plan = resolvePlan(input)
  const runs = expandPlan(plan)
  const unmeasured = new Set<string>()
  let seconds = 0
  for (const r of runs) {
    const sps = throughput[r.config.model]
    if (!sps) unmeasured.add(r.config.model)
    const perEpoch = trainSamplesPerEpoch(datasetTrain, r.config.validationFraction, r.config.maxTrainSamples)
    // Validation and test passes run forward-only: about a third of a training sample each.
    const evalSamples = datasetTrain * r.config.validationFraction
    seconds += (r.config.epochs * (perEpoch + evalSamples / 3)) / (sps || UNMEASURED_SAMPLES_PER_SEC)
  }
  const teachers = runs.filter((r) => r.role === 'teacher').length
  return {
    runs: runs.length,
    teachers,
    students: runs.length - teachers,
    seconds,
    unmeasured: [...unmeasured],
  }
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–'
  if (ms < 10_000) return `${(Math.max(0, ms) / 1000).toFixed(1)}s`
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  return m < 60 ? `${m}m ${s % 60}s` : `${Math.floor(m / 60)}h ${m % 60}m`
}

export function formatAccuracy(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(2)}%`
}

/**
 * What an estimate rests on, in words: the training speed measured here per model, or the guess
 * used for models never trained on this machine.
 */
export function estimateBasis(
  input: ExperimentPlanInput,
  throughput: Readonly<Record<string, number>>,
): string {
  const models = [...new Set(expandPlan(resolvePlan(input)).map((r) => r.config.model))]
  const measured = models.filter((m) => throughput[m])
  const guessed = models.filter((m) => !throughput[m])
  const parts: string[] = []
  if (measured.length)
    parts.push(
      `measured here: ${measured.map((m) => `${m} ${Math.round(throughput[m]!)} samples/s`).join(', ')}`,
    )
  if (guessed.length)
    parts.push(
      `not measured here yet, guessed at ${UNMEASURED_SAMPLES_PER_SEC} samples/s: ${guessed.join(', ')}`,
    )
  return parts.join('; ')
}
