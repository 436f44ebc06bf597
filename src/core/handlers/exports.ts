/** `exports:*` channels: a run's model exported as ONNX or TF.js (the History export action). */
import type { DomainHandlers, HandlerContext } from './context'

export function createExportHandlers({ modelExport }: HandlerContext): DomainHandlers<'exports'> {
  return {
    'exports:model': (input) => modelExport.exportModel(input),
  }
}
