/**
 * The backend ladder, climbed once per trainer process, in the order of the rung registry
 * (src/shared/backends.ts): tfjs-node-gpu (CUDA) -> WebGPU (Dawn) -> tfjs-node (CPU) -> wasm (+ our
 * training kernels) -> pure-JS CPU. Every rung that does not load is reported with its reason in
 * plain words, so the diagnostics view can tell a user what to install. Only this module and
 * ./rungs import backend packages; model and training code use tfjs-core/-layers APIs.
 */
import * as tf from '@tensorflow/tfjs-core'
// tfjs-core's Node bundle registers no gradients; tfjs-layers' bundle registers them all.
import '@tensorflow/tfjs-layers'
import { explainFailureOf, rungInfo, type RungInfo } from '../../shared/backends'
import { BACKEND_IDS, type BackendId, type BackendReport, type RungReport } from '../../shared/types'
import { RUNG_LOADERS, type RungLoader } from './rungs'

export interface LoadOptions<Id extends string = BackendId> {
  /** Pin one rung; 'auto' climbs the ladder. */
  pin?: Id | 'auto'
  /** Skip the native (libtensorflow) rungs, e.g. after a crash while loading them. */
  disableNative?: boolean
  /** Skip WebGPU (it is slower than the wasm path for small models on most machines). */
  disableWebgpu?: boolean
  /** Where a rung's warnings go as they happen (the trainer forwards them to its host). */
  onWarning?: (id: Id, message: string) => void
  env?: NodeJS.ProcessEnv
}

/**
 * One rung as the ladder climbs it: its registry facts (a `BACKEND_RUNGS` entry, whose `explain`
 * words its load failures) and its loader (a `RUNG_LOADERS` entry). `loadBackendIn` takes a list of
 * these so a test can follow docs/extending.md's rung recipe with a test-only rung.
 */
export interface LadderRung<Id extends string = BackendId> {
  info: RungInfo & { id: Id }
  load: RungLoader
}

/** What `loadBackendIn` reports: a `BackendReport` whose rung ids are the ladder's own. */
export type LadderReport<Id extends string = BackendId> = Omit<BackendReport, 'chosen' | 'rungs'> & {
  chosen: Id
  rungs: (Omit<RungReport, 'id'> & { id: Id })[]
}

/** The real ladder: every registered rung in `BACKEND_RUNGS` order, with its loader. */
export const LADDER: readonly LadderRung[] = BACKEND_IDS.map((id) => ({
  info: { ...rungInfo(id), id },
  load: RUNG_LOADERS[id],
}))

function skipReason<Id extends string>(
  info: RungInfo,
  opts: LoadOptions<Id>,
  pin: Id | 'auto',
): string | null {
  if (pin !== 'auto' && info.id !== pin) return `skipped: backend pinned to ${pin}`
  if (opts.disableNative && info.isNative) return 'skipped: a native backend crashed this process earlier'
  if (opts.disableWebgpu && info.id === 'webgpu') return 'skipped: disabled by TFKD_DISABLE_WEBGPU'
  return null
}

/** Climbs the registered rungs (`LADDER`) and trains on the first that loads. */
export function loadBackend(opts: LoadOptions = {}): Promise<BackendReport> {
  return loadBackendIn(LADDER, opts)
}

/**
 * The ladder over `ladder` (the path `loadBackend` takes with the real rungs): tries each rung in
 * order, reports every one that does not load with its own explanation, and returns the first that
 * loads (the rungs below it reported as not tried).
 */
export async function loadBackendIn<Id extends string>(
  ladder: readonly LadderRung<Id>[],
  opts: LoadOptions<Id> = {},
): Promise<LadderReport<Id>> {
  const rungs: LadderReport<Id>['rungs'] = []
  const pin = opts.pin ?? 'auto'
  const env = opts.env ?? process.env
  for (const [index, { info, load }] of ladder.entries()) {
    const id = info.id
    const skip = skipReason(info, opts, pin)
    if (skip) {
      rungs.push({ id, ok: false, reason: skip, loadMs: 0 })
      continue
    }
    const t0 = performance.now()
    const warnings: string[] = []
    const warn = (message: string): void => {
      warnings.push(message)
      opts.onWarning?.(id, message)
    }
    try {
      const { device, isGpu, deviceInfo } = await load({ env, warn })
      rungs.push({ id, ok: true, loadMs: Math.round(performance.now() - t0), ...withWarningOf(warnings) })
      // Report the rungs below as not tried, so the list is complete.
      for (const rest of ladder.slice(index + 1)) {
        rungs.push({ id: rest.info.id, ok: false, reason: `not tried: ${id} loaded first`, loadMs: 0 })
      }
      return { chosen: id, device, isGpu, deviceInfo, rungs, tfjsVersion: tf.version_core }
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err)
      rungs.push({
        id,
        ok: false,
        reason: explainFailureOf(info, msg),
        loadMs: Math.round(performance.now() - t0),
        ...withWarningOf(warnings),
      })
    }
  }
  const why = rungs.map((r) => `${r.id}: ${r.reason}`).join('; ')
  throw new Error(`no TF.js backend could be loaded (${why})`)
}

const withWarningOf = (warnings: string[]): { warning?: string } =>
  warnings.length ? { warning: warnings.join('; ') } : {}
