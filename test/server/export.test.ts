import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { renderChartPng, renderChartSvg } from '../../src/core/export/render-chart'
import { buildClassBalanceOption } from '../../src/shared/charts/analysis'

describe('tfkd export rendering (Node, no DOM)', () => {
  it('renders the same option as SVG and a 2x PNG in Node (tfkd export)', async () => {
    const chart = {
      option: buildClassBalanceOption({ classNames: ['a', 'b'], train: [3, 4], test: [1, 2] }),
      width: 800,
      height: 480,
    }
    const svg = renderChartSvg(chart)
    expect(svg.startsWith('<svg')).toBe(true)
    expect(svg).toContain(`width="${chart.width}"`)
    const meta = await sharp(await renderChartPng(chart)).metadata()
    expect([meta.width, meta.height]).toEqual([chart.width * 2, chart.height * 2])
  })
})
