/**
 * Model metadata that hosts need without loading TF.js (the builders live in ./registry.ts, which
 * only the trainer process imports).
 */
export const MODEL_CATALOG = {
  mlp: { description: 'Two hidden dense layers (256, 128); fastest on any backend' },
  'cnn-small': {
    description: 'conv3x3x16-pool-conv3x3x32-pool-dense10, the reference mnist-cnn of the benchmark',
  },
} as const satisfies Record<string, { description: string }>

export type ModelId = keyof typeof MODEL_CATALOG

export function isModelId(id: string): id is ModelId {
  return Object.hasOwn(MODEL_CATALOG, id)
}
