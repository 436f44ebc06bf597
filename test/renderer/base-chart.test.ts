// @vitest-environment happy-dom
/**
 * The one chart component's update rule (issue 22, item 2): a new option replaces the previous
 * one's series, axes and legend instead of merging into them, so switching the Compare selection
 * from six lines to two shows two lines (not six under a two-entry legend), while a live curve's
 * update (same series ids) still merges by id.
 */
import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { nextTick } from 'vue'
import type { ChartOption } from '../../src/shared/charts/echarts'
import BaseChart from '../../src/renderer/src/components/BaseChart.vue'

const lines = (ids: string[], y: number, yAxes = 1): ChartOption => ({
  title: [{ text: `${ids.length} lines` }],
  legend: { data: ids },
  xAxis: { type: 'value' },
  yAxis: Array.from({ length: yAxes }, () => ({ type: 'value' as const })),
  series: ids.map((id, i) => ({
    id,
    name: id,
    type: 'line' as const,
    yAxisIndex: Math.min(i, yAxes - 1),
    data: [
      [0, y],
      [1, y + i],
    ],
  })),
})

interface Exposed {
  chart: { getOption(): Record<string, { id?: string; name?: string; data?: unknown[] }[]> } | null
}

async function chartOf(option: ChartOption) {
  const w = mount(BaseChart, { props: { option }, attachTo: document.body })
  await nextTick()
  const chart = () => (w.vm as unknown as Exposed).chart!
  return { w, chart }
}

describe('BaseChart', () => {
  it('drops the previous selection series, axes and legend entries on a new option', async () => {
    const { w, chart } = await chartOf(lines(['a-1', 'a-2', 'a-3', 'b-1', 'b-2', 'b-3'], 1.6, 2))
    expect(chart().getOption().series).toHaveLength(6)
    await w.setProps({ option: lines(['c', 'd'], 0.5) })
    const opt = chart().getOption()
    expect(opt.series!.map((s) => s.id)).toEqual(['c', 'd'])
    expect(opt.yAxis).toHaveLength(1)
    expect(opt.title!.map((t) => (t as { text?: string }).text)).toEqual(['2 lines'])
    w.unmount()
  })

  it('still merges a live update of the same series by id', async () => {
    const { w, chart } = await chartOf(lines(['train', 'val'], 0.2))
    await w.setProps({ option: lines(['train', 'val'], 0.3) })
    const opt = chart().getOption()
    expect(opt.series!.map((s) => s.id)).toEqual(['train', 'val'])
    expect(opt.series![0]!.data).toEqual([
      [0, 0.3],
      [1, 0.3],
    ])
    w.unmount()
  })
})
