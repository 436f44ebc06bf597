/** The selection rule travels into chart titles and table titles, best-on-test flagged. */
import { describe, expect, it } from 'vitest'
import { buildDeKdOption } from '../../src/shared/charts/analysis'
import { isSelectedOnTest, selectionTitle } from '../../src/shared/selection'

describe('selection labels', () => {
  it('titles say how the number was chosen and flag best-on-test', () => {
    expect(selectionTitle({ selection: 'best-on-validation' })).toBe(
      'Test accuracy at the epoch chosen on validation',
    )
    expect(selectionTitle({ selection: 'best-on-test' })).toMatch(/^⚠ Best-on-TEST accuracy/)
    expect(selectionTitle({ selection: 'last-epoch' })).toBe('Test accuracy after the last epoch')
    expect(isSelectedOnTest('mixed')).toBe(true)
    expect(isSelectedOnTest('last-epoch')).toBe(false)
  })

  it('the De-KD chart names the rule, in red when the test set chose the epoch', () => {
    const pts = [{ teacherEpoch: 1, teacherAccuracy: 0.3, studentAccuracy: 0.9, seed: 1 }]
    type Titles = { title: { text: string; textStyle: { color: string } }[] }
    const ok = buildDeKdOption(pts, 0.88) as Titles
    expect(ok.title[1]!.text).toBe(
      'student: best-on-validation: test accuracy at the epoch chosen on validation',
    )
    const bad = buildDeKdOption(pts, 0.88, 'best-on-test') as Titles
    expect(bad.title[1]!.text).toMatch(/^⚠ student: best-on-TEST: epoch chosen on the test set/)
    expect(bad.title[1]!.textStyle.color).toBe('#b3261e')
  })
})
