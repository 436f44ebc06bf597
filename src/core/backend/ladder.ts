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
import { BACKEND_RUNGS, explainRungFailure } from '../../shared/backends'
import { BACKEND_IDS, type BackendId, type BackendReport, type RungReport } from '../../shared/types'
import { RUNG_LOADERS } from './rungs'

export interface LoadOptions {
  /** Pin one rung; 'auto' climbs the ladder. */
  pin?: BackendId | 'auto'
  /** Skip the native (libtensorflow) rungs, e.g. after a crash while loading them. */
  disableNative?: boolean
  /** Skip WebGPU (it is slower than the wasm path for small models on most machines). */
  disableWebgpu?: boolean
  /** Where a rung's warnings go as they happen (the trainer forwards them to its host). */
  onWarning?: (id: BackendId, message: string) => void
  env?: NodeJS.ProcessEnv
}

function skipReason(id: BackendId, opts: LoadOptions, pin: BackendId | 'auto'): string | null {
  if (pin !== 'auto' && id !== pin) return `skipped: backend pinned to ${pin}`
  const native = BACKEND_RUNGS.find((r) => r.id === id)?.isNative
  if (opts.disableNative && native) return 'skipped: a native backend crashed this process earlier'
  if (opts.disableWebgpu && id === 'webgpu') return 'skipped: disabled by TFKD_DISABLE_WEBGPU'
  return null
}

export async function loadBackend(opts: LoadOptions = {}): Promise<BackendReport> {
  const rungs: RungReport[] = []
  const pin = opts.pin ?? 'auto'
  const env = opts.env ?? process.env
  for (const id of BACKEND_IDS) {
    const skip = skipReason(id, opts, pin)
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
      const { device, isGpu, deviceInfo } = await RUNG_LOADERS[id]({ env, warn })
      rungs.push({ id, ok: true, loadMs: Math.round(performance.now() - t0), ...withWarningOf(warnings) })
      // Report the rungs below as not tried, so the list is complete.
      for (const rest of BACKEND_IDS.slice(BACKEND_IDS.indexOf(id) + 1)) {
        rungs.push({ id: rest, ok: false, reason: `not tried: ${id} loaded first`, loadMs: 0 })
      }
      return { chosen: id, device, isGpu, deviceInfo, rungs, tfjsVersion: tf.version_core }
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err)
      rungs.push({
        id,
        ok: false,
        reason: explainRungFailure(id, msg),
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
