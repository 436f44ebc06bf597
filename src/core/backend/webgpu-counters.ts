/**
 * Counters of what the WebGPU backend asks of the GPU: compute dispatches, queue submits, readbacks
 * (buffers mapped for reading), pipelines and buffers created. They count calls on the backend's
 * own GPUDevice, so they are exact whatever the adapter (a real GPU or SwiftShader) and cost nothing
 * measurable: a counter increment per call. Used by `npm run bench -- --backends webgpu --counters`.
 */
import type { GpuCountersPerStep } from '../../shared/gpu-counters'

/** The counts since the counters were installed. */
export interface GpuCounts {
  dispatches: number
  submits: number
  readbacks: number
  pipelines: number
  buffers: number
  bindGroups: number
}

// The few WebGPU interfaces the counters touch (the `webgpu` package's objects have these methods).
type Fn = (...args: never[]) => unknown
interface PassLike {
  dispatchWorkgroups: Fn
}
interface EncoderLike {
  beginComputePass: Fn
}
interface BufferLike {
  mapAsync: Fn
}
interface DeviceLike {
  queue: { submit: Fn }
  createBuffer: Fn
  createComputePipeline: Fn
  createComputePipelineAsync?: Fn
  createBindGroup: Fn
  createCommandEncoder: Fn
}

const GPU_MAP_READ = 0x0001 // GPUMapMode.READ and GPUBufferUsage.MAP_READ
const GPU_COPY_DST = 0x0008 // GPUBufferUsage.COPY_DST

/** Replaces `obj[name]` with a wrapper that calls `before` and returns `after(result)`. */
function wrap<T extends object>(
  obj: T,
  name: keyof T & string,
  before: (args: unknown[]) => void,
  after: (result: unknown) => unknown = (r) => r,
): void {
  const original = obj[name] as unknown as (...a: unknown[]) => unknown
  Object.defineProperty(obj, name, {
    configurable: true,
    writable: true,
    value(this: unknown, ...args: unknown[]) {
      before(args)
      return after(original.apply(this, args))
    },
  })
}

export interface GpuCounters {
  read(): GpuCounts
}

/** Installs the counters on a device; calling it twice on one device counts once. */
export function installGpuCounters(device: object): GpuCounters {
  const installed = (device as { __tfkdCounters?: GpuCounters }).__tfkdCounters
  if (installed) return installed
  const d = device as DeviceLike
  const c: GpuCounts = { dispatches: 0, submits: 0, readbacks: 0, pipelines: 0, buffers: 0, bindGroups: 0 }
  wrap(d.queue, 'submit', () => void c.submits++)
  wrap(d, 'createBuffer', () => void c.buffers++)
  // The backend reuses its staging buffers from a pool filled before the counters were installed,
  // so readbacks are counted on the buffers' shared prototype, not per buffer.
  const probe = d.createBuffer({ size: 4, usage: GPU_MAP_READ | GPU_COPY_DST } as never) as BufferLike & {
    destroy(): void
  }
  c.buffers--
  wrap(Object.getPrototypeOf(probe) as BufferLike, 'mapAsync', (args) => {
    if ((Number(args[0]) & GPU_MAP_READ) !== 0) c.readbacks++
  })
  probe.destroy()
  wrap(d, 'createComputePipeline', () => void c.pipelines++)
  if (typeof d.createComputePipelineAsync === 'function')
    wrap(d, 'createComputePipelineAsync', () => void c.pipelines++)
  wrap(d, 'createBindGroup', () => void c.bindGroups++)
  wrap(
    d,
    'createCommandEncoder',
    () => undefined,
    (encoder) => {
      wrap(
        encoder as EncoderLike,
        'beginComputePass',
        () => undefined,
        (pass) => {
          wrap(pass as PassLike, 'dispatchWorkgroups', () => void c.dispatches++)
          return pass
        },
      )
      return encoder
    },
  )
  const counters: GpuCounters = { read: () => ({ ...c }) }
  Object.defineProperty(device, '__tfkdCounters', { value: counters })
  return counters
}

/** The counts between two readings, per step over `steps` steps. */
export function perStep(before: GpuCounts, after: GpuCounts, steps: number): GpuCountersPerStep {
  const per = (k: keyof GpuCounts) => (after[k] - before[k]) / Math.max(1, steps)
  return {
    dispatchesPerStep: per('dispatches'),
    submitsPerStep: per('submits'),
    readbacksPerStep: per('readbacks'),
    pipelinesAfterWarmup: after.pipelines - before.pipelines,
    buffersPerStep: per('buffers'),
    bindGroupsPerStep: per('bindGroups'),
  }
}
