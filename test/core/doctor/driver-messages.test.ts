/** Dawn's and the Vulkan loader's raw stderr, as the doctor's structured messages (issue 22, item 11). */
import { describe, expect, it } from 'vitest'
import { driverMessages } from '../../../src/core/doctor/driver-messages'

describe('driverMessages', () => {
  it('turns the warnings a Vulkan driver without a GPU prints into one line each', () => {
    const raw = [
      'error: XDG_RUNTIME_DIR is invalid or not set in the environment.',
      'Warning: Vulkan shaderUniformBufferArrayDynamicIndexing required but not supported',
      ' - While checking the features of "SwiftShader Device (LLVM 10.0.0)"',
      '    at CheckFeatures (/home/runner/work/node-webgpu/third_party/dawn/src/dawn/native/vulkan/PhysicalDeviceVk.cpp:412)',
      '',
      'Warning: Vulkan shaderUniformBufferArrayDynamicIndexing required but not supported',
      ' - While checking the features of "SwiftShader Device (LLVM 10.0.0)"',
      '    at CheckFeatures (/home/runner/work/node-webgpu/third_party/dawn/src/dawn/native/vulkan/PhysicalDeviceVk.cpp:412)',
      '',
    ].join('\n')
    expect(driverMessages(raw)).toEqual([
      'XDG_RUNTIME_DIR is invalid or not set in the environment.',
      'Vulkan shaderUniformBufferArrayDynamicIndexing required but not supported (while checking the features of "SwiftShader Device (LLVM 10.0.0)")',
    ])
  })

  it('keeps the report short: long lines cut, at most 20 messages', () => {
    expect(driverMessages('')).toEqual([])
    expect(driverMessages(`Warning: ${'x'.repeat(500)}`)[0]).toHaveLength(300)
    const many = Array.from({ length: 25 }, (_, i) => `Warning: message ${i}`).join('\n')
    const out = driverMessages(many)
    expect(out).toHaveLength(21)
    expect(out[20]).toBe('(5 more messages)')
  })
})
