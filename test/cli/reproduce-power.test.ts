/**
 * `tfkd reproduce` states the power its plan will have before it runs, from an assumed spread or
 * from a pilot (an earlier study of the same scale on the same dataset, in a real SQLite file), and
 * `--seeds auto` takes the seeds for 80% power within `--budget` (runs, teachers + students). Planning
 * only (`--dry-run`): nothing trains.
 */
import { spawnSync } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { createAppCore } from '../../src/core/app/app-core'
import { reproducePlan } from '../../src/shared/reproduce'
import { ASSUMED_SD, studyPower } from '../../src/shared/study-power'
import { seedsWithinBudget } from '../../src/core/report/pilot'
import { CLI_ENTRY, requireBuiltTrainer, tempHome } from '../helpers'
import { writeSyntheticStudy } from '../support/synthetic-study'

const home = tempHome('tfkd-repro-power-')
afterAll(() => home.cleanup())

function tfkd(...args: string[]) {
  requireBuiltTrainer()
  const r = spawnSync(
    process.execPath,
    [CLI_ENTRY, 'reproduce', '--dataset', 'mnist-10k', '--dry-run', ...args],
    {
      env: { ...process.env, TFKD_HOME: home.dir },
      encoding: 'utf8',
      timeout: 60_000,
    },
  )
  return { code: r.status, out: r.stdout, err: r.stderr }
}

const runsOf = (out: string) => {
  const p = JSON.parse(out) as { teachers: number; students: number }
  return p.teachers + p.students
}

describe('tfkd reproduce: power before the study', () => {
  it('states the power of the planned seeds from an assumed spread, the suggestion, and the K-matched regime', () => {
    const r = tfkd('--scale', 'small', '--seeds', '3')
    expect(r.code, r.err).toBe(0)
    expect(runsOf(r.out)).toBe(33) // stdout stays the plan's JSON
    const expected = studyPower(3, { sd: ASSUMED_SD, source: 'assumed', detail: '' })
    expect(r.err).toMatch(
      /^Power with 3 seeds \(two-sided paired t-test at alpha 0\.0125 per claim.*sd 0\.50 pp, assumed: no earlier small study on mnist-10k/m,
    )
    const reKd = expected.claims.find((c) => c.claim === 're-kd')!
    expect(r.err).toContain(
      `re-kd vs baseline, the paper's +1.41 pp: power ${reKd.power.toFixed(2)}; 80% power needs ${reKd.seedsNeeded} seeds`,
    )
    expect(r.err).toContain(`suggested: ${expected.suggestedSeeds} seeds`)
    expect(r.err).toContain('K = 10 classes; hyperparameters: K-matched')
    expect(r.err).toMatch(/Effective KD weight w = alpha T\^2 m \/ K: kd 3\.80, re-kd 2\.40/)
    const repo = tfkd('--scale', 'small', '--hyperparameters', 'repository')
    expect(repo.err).toMatch(/Effective KD weight w = alpha T\^2 m \/ K: kd 38\.00/)
    expect(repo.err).toContain("warning: the repository's values were tuned at K = 100")
  })

  it('--seeds auto takes the suggestion, lowered to what --budget runs allow; a budget too small is refused', () => {
    const tight = tfkd('--scale', 'small', '--seeds', 'auto', '--budget', '45')
    expect(tight.code, tight.err).toBe(0)
    expect(tight.err).toContain('--seeds auto: 4 seeds, 44 runs, the most that fit --budget 45')
    expect(runsOf(tight.out)).toBe(44) // small: 4 teachers + 7 students per seed
    const over = tfkd('--scale', 'small', '--seeds', '5', '--budget', '40')
    expect(over.code).not.toBe(0)
    expect(over.err).toContain('--budget: 5 seeds plan 55 runs, more than the budget of 40')
    // The choice itself, with the same run counts.
    const runsFor = (n: number) => 10 * n
    expect(seedsWithinBudget(5, null, runsFor)).toEqual({ seeds: 5, runs: 50, limitedBy: 'power' })
    expect(seedsWithinBudget(5, 1000, runsFor)).toEqual({ seeds: 5, runs: 50, limitedBy: 'power' })
    expect(seedsWithinBudget(null, 75, runsFor)).toEqual({ seeds: 7, runs: 70, limitedBy: 'budget' })
    expect(() => seedsWithinBudget(5, 20, runsFor)).toThrow(
      '--budget: 20 runs do not fit the 3 seeds a verdict needs (30 runs); raise --budget to at least 30',
    )
    expect(() => seedsWithinBudget(null, null, runsFor)).toThrow(/no seed count up to 100 gives 80% power/)
  })

  it('uses a pilot: the pooled sd of an earlier study of the same scale on the same dataset', async () => {
    const core = createAppCore({
      dataHome: home.dir,
      host: 'cli',
      spawnTrainer: () => {
        throw new Error('nothing may train')
      },
    })
    try {
      // Per-seed differences of every primary comparison: +1, +2, +3 pp (sd 1 pp).
      writeSyntheticStudy(core, reproducePlan({ dataset: 'mnist-10k', scale: 'small', seeds: 3 }), (r) => ({
        accuracy: 0.9 + (['re-kd', 'de-kd', 'tfkd-self', 'tfkd-reg'].includes(r.variant) ? 0.01 * r.seed : 0),
      }))
      const handlerPower = await core.handlers['reproduce:power']({
        dataset: 'mnist-10k',
        scale: 'small',
        seeds: 3,
      })
      expect(handlerPower.spread.source).toBe('pilot')
      expect(handlerPower.spread.sd).toBeCloseTo(0.01, 10)
      // Another scale has no pilot.
      const smoke = await core.handlers['reproduce:power']({ dataset: 'mnist-10k', scale: 'smoke', seeds: 3 })
      expect(smoke.spread.source).toBe('assumed')
    } finally {
      await core.close()
    }
    const r = tfkd('--scale', 'small', '--seeds', '3')
    expect(r.err).toMatch(
      /sd 1\.00 pp, pilot: pooled over the four primary comparisons of experiment 1 \(small, 3 seeds, mnist-10k\)/,
    )
  })
})
