/**
 * App-wide channels: the app's identity, the registries the UI lists (models, variants, presets),
 * backend diagnostics, measured throughput, and the desktop-only dialog's default answer.
 */
import { AppError } from '../../shared/errors'
import type { Handlers } from '../../shared/contract'
import { PRESET_IDS, PRESETS } from '../../shared/plan'
import { VARIANT_IDS } from '../../shared/types'
import { resolveVariantParams, VARIANTS } from '../../shared/variants'
import { listModels } from '../models/catalog'
import type { DomainHandlers, HandlerContext } from './context'

type AppChannels =
  | 'app:info'
  | 'models:list'
  | 'variants:list'
  | 'presets:list'
  | 'diagnostics:backends'
  | 'throughput:get'
  | 'dialog:openPath'

/** Median of each model's last 20 measured epochs' samples/s (any backend this machine used). */
function medianThroughput(rows: { model: string; sps: number }[]): Record<string, number> {
  const by = new Map<string, number[]>()
  for (const r of rows) {
    const list = by.get(r.model) ?? []
    if (list.length < 20) list.push(r.sps)
    by.set(r.model, list)
  }
  return Object.fromEntries(
    [...by].map(([model, list]) => {
      const sorted = list.sort((a, b) => a - b)
      return [model, sorted[Math.floor(sorted.length / 2)]!]
    }),
  )
}

export function createAppHandlers({ store, runs, app }: HandlerContext): Pick<Handlers, AppChannels> {
  const appInfo: DomainHandlers<'app'> = {
    'app:info': () => ({
      version: app.version,
      dataHome: app.dataHome,
      host: app.host,
      platform: `${process.platform}-${process.arch}`,
      versions: Object.fromEntries(
        Object.entries(process.versions).filter((e): e is [string, string] => typeof e[1] === 'string'),
      ),
    }),
  }
  return {
    ...appInfo,
    'models:list': () => listModels(),
    'variants:list': () =>
      VARIANT_IDS.map((id) => ({
        id,
        name: VARIANTS[id].name,
        tests: VARIANTS[id].tests,
        teacher: VARIANTS[id].teacher,
        defaults: resolveVariantParams(id, {}),
      })),
    'presets:list': () =>
      PRESET_IDS.map((id) => ({
        id,
        description: PRESETS[id].description,
        plan: PRESETS[id].plan,
        requires: PRESETS[id].requires ?? null,
      })),
    'diagnostics:backends': async ({ refresh }) => {
      if (refresh || !runs.lastBackend()) return await runs.probe()
      return runs.lastBackend()
    },
    'throughput:get': () => medianThroughput(store.epochMetrics.throughputByModel()),
    'dialog:openPath': () => {
      throw new AppError('not_found', 'the open dialog exists only in the desktop app; type the path instead')
    },
  }
}
