import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as tf from '@tensorflow/tfjs-core'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadBackend } from '../../../src/core/backend/ladder'
import { crossEntropy, makeLoss, virtualTeacherLogProbs } from '../../../src/core/distill/losses'
import { dkdWarmup } from '../../../src/core/distill/logit-baselines'
import { VARIANTS, resolveVariantParams } from '../../../src/shared/variants'
import { PAPER_VARIANT_IDS, VARIANT_IDS, type VariantId } from '../../../src/shared/types'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const MAIN_GOLDEN = path.join(repoRoot, 'test', 'fixtures', 'golden-losses.json')
const ALT_GOLDEN = path.join(repoRoot, 'test', 'fixtures', 'golden-losses-alt.json')

/** The golden file: $GOLDEN_LOSSES when set, else the repository's test/fixtures/golden-losses.json. */
function goldenPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.GOLDEN_LOSSES ? path.resolve(env.GOLDEN_LOSSES) : MAIN_GOLDEN
}

interface GoldenCase {
  name: string
  variant: VariantId
  params: Record<string, unknown>
  logits: number[][]
  labels: number[]
  teacherLogits?: number[][]
  loss: number
  gradLogits: number[][]
}
interface GoldenFile {
  about: string
  tolerance: { lossRelative: number; gradAbsolute: number }
  cases: GoldenCase[]
}

function loadGolden(file: string): GoldenFile {
  if (!existsSync(file)) {
    throw new Error(
      `golden loss file not found at ${file} (GOLDEN_LOSSES names another file; scripts/golden-losses.py --main regenerates the repository's)`,
    )
  }
  return JSON.parse(readFileSync(file, 'utf8')) as GoldenFile
}

/** Loss and d loss / d logits in float32 on the current backend. */
function evaluate(c: GoldenCase): { loss: number; grad: number[][] } {
  return tf.tidy(() => {
    const numClasses = c.logits[0]!.length
    const logits = tf.tensor2d(c.logits, undefined, 'float32')
    const labels = tf.tensor1d(c.labels, 'int32')
    const teacherLogits = c.teacherLogits ? tf.tensor2d(c.teacherLogits, undefined, 'float32') : undefined
    const loss = makeLoss(c.variant, c.params)
    const f = (z: tf.Tensor) => loss({ logits: z as tf.Tensor2D, labels, numClasses, teacherLogits })
    const value = f(logits).dataSync()[0]!
    const grad = tf.grad(f)(logits).arraySync() as number[][]
    return { loss: value, grad }
  })
}

function checkFile(file: string): void {
  const golden = loadGolden(file)
  const { lossRelative, gradAbsolute } = golden.tolerance
  expect(golden.cases.length).toBeGreaterThan(0)
  for (const c of golden.cases) {
    const got = evaluate(c)
    const rel = Math.abs(got.loss - c.loss) / Math.max(Math.abs(c.loss), 1e-12)
    expect(rel, `${c.name}: loss ${got.loss} vs ${c.loss}`).toBeLessThanOrEqual(lossRelative)
    let worst = 0
    c.gradLogits.forEach((row, i) =>
      row.forEach((g, k) => (worst = Math.max(worst, Math.abs(got.grad[i]![k]! - g)))),
    )
    expect(worst, `${c.name}: max |grad - golden|`).toBeLessThanOrEqual(gradAbsolute)
  }
}

beforeAll(async () => {
  await loadBackend({ pin: 'cpu' })
})

describe('golden losses', () => {
  it(`matches every case of the golden file (${process.env.GOLDEN_LOSSES ? '$GOLDEN_LOSSES' : 'test/fixtures/golden-losses.json'})`, () => {
    checkFile(goldenPath())
  })

  it('matches the alternative golden file when GOLDEN_LOSSES points at it', () => {
    const file = goldenPath({ GOLDEN_LOSSES: ALT_GOLDEN })
    expect(file).toBe(ALT_GOLDEN)
    const variants = new Set(loadGolden(file).cases.map((c) => c.variant))
    expect([...variants].sort()).toEqual([...PAPER_VARIANT_IDS].sort())
    checkFile(file)
  })

  it('defaults to the repository file, which covers every variant and the standardize switch', () => {
    expect(goldenPath({})).toBe(MAIN_GOLDEN)
    const cases = loadGolden(MAIN_GOLDEN).cases
    const covered = new Set([...cases, ...loadGolden(ALT_GOLDEN).cases].map((c) => c.variant))
    expect([...covered].sort()).toEqual([...VARIANT_IDS].sort())
    const withStd = cases.filter((c) => c.params.standardize === true)
    expect(withStd.map((c) => c.variant)).toEqual(expect.arrayContaining(['kd', 'dkd', 'kd-std']))
    // K = 2 and K = 100 for each later baseline, and large logits.
    for (const v of ['dkd', 'dist', 'kd'] as const) {
      const ks = cases
        .filter((c) => c.variant === v && (v !== 'kd' || c.params.standardize === true))
        .map((c) => c.logits[0]!.length)
      expect(ks, v).toEqual(expect.arrayContaining([2, 100]))
    }
    expect(cases.filter((c) => c.name.includes('large-logits')).length).toBeGreaterThanOrEqual(3)
  })
})

describe('variant losses', () => {
  const logits = () =>
    tf.tensor2d([
      [2, -1, 0.5],
      [0.1, 0.2, 3],
    ])
  const labels = () => tf.tensor1d([0, 2], 'int32')

  it('virtual teacher matches the spec example (K=100, a=0.99, T=20)', () => {
    const v = tf.tidy(() =>
      tf.exp(virtualTeacherLogProbs(tf.tensor1d([3], 'int32'), 100, 0.99, 20)).arraySync(),
    )
    expect(v[0]![3]).toBeCloseTo(0.010502, 6)
    expect(v[0]![0]).toBeCloseTo(0.009995, 6)
  })

  it('teacher variants refuse to run without teacher logits', () => {
    for (const v of ['kd', 're-kd', 'de-kd', 'tfkd-self'] as const) {
      expect(() => tf.tidy(() => makeLoss(v)({ logits: logits(), labels: labels(), numClasses: 3 }))).toThrow(
        /needs teacherLogits/,
      )
    }
  })

  it('rejects wrong shapes with what was expected and received', () => {
    expect(() =>
      tf.tidy(() => makeLoss('baseline')({ logits: logits(), labels: labels(), numClasses: 4 })),
    ).toThrow(/expected logits \[N, 4\], received \[2, 3\]/)
  })

  it('teacher-free variants run without teacher logits (lsr with eps 0 is cross-entropy)', () => {
    const args = () => ({ logits: logits(), labels: labels(), numClasses: 3 })
    const ce = tf.tidy(() => crossEntropy(logits(), labels(), 3).dataSync()[0]!)
    const lsr0 = tf.tidy(() => makeLoss('lsr', { epsilon: 0 })(args()).dataSync()[0]!)
    expect(lsr0).toBeCloseTo(ce, 6)
    const reg = tf.tidy(() => makeLoss('tfkd-reg')(args()).dataSync()[0]!)
    expect(Number.isFinite(reg)).toBe(true)
  })

  it('alpha 0 reduces every distillation loss to cross-entropy', () => {
    const ce = tf.tidy(() => crossEntropy(logits(), labels(), 3).dataSync()[0]!)
    for (const v of ['kd', 're-kd', 'de-kd', 'tfkd-self', 'tfkd-reg'] as const) {
      const got = tf.tidy(
        () =>
          makeLoss(v, { alpha: 0 })({
            logits: logits(),
            labels: labels(),
            numClasses: 3,
            teacherLogits: logits(),
          }).dataSync()[0]!,
      )
      expect(got, v).toBeCloseTo(ce, 6)
    }
  })

  it('stays finite in float32 when the teacher is extremely confident', () => {
    const got = tf.tidy(
      () =>
        makeLoss('kd', { temperature: 1 })({
          logits: logits(),
          labels: labels(),
          numClasses: 3,
          teacherLogits: tf.tensor2d([
            [1000, -1000, 0],
            [-500, 0, 800],
          ]),
        }).dataSync()[0]!,
    )
    expect(Number.isFinite(got)).toBe(true)
  })

  it('leaks no tensors', () => {
    const before = tf.memory().numTensors
    tf.tidy(() => {
      for (const v of VARIANT_IDS)
        makeLoss(v)({ logits: logits(), labels: labels(), numClasses: 3, teacherLogits: logits() })
    })
    const l = logits()
    const y = labels()
    const out = makeLoss('tfkd-self')({ logits: l, labels: y, numClasses: 3, teacherLogits: l })
    tf.dispose([l, y, out])
    expect(tf.memory().numTensors).toBe(before)
  })
})

describe('later logit baselines', () => {
  const z = () =>
    tf.tensor2d([
      [2, -1, 0.5, 0.3],
      [0.1, 0.2, 3, -2],
      [1, 1, -1, 0],
    ])
  const t = () =>
    tf.tensor2d([
      [4, -2, 1, 0],
      [0, 1, 5, -1],
      [2, 0, -3, 1],
    ])
  const y = () => tf.tensor1d([0, 2, 1], 'int32')
  const value = (f: () => tf.Scalar) => tf.tidy(() => f().dataSync()[0]!)

  it('standardize makes KD blind to the scale and shift of either logit row; CE keeps the raw logits', () => {
    const kd = makeLoss('kd', { standardize: true, temperature: 2 })
    const a = value(() => kd({ logits: z(), labels: y(), numClasses: 4, teacherLogits: t() }))
    const scaledTeacher = value(() =>
      kd({
        logits: z(),
        labels: y(),
        numClasses: 4,
        teacherLogits: tf.add(tf.mul(t(), 7), 3) as tf.Tensor2D,
      }),
    )
    expect(scaledTeacher).toBeCloseTo(a, 5)
    const plain = value(() =>
      makeLoss('kd', { temperature: 2 })({ logits: z(), labels: y(), numClasses: 4, teacherLogits: t() }),
    )
    expect(Math.abs(plain - a)).toBeGreaterThan(1e-3)
    const ce = value(() => crossEntropy(z(), y(), 4))
    const alpha0 = value(() =>
      makeLoss('kd-std', { alpha: 0 })({ logits: z(), labels: y(), numClasses: 4, teacherLogits: t() }),
    )
    expect(alpha0).toBeCloseTo(ce, 6)
  })

  it("DKD's warm-up: 0 at the start, scaled to a short plan, 1 after it and outside training", () => {
    expect(dkdWarmup(20, undefined)).toBe(1)
    expect(dkdWarmup(20, { epoch: 10, epochs: 240 })).toBe(0.5)
    expect(dkdWarmup(20, { epoch: 30, epochs: 240 })).toBe(1)
    // A 12-epoch plan warms up over 20 x 12 / 240 = 1 epoch.
    expect(dkdWarmup(20, { epoch: 0.25, epochs: 12 })).toBeCloseTo(0.25, 12)
    expect(dkdWarmup(20, { epoch: 1, epochs: 12 })).toBe(1)
    expect(dkdWarmup(0, { epoch: 0.1, epochs: 12 })).toBe(1)
    const dkd = makeLoss('dkd')
    const ce = value(() => crossEntropy(z(), y(), 4))
    const early = value(() =>
      dkd({
        logits: z(),
        labels: y(),
        numClasses: 4,
        teacherLogits: t(),
        progress: { epoch: 0, epochs: 240 },
      }),
    )
    expect(early).toBeCloseTo(ce, 6)
    const half = value(() =>
      dkd({
        logits: z(),
        labels: y(),
        numClasses: 4,
        teacherLogits: t(),
        progress: { epoch: 10, epochs: 240 },
      }),
    )
    const full = value(() => dkd({ logits: z(), labels: y(), numClasses: 4, teacherLogits: t() }))
    expect(half - ce).toBeCloseTo((full - ce) / 2, 5)
  })

  it('DIST and DKD refuse to run without a teacher, and DIST has a finite gradient on a batch of one', () => {
    for (const v of ['dkd', 'dist', 'kd-std'] as const)
      expect(() => tf.tidy(() => makeLoss(v)({ logits: z(), labels: y(), numClasses: 4 })), v).toThrow(
        /needs teacherLogits/,
      )
    const g = tf.tidy(() => {
      const one = tf.tensor2d([[1, 2, 0.5]])
      const teacher = tf.tensor2d([[3, 0, 1]])
      const labels = tf.tensor1d([1], 'int32')
      const loss = makeLoss('dist', { temperature: 4 })
      return tf
        .grad((x: tf.Tensor) =>
          loss({ logits: x as tf.Tensor2D, labels, numClasses: 3, teacherLogits: teacher }),
        )(one)
        .arraySync() as number[][]
    })
    expect(g[0]!.every(Number.isFinite)).toBe(true)
  })
})

describe('variant registry', () => {
  it('lists all seven variants with a teacher kind and defaults from the spec', () => {
    expect(Object.keys(VARIANTS).sort()).toEqual([...VARIANT_IDS].sort())
    expect(makeLoss('kd').params).toEqual({
      alpha: 0.95,
      temperature: 20,
      multiplier: 1,
      reduction: 'elementwise_mean',
      standardize: false,
    })
    expect(makeLoss('re-kd').params).toMatchObject({ alpha: 0.6, temperature: 20 })
    expect(makeLoss('de-kd').params).toMatchObject({ alpha: 0.95, temperature: 20 })
    expect(makeLoss('tfkd-self').params).toMatchObject({ alpha: 0.95, temperature: 20, multiplier: 1 })
    expect(makeLoss('tfkd-reg').params).toEqual({
      alpha: 0.95,
      temperature: 20,
      multiplier: 1,
      correctProb: 0.99,
      studentTemperature: 'one',
      reduction: 'elementwise_mean',
    })
    expect(makeLoss('lsr').params).toEqual({ epsilon: 0.1 })
    expect(VARIANTS['re-kd'].teacher).toBe('weaker')
    expect(VARIANTS['de-kd'].teacher).toBe('poor-snapshot')
    expect(VARIANTS['tfkd-self'].teacher).toBe('same-arch')
    expect(VARIANTS['tfkd-reg'].teacher).toBe('none')
  })

  it('gives the later baselines their reference defaults and a stronger teacher', () => {
    expect(makeLoss('dkd').params).toEqual({
      alpha: 1,
      beta: 8,
      temperature: 4,
      warmupEpochs: 20,
      standardize: false,
    })
    expect(makeLoss('dist').params).toEqual({ beta: 1, gamma: 1, temperature: 1 })
    expect(VARIANTS.dist.presets.CIFAR).toEqual({ beta: 2, gamma: 2, temperature: 4 })
    expect(makeLoss('kd-std').params).toEqual({
      alpha: 0.9,
      temperature: 2,
      multiplier: 10,
      reduction: 'batchmean',
      standardize: true,
    })
    for (const v of ['dkd', 'dist', 'kd-std'] as const) {
      expect(VARIANTS[v].teacher, v).toBe('stronger')
      expect(VARIANTS[v].paper, v).toMatch(/20(22|24)/)
    }
    for (const v of ['kd', 're-kd', 'de-kd', 'tfkd-self', 'dkd', 'kd-std'] as const)
      expect(Object.keys(VARIANTS[v].params.shape), v).toContain('standardize')
    expect(Object.keys(VARIANTS.dist.params.shape)).not.toContain('standardize')
    expect(() => makeLoss('dkd', { beta: -1 })).toThrow()
    expect(() => makeLoss('dist', { standardize: true })).toThrow(/standardize/)
  })

  it('applies per-model repository values, and explicit values win', () => {
    expect(resolveVariantParams('tfkd-reg', {}, 'mobilenetv2').temperature).toBe(40)
    expect(resolveVariantParams('tfkd-reg', {}, 'shufflenetv2').temperature).toBe(10)
    expect(resolveVariantParams('tfkd-reg', { temperature: 7 }, 'shufflenetv2').temperature).toBe(7)
    expect(resolveVariantParams('tfkd-reg', {}, 'resnet20').temperature).toBe(20)
  })

  it('rejects out-of-range values and unknown keys', () => {
    expect(() => makeLoss('kd', { alpha: 1.5 })).toThrow()
    expect(() => makeLoss('kd', { temperature: 0 })).toThrow()
    expect(() => makeLoss('lsr', { epsilon: 1 })).toThrow()
    expect(() => makeLoss('tfkd-reg', { correctProb: 1 })).toThrow()
    expect(() => makeLoss('tfkd-self', { multiplier: 0 })).toThrow()
    expect(() => makeLoss('kd', { multiplier: 0 })).toThrow() // kd has a multiplier now (K-matched values)
    expect(() => makeLoss('kd', { multipler: 2 })).toThrow()
    expect(() => makeLoss('baseline', { alpha: 0.5 })).toThrow()
  })
})
