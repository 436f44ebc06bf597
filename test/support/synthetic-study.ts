/**
 * A study written into a real SQLite store without training: the plan goes through the real plan
 * builder (`core.plans.prepare`: resolution, K-matching, expansion, configs), then the experiment and
 * its runs are stored with lineage, per-epoch validation curves and test results the test chooses.
 * For report tests that need exact per-seed numbers (a trained study's numbers are not predictable).
 */
import type { AppCore } from '../../src/core/app/app-core'
import type { ExperimentPlanInput } from '../../src/shared/plan'
import type { EvalReport, VariantId } from '../../src/shared/types'

export interface SyntheticRun {
  role: 'teacher' | 'student'
  variant: VariantId
  model: string
  seed: number
  epochs: number
}

export interface SyntheticOutcome {
  /** Test accuracy (best = last). */
  accuracy: number
  /** Validation accuracy per epoch (default: flat at `accuracy`). */
  val?: number[]
  /** Per-class test accuracy (default: `accuracy` for every class). */
  perClass?: number[]
}

function evalReport(epoch: number, o: SyntheticOutcome, classes: number): EvalReport {
  return {
    epoch,
    loss: 1 - o.accuracy,
    accuracy: o.accuracy,
    top5: 1,
    ece: 0,
    perClassAccuracy: o.perClass ?? new Array<number>(classes).fill(o.accuracy),
    confusion: [],
    reliability: { bins: 0, counts: [], confidence: [], accuracy: [] },
  }
}

/** Stores the plan's experiment and every run completed with `outcome(run)`; returns the experiment id. */
export function writeSyntheticStudy(
  core: AppCore,
  input: ExperimentPlanInput,
  outcome: (run: SyntheticRun) => SyntheticOutcome,
): number {
  const { store } = core
  const { plan, ds, planned, configs } = core.plans.prepare(input)
  const k = ds.classNames.length
  const experimentId = store.experiments.insert({ name: plan.name, datasetId: ds.id, plan })
  const teacherRun = new Map<string, number>()
  planned.forEach((p, i) => {
    const config = configs[i]!
    const teacherId = p.teacher ? teacherRun.get(p.teacher.key)! : null
    const run = store.runs.insert({
      experimentId,
      datasetId: ds.id,
      config: {
        ...config,
        teacher: teacherId ? { runId: teacherId, epoch: p.teacher!.epoch, targetAccuracy: null } : null,
      },
      teacherRunId: teacherId,
      role: p.role,
    })
    if (p.role === 'teacher') teacherRun.set(p.key, run.id)
    const o = outcome({
      role: p.role === 'teacher' ? 'teacher' : 'student',
      variant: config.variant,
      model: config.model,
      seed: config.seed,
      epochs: config.epochs,
    })
    const val = o.val ?? new Array<number>(config.epochs).fill(o.accuracy)
    store.runs.markRunning(run.id, 'cpu', 'test CPU')
    val.forEach((v, j) =>
      store.runs.recordEpoch(run.id, {
        epoch: j + 1,
        trainLoss: 1,
        trainAccuracy: v,
        valLoss: 1 - v,
        valAccuracy: v,
        learningRate: 0.1,
        durationMs: 10,
        samplesPerSec: 100,
      }),
    )
    const last = evalReport(val.length, o, k)
    store.runs.complete(run.id, {
      testAccuracy: o.accuracy,
      testLoss: 1 - o.accuracy,
      bestEpoch: val.length,
      bestValAccuracy: val.at(-1)!,
      details: { best: last, last, selection: 'validation' },
    })
  })
  return experimentId
}
