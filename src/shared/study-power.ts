/**
 * Power before a reproduction study runs: for each claim, the power its primary paired t-test will
 * have to see the paper's effect with the planned seeds, from a spread of the seed differences that
 * is either measured (a pilot: an earlier study of the same scale on the same dataset) or assumed, and
 * the seed count that reaches 80 % power on every claim. Pure (power.ts), so the CLI and the Report
 * view state the same figures. Accuracies and effects are fractions (0.0141 = 1.41 pp).
 */
import { minDetectableEffect, pairedPower, seedsNeeded } from './power'
import { CLAIM_IDS, PAPER_FIGURES, type ClaimId } from './reproduce'

/**
 * The assumed sd of the per-seed differences when no pilot exists: 0.5 pp. The small Fashion-MNIST
 * study (docs/reproduce-small-fashion-mnist.md, 3 seeds) measured 0.25 to 0.72 pp on its primary tests.
 */
export const ASSUMED_SD = 0.005

/** Power is planned at 80 %, per test at alpha / CLAIM_IDS.length (Holm's strictest step). */
export const PLANNED_POWER = 0.8

export interface Spread {
  /** Standard deviation of the per-seed differences (fraction). */
  sd: number
  source: 'pilot' | 'assumed'
  /** Where it comes from, in words (the pilot's experiment and seeds, or why it is assumed). */
  detail: string
}

export interface ClaimPower {
  claim: ClaimId
  /** The comparison the power is for, in words, e.g. "re-kd vs baseline". */
  compared: string
  /** The paper's effect (its first figure for the claim, CIFAR-100), as a fraction. */
  effect: number
  /** Power with the planned seeds (NaN below 2 seeds). */
  power: number
  /** Seeds for PLANNED_POWER; null when more than 100. */
  seedsNeeded: number | null
}

export interface StudyPower {
  seeds: number
  spread: Spread
  /** The per-test level: alpha / number of claims. */
  alpha: number
  claims: ClaimPower[]
  /** The smallest difference the planned seeds detect with 80 % power (NaN below 2 seeds). */
  minDetectable: number
  /** Seeds for 80 % power on every claim (at least 3); null when some claim needs more than 100. */
  suggestedSeeds: number | null
}

const COMPARED: Record<ClaimId, string> = {
  're-kd': 're-kd vs baseline',
  'de-kd': 'de-kd vs baseline',
  'tfkd-self': 'tfkd-self vs baseline',
  'tfkd-reg': 'tfkd-reg vs lsr',
}

/** The power a study with `seeds` seeds will have, two-sided at alpha / 4 per claim. */
export function studyPower(seeds: number, spread: Spread, alpha = 0.05): StudyPower {
  const level = alpha / CLAIM_IDS.length
  const claims = CLAIM_IDS.map((claim): ClaimPower => {
    const f = PAPER_FIGURES[claim][0]!
    const effect = (f.variant - f.reference) / 100
    const common = { sd: spread.sd, alpha: level, sided: 'two' as const }
    return {
      claim,
      compared: COMPARED[claim],
      effect,
      power: seeds >= 2 ? pairedPower({ n: seeds, effect, ...common }) : NaN,
      seedsNeeded: seedsNeeded({ effect, power: PLANNED_POWER, ...common }),
    }
  })
  const needs = claims.map((c) => c.seedsNeeded)
  return {
    seeds,
    spread,
    alpha: level,
    claims,
    minDetectable:
      seeds >= 2
        ? minDetectableEffect({ n: seeds, sd: spread.sd, alpha: level, power: PLANNED_POWER, sided: 'two' })
        : NaN,
    suggestedSeeds: needs.some((n) => n === null) ? null : Math.max(3, ...(needs as number[])),
  }
}

const pp = (x: number) => `${(100 * x).toFixed(2)} pp`

/** The power statement, one line each: the spread and its source, each claim, the suggestion. */
export function powerLines(p: StudyPower): string[] {
  return [
    `Power with ${p.seeds} seeds (two-sided paired t-test at alpha ${Number(p.alpha.toPrecision(3))} per claim, ` +
      `Holm's strictest step over ${CLAIM_IDS.length}; seed-difference sd ${pp(p.spread.sd)}, ${p.spread.source}: ${p.spread.detail}):`,
    ...p.claims.map(
      (c) =>
        `  ${c.compared}, the paper's +${pp(c.effect)}: power ${Number.isNaN(c.power) ? '-' : c.power.toFixed(2)}; ` +
        `${Math.round(PLANNED_POWER * 100)}% power needs ${c.seedsNeeded ?? 'more than 100'} seeds`,
    ),
    `  smallest difference detected with ${Math.round(PLANNED_POWER * 100)}% power: ${Number.isNaN(p.minDetectable) ? '- (needs 2 seeds)' : pp(p.minDetectable)}`,
    p.suggestedSeeds === null
      ? '  suggested: more than 100 seeds for some claim (its effect is small against the spread)'
      : `  suggested: ${p.suggestedSeeds} seeds`,
  ]
}
