/**
 * Issue 19's cases through `tfkd report` on a real SQLite file: studies are written into a store the
 * way the trainer leaves them (teacher runs with their test results and epoch metrics, students with
 * their teacher references, an imported ONNX teacher with the accuracy measured at import), then the
 * CLI renders the report in a real process. No issue case may print "supported" (the second study's
 * clean claims (a) and (d) are the controls that show the logic can still say yes).
 */
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openDatabase } from '../../src/core/store/db'
import { createStore, type Store } from '../../src/core/store/store'
import { ensureBundledDatasets } from '../../src/core/services/open-store'
import { resolvePlan } from '../../src/shared/plan'
import { reproducePlan } from '../../src/shared/reproduce'
import { resolveRunConfig } from '../../src/shared/schemas'
import { PAPER_VARIANT_IDS, type EvalReport, type TeacherRef, type VariantId } from '../../src/shared/types'
import { CLI_ENTRY, requireBuiltTrainer, tempHome } from '../helpers'

const home = tempHome('tfkd-report-claims-')
afterAll(() => home.cleanup())

function tfkd(args: string[]) {
  requireBuiltTrainer()
  const r = spawnSync(process.execPath, [CLI_ENTRY, ...args], {
    env: { ...process.env, TFKD_HOME: home.dir },
    encoding: 'utf8',
    timeout: 60_000,
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

const evalAt = (epoch: number, accuracy: number): EvalReport => ({
  epoch,
  loss: 0.5,
  accuracy,
  top5: 1,
  ece: 0.01,
  perClassAccuracy: [],
  confusion: [],
  reliability: { bins: 0, counts: [], confidence: [], accuracy: [] },
})

const SEEDS = [1, 2, 3, 4, 5]
const EPOCHS = 5

/** Writes one completed run (teacher or student) with its epoch metrics and test results. */
function completedRun(
  store: Store,
  o: {
    experimentId: number
    datasetId: number
    variant: VariantId
    seed: number
    model: string
    accuracy: number
    role?: 'teacher' | 'student'
    teacher?: TeacherRef | null
    importedTeacher?: { id: number; sha256: string }
    /** Validation accuracy per epoch (default: rising to `accuracy`). */
    val?: (epoch: number) => number
  },
): number {
  const config = resolveRunConfig({
    variant: o.variant,
    seed: o.seed,
    model: o.model,
    epochs: EPOCHS,
    teacher: o.teacher ?? null,
    ...(o.importedTeacher ? { importedTeacher: o.importedTeacher } : {}),
  })
  const run = store.runs.insert({
    experimentId: o.experimentId,
    datasetId: o.datasetId,
    config,
    role: o.role ?? 'student',
    teacherRunId: o.teacher?.runId ?? null,
  })
  store.runs.markRunning(run.id, 'wasm', 'cpu')
  for (let e = 1; e <= EPOCHS; e++) {
    const valAccuracy = o.val ? o.val(e) : o.accuracy - 0.01 * (EPOCHS - e)
    store.runs.recordEpoch(run.id, {
      epoch: e,
      trainLoss: 1 / e,
      trainAccuracy: valAccuracy,
      valLoss: 1 / e,
      valAccuracy,
      learningRate: 0.1,
      durationMs: 10,
      samplesPerSec: 100,
    })
  }
  store.runs.complete(run.id, {
    testAccuracy: o.accuracy,
    testLoss: 0.5,
    bestEpoch: EPOCHS,
    bestValAccuracy: o.accuracy,
    details: { best: evalAt(EPOCHS, o.accuracy), last: evalAt(EPOCHS, o.accuracy), selection: 'validation' },
  })
  return run.id
}

interface Study {
  /** Per variant: test-image offsets from the baseline, per seed. */
  offsets: Record<Exclude<(typeof PAPER_VARIANT_IDS)[number], 'baseline'>, number[]>
  teachers: { stronger: number; weaker: number; self: number }
  /** The de-kd snapshot's validation accuracy at epoch 1 (its test accuracy is never measured). */
  deKdSnapshotVal: number
  /** Use an imported ONNX teacher for kd (accuracy measured at import) instead of a trained one. */
  importedKd?: number
}

/** Writes a whole reproduction study (all seven variants, 5 seeds) and returns its experiment id. */
function writeStudy(store: Store, study: Study): number {
  const ds = store.datasets.byName('mnist-10k')!
  const n = ds.counts.test
  const plan = resolvePlan(reproducePlan({ dataset: 'mnist-10k', scale: 'small', seeds: 5 }))
  const experimentId = store.experiments.insert({ name: plan.name, datasetId: ds.id, plan })
  const common = { experimentId, datasetId: ds.id }
  const base = [0.9, 0.905, 0.895, 0.9025, 0.8975].map((a) => Math.round(a * n) / n)
  const teacher = (model: string, accuracy: number, seed: number, val?: (e: number) => number) =>
    completedRun(store, {
      ...common,
      variant: 'baseline',
      role: 'teacher',
      model,
      seed,
      accuracy,
      ...(val ? { val } : {}),
    })
  const imported = study.importedKd
    ? store.onnxTeachers.insert({
        name: 'resnet-onnx',
        datasetId: ds.id,
        path: '/nonexistent/resnet.onnx',
        sourcePath: '/nonexistent/resnet.onnx',
        sha256: 'a'.repeat(64),
        bytes: 1,
        producer: 'pytorch 2.1, opset 17',
        preprocessing: {
          layout: 'nchw',
          mean: [0.5],
          std: [0.25],
          inputSize: [28, 28],
          channels: 1,
          inputName: 'x',
          outputName: 'y',
          outputClasses: 10,
          classMap: null,
        },
        testAccuracy: study.importedKd,
        testCount: n,
        chanceAccuracy: 0.1135,
        nearChance: false,
        evalDevice: 'cpu',
        evalMs: 10,
      })
    : null
  for (const [i, seed] of SEEDS.entries()) {
    const strong = teacher('resnet8', study.teachers.stronger, seed + 1000, (e) =>
      e === 1 ? study.deKdSnapshotVal : study.teachers.stronger,
    )
    const weak = teacher('mlp', study.teachers.weaker, seed + 1000)
    const self = teacher('cnn-small', study.teachers.self, seed + 1000)
    const student = (variant: VariantId, offset: number, t: TeacherRef | null) =>
      completedRun(store, {
        ...common,
        variant,
        seed,
        model: 'cnn-small',
        accuracy: base[i]! + offset / n,
        teacher: t,
        ...(variant === 'kd' && imported
          ? { importedTeacher: { id: imported.id, sha256: imported.sha256 } }
          : {}),
      })
    const ref = (runId: number, epoch: number | null = null): TeacherRef => ({
      runId,
      epoch,
      targetAccuracy: null,
    })
    student('baseline', 0, null)
    student('lsr', study.offsets.lsr[i]!, null)
    student('tfkd-reg', study.offsets['tfkd-reg'][i]!, null)
    student('kd', study.offsets.kd[i]!, imported ? null : ref(strong))
    student('re-kd', study.offsets['re-kd'][i]!, ref(weak))
    student('de-kd', study.offsets['de-kd'][i]!, ref(strong, 1))
    student('tfkd-self', study.offsets['tfkd-self'][i]!, ref(self))
  }
  return experimentId
}

const VERDICT_ROW = /^\| \(([abcd])\) [^|]*\| \*\*([a-z ]+)\*\* \|/

/** The claims table's verdicts, by claim letter. */
function verdicts(md: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of md.split('\n')) {
    const m = VERDICT_ROW.exec(line)
    if (m) out[m[1]!] = m[2]!
  }
  return out
}

describe('tfkd report on a real SQLite file: issue 19 cases', () => {
  let nothingWorks = 0
  let unmeasured = 0

  beforeAll(() => {
    const store = createStore(openDatabase(join(home.dir, 'tfkd.sqlite')))
    ensureBundledDatasets(store)
    // (d) "supported when nothing works": KD, LSR and Tf-KD reg all ~4 pp below the baseline
    nothingWorks = writeStudy(store, {
      offsets: {
        lsr: [-80, -79, -81, -80, -78],
        kd: [-80, -78, -82, -79, -81],
        'tfkd-reg': [-80, -79, -81, -80, -78],
        're-kd': [4, -3, 2, 0, 1],
        'de-kd': [3, -2, 1, 0, -1],
        'tfkd-self': [2, 1, -1, 3, 0],
      },
      teachers: { stronger: 0.97, weaker: 0.8, self: 0.9 },
      deKdSnapshotVal: 0.3,
    })
    // an imported KD teacher (measured at import), a De-KD snapshot measured only on validation and a
    // self-teacher trained longer than the student (94.6% against a ~90% baseline)
    unmeasured = writeStudy(store, {
      offsets: {
        lsr: [14, 16, 15, 13, 15],
        kd: [22, 24, 20, 23, 21],
        'tfkd-reg': [22, 22, 20, 24, 21],
        're-kd': [18, 20, 19, 17, 21],
        'de-kd': [16, 18, 17, 19, 15],
        'tfkd-self': [22, 23, 21, 24, 22],
      },
      teachers: { stronger: 0.97, weaker: 0.8, self: 0.946 },
      deKdSnapshotVal: 0.3,
      importedKd: 0.96,
    })
    store.close()
  })

  it('(d) with KD, LSR and Tf-KD reg all below the baseline: "reference failed", nothing "supported"', () => {
    const r = tfkd(['report', '--experiment', String(nothingWorks), '--format', 'md'])
    expect(r.code, r.err).toBe(0)
    expect(verdicts(r.out)).toMatchObject({ d: 'reference failed', c: 'reference failed' })
    expect(Object.values(verdicts(r.out))).not.toContain('supported')
    expect(r.out).toMatch(/\*\*Verdict: reference failed\*\* \(KD does not beat the baseline here/)
    // the margin fixed in the plan, the family, the power, premises as sentences
    expect(r.out).toContain('margin fixed in the plan before the study ran')
    expect(r.out).toMatch(/Holm family \(9 comparisons\): re-kd vs baseline \(improves\);/)
    expect(r.out).toMatch(/Power: With 5 seeds and a seed-difference sd of \d\.\d\d pp/)
    expect(r.out).toMatch(
      /- Met: the Re-KD teacher is measurably weaker than the baseline student\. The Re-KD \(weaker\) teacher scored 80\.00% on the test split \(mean of 5 teachers\)/,
    )
    expect(r.out).not.toMatch(/✘|✔/)
  })

  it('an imported teacher counts with its accuracy at import; a validation-only snapshot and a stronger self-teacher do not pass', () => {
    const r = tfkd(['report', '--experiment', String(unmeasured), '--format', 'md'])
    expect(r.code, r.err).toBe(0)
    expect(verdicts(r.out)).toEqual({
      a: 'supported',
      b: 'unverified premise',
      c: 'invalid premise',
      d: 'supported',
    })
    expect(r.out).toMatch(
      /Met: the normal-KD teacher is measurably stronger than the baseline student\. The KD teacher scored 96\.00% on the test split/,
    )
    expect(r.out).toMatch(
      /Unverified: the De-KD teacher snapshot \(epoch 1\) is poor: measurably below the baseline student\. The De-KD teacher snapshot \(epoch 1\)'s accuracy was not measured on the test split \(measured only on validation: 30\.00%\)/,
    )
    expect(r.out).toMatch(
      /NOT met: the self-teacher is the student trained normally.*The Tf-KD self-teacher scored 94\.60% on the test split \(mean of 5 teachers\), measurably above/,
    )
  })

  it('--margin is in percentage points within 0.05..5, and one given at report time is flagged', () => {
    const bad = tfkd(['report', '--experiment', String(unmeasured), '--margin', '49.99'])
    expect(bad.code).not.toBe(0)
    expect(bad.err).toMatch(
      /--margin: expected a margin in percentage points from 0\.05 to 5 \(e\.g\. 0\.5\), received 49\.99/,
    )
    const late = tfkd(['report', '--experiment', String(unmeasured), '--margin', '0.3'])
    expect(late.code, late.err).toBe(0)
    expect(late.out).toMatch(
      /the margin ±0\.30 pp was given at report time, not the ±0\.50 pp the plan fixed before the study/,
    )
    const help = tfkd(['report', '--help'])
    expect(help.out).toMatch(/--margin <pp>\s+margin of "comparable to" \(TOST\) and "at least as good as"/)
    expect(help.out).not.toMatch(/0\.005/)
  })
})
