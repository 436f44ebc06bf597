/**
 * `tfkd export`: writes the same files as the UI's Exports view for an experiment (or a set of
 * runs): every chart as SVG (ECharts server-side rendering) and PNG at 2x (the SVG rasterised by
 * sharp), every table as CSV, the comparison as Markdown and LaTeX.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Command, InvalidArgumentError } from 'commander'
import { buildExportBundle } from '../shared/charts/export-bundle'
import { renderChartPng, renderChartSvg } from '../core/export/render-chart'

// Kept where `tfkd export` always offered them.
export { renderChartPng, renderChartSvg }
import type { AppCore } from '../core/app/app-core'
import type { ComparisonTable } from '../shared/comparison'
import { AppError } from '../shared/errors'
import type { RunDetail } from '../shared/types'

export interface ExportArgs {
  core: AppCore
  outDir: string
  experimentId?: number
  runIds?: number[]
  metric?: 'best' | 'last'
  formats?: readonly ('png' | 'svg' | 'csv' | 'md' | 'latex')[]
}

/** Writes the export files; returns their paths. */
export async function exportComparison(args: ExportArgs): Promise<string[]> {
  const { core } = args
  const formats = new Set(args.formats ?? ['png', 'svg', 'csv', 'md', 'latex'])
  let runIds = args.runIds ?? []
  let experimentId = args.experimentId
  if (runIds.length === 0) {
    const e = experimentId ? core.store.experiments.get(experimentId) : core.store.experiments.latest()
    if (!e)
      throw new AppError(
        'not_found',
        experimentId ? `experiment ${experimentId} not found` : 'no experiments yet',
      )
    experimentId = e.id
    runIds = core.store.runs.list({ experimentId: e.id, limit: 10_000 }).map((r) => r.id)
  }
  const runs: RunDetail[] = runIds.map((id) => {
    const d = core.store.runs.detail(id)
    if (!d) throw new AppError('not_found', `run ${id} not found`)
    return d
  })
  let table: ComparisonTable | null = null
  try {
    table = await core.handlers['compare:get'](
      args.runIds?.length ? { runIds, metric: args.metric } : { experimentId, metric: args.metric },
    )
  } catch {
    table = null
  }
  const dataset = runs[0] ? core.store.datasets.get(runs[0].datasetId) : undefined
  const bundle = buildExportBundle({ table, runs, classNames: dataset?.classNames ?? [] })
  const out = resolve(args.outDir)
  mkdirSync(out, { recursive: true })
  const written: string[] = []
  const write = (name: string, data: string | Buffer) => {
    const p = join(out, name)
    writeFileSync(p, data)
    written.push(p)
  }
  for (const chart of bundle.charts) {
    if (formats.has('svg')) write(`${chart.name}.svg`, renderChartSvg(chart))
    if (formats.has('png')) write(`${chart.name}.png`, await renderChartPng(chart))
  }
  for (const t of bundle.tables) {
    const kind = t.name.endsWith('.md') ? 'md' : t.name.endsWith('.tex') ? 'latex' : 'csv'
    if (formats.has(kind)) write(t.name, t.content)
  }
  return written
}

function parseIds(v: string): number[] {
  const ids = v.split(',').map((s) => Number(s.trim()))
  if (!ids.every((n) => Number.isInteger(n) && n > 0)) {
    throw new InvalidArgumentError(`--runs must be comma-separated run ids, got "${v}"`)
  }
  return ids
}

export function registerExportCommand(program: Command, openCore: () => AppCore): void {
  program
    .command('export')
    .description('write the charts (PNG 2x, SVG) and tables (CSV, Markdown, LaTeX) of an experiment or runs')
    .option('-e, --experiment <id>', 'experiment id (default: the latest)', (v) => {
      const n = Number(v)
      if (!Number.isInteger(n) || n <= 0)
        throw new InvalidArgumentError(`--experiment must be an id, got "${v}"`)
      return n
    })
    .option('-r, --runs <ids>', 'comma-separated run ids instead of an experiment', parseIds)
    .option('-o, --out <dir>', 'output folder', 'tfkd-export')
    .option('--metric <m>', 'best or last epoch accuracy', 'best')
    .option('--formats <list>', 'comma-separated: png,svg,csv,md,latex', 'png,svg,csv,md,latex')
    .action(
      async (o: { experiment?: number; runs?: number[]; out: string; metric: string; formats: string }) => {
        if (o.metric !== 'best' && o.metric !== 'last') {
          throw new InvalidArgumentError(`--metric must be best or last, got "${o.metric}"`)
        }
        const formats = o.formats.split(',').map((s) => s.trim())
        const known = ['png', 'svg', 'csv', 'md', 'latex']
        const bad = formats.filter((f) => !known.includes(f))
        if (bad.length)
          throw new InvalidArgumentError(`--formats: unknown ${bad.join(', ')}; known: ${known.join(', ')}`)
        const core = openCore()
        try {
          const files = await exportComparison({
            core,
            outDir: o.out,
            experimentId: o.experiment,
            runIds: o.runs,
            metric: o.metric,
            formats: formats as ExportArgs['formats'],
          })
          for (const f of files) console.log(f)
        } finally {
          await core.close()
        }
      },
    )
}
