/**
 * Where the parts of a chart land: the option rendered by ECharts' SVG renderer in SSR mode (the
 * renderer `tfkd export` uses; text measured by zrender's built-in width table), then the boxes of
 * the legend, titles, visual map, axis names and plot area read from the laid-out element tree.
 * The layout tests assert that none of them overlap.
 */
import { init, use } from 'echarts/core'
import { SVGRenderer } from 'echarts/renderers'
import { CHART_COMPONENTS, type ChartOption } from '../../src/shared/charts/echarts'

use([...CHART_COMPONENTS, SVGRenderer])

export interface Box {
  what: string
  x: number
  y: number
  width: number
  height: number
}

interface Rect {
  x: number
  y: number
  width: number
  height: number
  clone(): Rect
  applyTransform(m: readonly number[]): void
  union(other: Rect): void
}
interface El {
  isGroup?: boolean
  ignore?: boolean
  invisible?: boolean
  style?: { text?: string; opacity?: number; fill?: unknown; stroke?: unknown; lineWidth?: number }
  getBoundingRect(): Rect
  getComputedTransform(): readonly number[] | null
  getClipPath?(): El | undefined
  parent?: El
}
interface ComponentModel {
  mainType: string
  componentIndex: number
  get(key: string): unknown
  coordinateSystem?: { getRect(): Rect }
}
interface Internals {
  getModel(): {
    eachComponent(type: string, cb: (m: ComponentModel) => void): void
  }
  getViewOfComponentModel(m: ComponentModel): { group: { traverse(cb: (el: El) => void): void } }
}

const toBox = (what: string, r: Rect): Box => ({ what, x: r.x, y: r.y, width: r.width, height: r.height })

const NO_PAINT = new Set([undefined, null, 'none', 'transparent', 'rgba(0,0,0,0)'])

/** Whether the element paints anything (a component's transparent background box does not). */
function paints(el: El): boolean {
  const st = el.style ?? {}
  if (typeof st.text === 'string') return st.text !== ''
  if (st.opacity === 0) return false
  return !NO_PAINT.has(st.fill as string) || (!NO_PAINT.has(st.stroke as string) && st.lineWidth !== 0)
}

function leafRect(el: El): Rect | null {
  if (el.isGroup || el.ignore || el.invisible || !paints(el)) return null
  const r = el.getBoundingRect().clone()
  if (!(r.width > 0 || r.height > 0)) return null
  const m = el.getComputedTransform()
  if (m) r.applyTransform(m)
  return clipped(el, r)
}

/** The part of `r` left visible by the clip paths of the element and its ancestors (a scroll legend clips its pages). */
function clipped(el: El, r: Rect): Rect | null {
  let out: Rect | null = r
  for (let host: El | undefined = el; host && out; host = host.parent) {
    const clip = host.getClipPath?.()
    if (!clip) continue
    const c = clip.getBoundingRect().clone()
    const hm = host.getComputedTransform()
    if (hm) c.applyTransform(hm)
    const x1 = Math.max(out.x, c.x)
    const y1 = Math.max(out.y, c.y)
    const x2 = Math.min(out.x + out.width, c.x + c.width)
    const y2 = Math.min(out.y + out.height, c.y + c.height)
    if (x2 <= x1 || y2 <= y1) return null
    out = Object.assign(out.clone(), { x: x1, y: y1, width: x2 - x1, height: y2 - y1 })
  }
  return out
}

/** Union of the visible leaves of a component view (null when it drew nothing). */
function viewBox(chart: Internals, model: ComponentModel, filter: (el: El) => boolean = () => true) {
  let acc: Rect | null = null
  chart.getViewOfComponentModel(model).group.traverse((el) => {
    if (!filter(el)) return
    const r = leafRect(el)
    if (!r) return
    if (acc) acc.union(r)
    else acc = r
  })
  return acc as Rect | null
}

export interface ChartLayout {
  width: number
  height: number
  legends: Box[]
  titles: Box[]
  visualMaps: Box[]
  axisNames: Box[]
  axisLabels: Box[]
  grids: Box[]
  /** Every text element of the titles, legends, visual maps and axes. */
  texts: Box[]
}

export function chartLayout(option: ChartOption, width: number, height: number): ChartLayout {
  const instance = init(null, null, { renderer: 'svg', ssr: true, width, height })
  try {
    instance.setOption(option)
    const chart = instance as unknown as Internals
    const model = chart.getModel()
    const out: ChartLayout = {
      width,
      height,
      legends: [],
      titles: [],
      visualMaps: [],
      axisNames: [],
      axisLabels: [],
      grids: [],
      texts: [],
    }
    const each = (type: string, cb: (m: ComponentModel) => void) => model.eachComponent(type, cb)
    const add = (list: Box[], what: string, r: Rect | null) => {
      if (r) list.push(toBox(what, r))
    }
    each('legend', (m) => add(out.legends, `legend ${m.componentIndex}`, viewBox(chart, m)))
    each('title', (m) => add(out.titles, `title ${m.componentIndex}`, viewBox(chart, m)))
    each('visualMap', (m) => add(out.visualMaps, `visualMap ${m.componentIndex}`, viewBox(chart, m)))
    for (const axis of ['xAxis', 'yAxis']) {
      each(axis, (m) => {
        const name = m.get('name')
        const isName = (el: El) => typeof name === 'string' && name !== '' && el.style?.text === name
        add(out.axisNames, `${axis} ${m.componentIndex} name "${String(name)}"`, viewBox(chart, m, isName))
        add(
          out.axisLabels,
          `${axis} ${m.componentIndex} labels`,
          viewBox(chart, m, (el) => typeof el.style?.text === 'string' && !isName(el)),
        )
      })
    }
    each('grid', (m) => {
      const r = m.coordinateSystem?.getRect()
      if (r) out.grids.push(toBox(`grid ${m.componentIndex}`, r))
    })
    for (const type of ['legend', 'title', 'visualMap', 'xAxis', 'yAxis']) {
      each(type, (m) =>
        chart.getViewOfComponentModel(m).group.traverse((el) => {
          if (typeof el.style?.text !== 'string' || el.style.text === '') return
          const r = leafRect(el)
          if (r) out.texts.push(toBox(`${type} text "${el.style.text}"`, r))
        }),
      )
    }
    return out
  } finally {
    instance.dispose()
  }
}

export function intersects(a: Box, b: Box, tolerance = 0.5): boolean {
  return (
    a.x + tolerance < b.x + b.width &&
    b.x + tolerance < a.x + a.width &&
    a.y + tolerance < b.y + b.height &&
    b.y + tolerance < a.y + a.height
  )
}

/** Every pair of parts that must not overlap but do, in words (empty when the layout is clean). */
export function overlaps(layout: ChartLayout): string[] {
  const found: string[] = []
  const pairs: [Box[], Box[]][] = [
    [
      layout.legends,
      [...layout.grids, ...layout.axisNames, ...layout.axisLabels, ...layout.titles, ...layout.visualMaps],
    ],
    [layout.titles, [...layout.grids, ...layout.axisNames, ...layout.axisLabels, ...layout.visualMaps]],
    [layout.visualMaps, [...layout.grids, ...layout.axisNames, ...layout.axisLabels]],
    [layout.axisNames, [...layout.grids, ...layout.axisNames]],
  ]
  for (const [as, bs] of pairs) {
    for (const a of as) {
      for (const b of bs) {
        if (a !== b && intersects(a, b)) found.push(`${a.what} overlaps ${b.what}`)
      }
    }
  }
  const inside = [...layout.legends, ...layout.titles, ...layout.visualMaps, ...layout.axisNames]
  for (const b of inside) {
    if (
      b.x < -0.5 ||
      b.y < -0.5 ||
      b.x + b.width > layout.width + 0.5 ||
      b.y + b.height > layout.height + 0.5
    )
      found.push(`${b.what} leaves the ${layout.width}x${layout.height} chart`)
  }
  return found
}
