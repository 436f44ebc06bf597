/**
 * Issue 22, item 5: the Datasets preview's class balance at 1024 px wide printed class names into
 * each other ("twothree", "sixseven"). Every class name stays readable: long names are turned, and
 * no two x-axis labels overlap, at the card sizes the preview has.
 */
import { describe, expect, it } from 'vitest'
import { buildClassBalanceOption } from '../../src/shared/charts/analysis'
import { chartLayout, intersects } from '../support/chart-layout'
import { DIGIT_WORDS } from './chart-fixtures'

const NAMES = {
  words: DIGIT_WORDS,
  fashion: [
    'T-shirt/top',
    'Trouser',
    'Pullover',
    'Dress',
    'Coat',
    'Sandal',
    'Shirt',
    'Sneaker',
    'Bag',
    'Ankle boot',
  ],
  digits: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
}

describe('class balance: every class name readable', () => {
  for (const [set, classNames] of Object.entries(NAMES)) {
    it(set, () => {
      const option = buildClassBalanceOption({
        classNames,
        train: classNames.map(() => 16),
        test: classNames.map(() => 4),
      })
      for (const [w, h] of [
        [270, 300],
        [460, 300],
        [600, 300],
      ] as const) {
        const labels = chartLayout(option, w, h).texts.filter((t) => t.what.startsWith('xAxis text'))
        expect(labels.map((l) => l.what.slice(12, -1))).toEqual(classNames)
        const clash: string[] = []
        for (let i = 1; i < labels.length; i++) {
          if (intersects(labels[i - 1]!, labels[i]!, 0.5))
            clash.push(`${labels[i - 1]!.what} / ${labels[i]!.what}`)
        }
        expect(clash, `${set} at ${w}x${h}`).toEqual([])
        for (const l of labels) expect(l.y + l.height, `${l.what} at ${w}x${h}`).toBeLessThanOrEqual(h)
      }
    })
  }
})
