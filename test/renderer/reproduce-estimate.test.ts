/**
 * Issue 22, item 9: the Reproduce panel said "~2 h" (the scale's description) and "10 h 50 m" (the
 * estimate) at once. The descriptions name no duration; the one estimate says what it rests on.
 */
import { describe, expect, it } from 'vitest'
import { estimateBasis, UNMEASURED_SAMPLES_PER_SEC } from '../../src/renderer/src/lib/estimate'
import { REPRODUCE_SCALES, reproducePlan, SCALE_DESCRIPTIONS } from '../../src/shared/reproduce'

describe('the Reproduce panel gives one estimate, with its basis', () => {
  it('no scale description states a duration', () => {
    for (const s of REPRODUCE_SCALES) {
      expect(SCALE_DESCRIPTIONS[s], s).not.toMatch(/~|\d+\s*(h|min|s)\b|minutes?|hours?|days?/i)
    }
  })

  it('the estimate names the speeds it used, measured or guessed', () => {
    const plan = reproducePlan({ dataset: 'mnist-10k', scale: 'small', seeds: 3 })
    const basis = estimateBasis(plan, { 'cnn-small': 812.4 })
    expect(basis).toMatch(/^measured here: cnn-small 812 samples\/s; /)
    expect(basis).toContain(`not measured here yet, guessed at ${UNMEASURED_SAMPLES_PER_SEC} samples/s: `)
    expect(basis).toMatch(/resnet8/)
    expect(estimateBasis(plan, { 'cnn-small': 800, resnet8: 200, mlp: 3000 })).not.toMatch(/guessed/)
  })
})
