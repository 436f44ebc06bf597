/**
 * The frame every chart is laid out in, computed rather than guessed: the title, its explanation
 * lines (how the numbers were chosen, what a colour means), then a one-row legend, then the plot.
 * Each part gets its own band from the top down and axis names sit beside their axes (the y names
 * rotated at the middle), so a legend can never overlap an axis name, a title or the plot at any
 * chart width: a legend too long for one row pages (ECharts' scroll legend) instead of wrapping
 * over the plot. test/shared/chart-layout.test.ts renders every builder with the SVG renderer and
 * asserts that no two of these boxes intersect.
 */
import type { LegendComponentOption, TitleComponentOption } from 'echarts/components'

/** One line under the title; `warn` draws it in red (best-on-test selection, for instance). */
export interface HeaderLine {
  text: string
  warn?: boolean
}

export const CHART_TEXT = '#3b4452'
export const WARN_TEXT = '#b3261e'

const TOP = 6
const TITLE_SIZE = 13
const TITLE_LINE = 19
const LINE_SIZE = 11
const LINE_HEIGHT = 15
const LEGEND_HEIGHT = 16
const BAND_GAP = 8
const AXIS_FONT = 11

/** Conservative text width at `size` px (sans-serif averages ~0.55 em; 0.62 leaves room). */
export function textWidth(text: string, size = AXIS_FONT): number {
  return Math.ceil(text.length * size * 0.62)
}

export interface Frame {
  title: TitleComponentOption[]
  legend?: LegendComponentOption
  /** The y where the plot's band starts (below the title, lines and legend). */
  top: number
}

/**
 * Title, lines and (when `legend` is given) a single-row paging legend, stacked from the top.
 * `legend.data` limits the entries (e.g. one per group when a group draws three series).
 */
export function chartFrame(title: string, lines: readonly HeaderLine[], legend?: { data?: string[] }): Frame {
  // An empty title takes no room (the live curves are named by the panel above them).
  const titleHeight = title ? TITLE_LINE : 0
  const titles: TitleComponentOption[] = [
    ...(title
      ? [
          {
            text: title,
            left: 'center',
            top: TOP,
            padding: 0,
            textStyle: { fontSize: TITLE_SIZE, fontWeight: 'bold', color: CHART_TEXT },
          } satisfies TitleComponentOption,
        ]
      : []),
    ...lines.map((l, i): TitleComponentOption => ({
      text: l.text,
      left: 'center',
      top: TOP + titleHeight + i * LINE_HEIGHT,
      padding: 0,
      textStyle: { fontSize: LINE_SIZE, fontWeight: 'normal', color: l.warn ? WARN_TEXT : CHART_TEXT },
    })),
  ]
  const legendTop = TOP + titleHeight + lines.length * LINE_HEIGHT + BAND_GAP / 2
  if (!legend) return { title: titles, top: legendTop }
  return {
    title: titles,
    legend: {
      type: 'scroll',
      top: legendTop,
      left: 'center',
      width: '88%',
      padding: 0,
      itemGap: 14,
      itemWidth: 14,
      itemHeight: 9,
      pageIconSize: 9,
      pageTextStyle: { fontSize: 10, color: CHART_TEXT },
      textStyle: { fontSize: LINE_SIZE, color: CHART_TEXT },
      ...(legend.data ? { data: legend.data } : {}),
    },
    top: legendTop + LEGEND_HEIGHT + BAND_GAP,
  }
}

/** Grid margins for a plot under `frame`: y names rotated beside their labels, x name below. */
export function gridFor(
  frame: Pick<Frame, 'top'>,
  sides: { left: number; right: number; xName?: boolean; bottomExtra?: number },
): { left: number; right: number; top: number; bottom: number } {
  return {
    left: sides.left,
    right: sides.right,
    // Half a label of room: the top tick label is centred on the grid's top edge.
    top: frame.top + 8,
    bottom: (sides.xName === false ? 24 : 44) + (sides.bottomExtra ?? 0),
  }
}

/**
 * A y axis name drawn at the middle of its side, rotated, outside its tick labels: `labelWidth` is
 * the widest tick label in px. Returns the axis fields and the margin the side needs.
 */
export function sideName(
  name: string,
  labelWidth: number,
  side: 'left' | 'right' = 'left',
): {
  axis: { name: string; nameLocation: 'middle'; nameGap: number; nameRotate: number; nameTextStyle: object }
  margin: number
} {
  const nameGap = labelWidth + 14
  return {
    axis: {
      name,
      nameLocation: 'middle',
      nameGap,
      nameRotate: side === 'left' ? 90 : -90,
      nameTextStyle: { fontSize: AXIS_FONT, color: CHART_TEXT },
    },
    margin: nameGap + AXIS_FONT + 8,
  }
}

/** The x axis name centred under the tick labels. */
export function bottomName(name: string): {
  name: string
  nameLocation: 'middle'
  nameGap: number
  nameTextStyle: object
} {
  return {
    name,
    nameLocation: 'middle',
    nameGap: 26,
    nameTextStyle: { fontSize: AXIS_FONT, color: CHART_TEXT },
  }
}

// ---- colours of cells and their labels -------------------------------------------------------

const hexRgb = (hex: string): [number, number, number] => {
  const n = Number.parseInt(hex.replace('#', ''), 16)
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255]
}
const rgbHex = (c: readonly number[]): string =>
  `#${c.map((x) => Math.round(x).toString(16).padStart(2, '0')).join('')}`

/** The colour at `t` (0..1) along evenly spaced stops, as a continuous visualMap draws it. */
export function rampColor(stops: readonly string[], t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1)
  const i = Math.min(stops.length - 2, Math.floor(x))
  const a = hexRgb(stops[i]!)
  const b = hexRgb(stops[i + 1]!)
  const f = x - i
  return rgbHex(a.map((v, k) => v + (b[k]! - v) * f))
}

const luminance = (hex: string): number => {
  const [r, g, b] = hexRgb(hex).map((v) => {
    const c = v / 255
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  }) as [number, number, number]
  return 0.2126 * r + 0.7152 * g + 0.0722 * b
}

/** WCAG contrast ratio of two colours. */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number]
  return (hi + 0.05) / (lo + 0.05)
}

export const DARK_LABEL = '#000000'
export const LIGHT_LABEL = '#ffffff'

/** The label colour (near-black or white) that reads best on `background`. */
export function labelColorOn(background: string): string {
  return contrast(DARK_LABEL, background) >= contrast(LIGHT_LABEL, background) ? DARK_LABEL : LIGHT_LABEL
}

// ---- the legend of an exported file ----------------------------------------------------------

/** Vertical pitch of one legend row in a file (entry height plus a small gap). */
const LEGEND_ROW = LEGEND_HEIGHT + 4

type Option = Record<string, unknown>

const legendNames = (option: Option, legend: Option): string[] => {
  const data = legend.data as unknown[] | undefined
  const names = data
    ? data.map((d) => (typeof d === 'string' ? d : String((d as { name?: unknown }).name ?? '')))
    : ((option.series as Option[] | undefined) ?? []).map((s) => (typeof s.name === 'string' ? s.name : ''))
  return [...new Set(names.filter((n) => n !== ''))]
}

/** Legend entries packed into rows no wider than `width` (icon, its gap, the text, the item gap). */
export function legendRows(
  names: readonly string[],
  width: number,
  itemWidth = 14,
  itemGap = 14,
): string[][] {
  const rows: string[][] = []
  let used = 0
  for (const name of names) {
    const w = itemWidth + 5 + textWidth(name, LINE_SIZE)
    const row = rows.at(-1)
    if (row && used + itemGap + w <= width) {
      row.push(name)
      used += itemGap + w
    } else {
      rows.push([name])
      used = w
    }
  }
  return rows
}

/**
 * The option as a file shows it: a file cannot page, so a paging ("scroll") legend becomes plain
 * legends, one per row, every entry visible, and the plot moves down by the rows added. Options
 * without a paging legend are returned as they are.
 */
export function forFile<T extends object>(option: T, width: number): T {
  const o = option as Option
  const legend = o.legend as Option | undefined
  if (!legend || Array.isArray(legend) || legend.type !== 'scroll') return option
  const names = legendNames(o, legend)
  const rows = legendRows(
    names,
    Math.floor(width * 0.88),
    Number(legend.itemWidth ?? 14),
    Number(legend.itemGap ?? 14),
  )
  const top = Number(legend.top ?? 0)
  const { pageIconSize: _icon, pageTextStyle: _page, width: _w, ...plain } = legend
  const grid = o.grid as Option | undefined
  const extra = Math.max(0, rows.length - 1) * LEGEND_ROW
  return {
    ...o,
    legend: rows.map((data, i) => ({ ...plain, type: 'plain', data, top: top + i * LEGEND_ROW })),
    ...(grid && !Array.isArray(grid) ? { grid: { ...grid, top: Number(grid.top ?? 0) + extra } } : {}),
  } as T
}
