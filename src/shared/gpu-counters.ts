/**
 * What one steady-state training step asks of the GPU on the webgpu rung (`npm run bench --
 * --backends webgpu --counters`): counted on the backend's own GPUDevice, exact on any adapter.
 */
export interface GpuCountersPerStep {
  /** Compute dispatches (`dispatchWorkgroups`) per step. */
  dispatchesPerStep: number
  /** Queue submits per step. */
  submitsPerStep: number
  /** Buffers mapped for reading (GPU -> CPU copies the step waits on) per step. */
  readbacksPerStep: number
  /** Compute pipelines created during the measured steps, after the warm-up (a total, not per step). */
  pipelinesAfterWarmup: number
  /** GPU buffers created per step (the backend's pool misses). */
  buffersPerStep: number
  /** Bind groups created per step. */
  bindGroupsPerStep: number
}
