/**
 * Model builders. Each layer gets its own initializer seed derived from the run's seed: a seeded
 * TF.js initializer returns the same tensor on every call, so sharing one seed would make every
 * same-shaped kernel identical.
 */
import * as tfl from '@tensorflow/tfjs-layers'
import { deriveSeed } from '../random'
import { MODEL_CATALOG, type ModelId } from './catalog'

export interface ModelSpec {
  inputShape: [number, number, number]
  numClasses: number
  seed: number
}

type Builder = (spec: ModelSpec) => tfl.LayersModel

function seeds(base: number) {
  let i = 0
  return {
    kernel: () => tfl.initializers.heNormal({ seed: deriveSeed(base, `kernel-${i++}`) }),
    glorot: () => tfl.initializers.glorotUniform({ seed: deriveSeed(base, `kernel-${i++}`) }),
  }
}

export const MODEL_BUILDERS = {
  mlp: ({ inputShape, numClasses, seed }) => {
    const s = seeds(seed)
    const m = tfl.sequential({ name: 'mlp' })
    m.add(tfl.layers.flatten({ inputShape }))
    m.add(tfl.layers.dense({ units: 256, activation: 'relu', kernelInitializer: s.kernel() }))
    m.add(tfl.layers.dense({ units: 128, activation: 'relu', kernelInitializer: s.kernel() }))
    m.add(tfl.layers.dense({ units: numClasses, kernelInitializer: s.glorot() }))
    return m
  },
  'cnn-small': ({ inputShape, numClasses, seed }) => {
    const s = seeds(seed)
    const m = tfl.sequential({ name: 'cnn_small' })
    m.add(
      tfl.layers.conv2d({
        inputShape,
        filters: 16,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: s.kernel(),
      }),
    )
    m.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2 }))
    m.add(
      tfl.layers.conv2d({
        filters: 32,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: s.kernel(),
      }),
    )
    m.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2 }))
    m.add(tfl.layers.flatten())
    m.add(tfl.layers.dense({ units: numClasses, kernelInitializer: s.glorot() }))
    return m
  },
} satisfies Record<ModelId, Builder>

export function buildModel(id: string, spec: ModelSpec): tfl.LayersModel {
  if (!Object.hasOwn(MODEL_BUILDERS, id)) {
    throw new Error(`unknown model "${id}"; expected one of ${Object.keys(MODEL_CATALOG).join(', ')}`)
  }
  return MODEL_BUILDERS[id as ModelId](spec)
}
