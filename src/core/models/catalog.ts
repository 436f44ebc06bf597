/**
 * Model metadata that hosts need without loading TF.js (the builders live in ./registry.ts, which
 * only the trainer process imports).
 *
 * `strength` is an ordinal of expected accuracy on small image sets (CIFAR-10 / MNIST-sized), not of
 * size alone: the planner picks a *weaker* teacher for re-kd (strictly lower strength) and a *stronger*
 * one for kd (strictly higher). Equal strength means neither. `params` and `macs` are reference figures
 * at input 32x32x3 and 10 classes (test/core/models checks them against the built models); `params`
 * counts every weight including batch-norm moving statistics, `macs` are forward multiply-accumulates
 * per sample of conv / depthwise / dense layers (FLOPs = 2 x MACs).
 */
import type { ModelInfo } from '../../shared/types'

export { MODEL_FAMILIES, type ModelFamily, type ModelInfo } from '../../shared/types'

/** A catalog entry: a model's info, keyed by its id. */
export type ModelCatalogEntry = Omit<ModelInfo, 'id'>

export const MODEL_CATALOG = {
  mlp: {
    description: 'Two hidden dense layers (256, 128); fastest on any backend',
    family: 'mlp',
    strength: 0,
    params: 820_874,
    macs: 820_480,
  },
  'cnn-small': {
    description: 'conv3x3x16-pool-conv3x3x32-pool-dense10, the reference mnist-cnn of the benchmark',
    family: 'cnn',
    strength: 1,
    params: 25_578,
    macs: 1_642_496,
    // Two 2x2 max-poolings with stride 2 and no padding: a side under 4 pools down to nothing.
    minInput: [4, 4],
  },
  resnet8: {
    description:
      'CIFAR ResNet-8 (He et al.): 3 stages 16/32/64 x 1 basic block, batch norm, 1x1 projection shortcuts',
    family: 'resnet',
    strength: 2,
    params: 78_714,
    macs: 12_501_632,
  },
  shufflenetv2: {
    description:
      'Compact ShuffleNetV2 (0.5x widths 48/96/192, 4/8/4 units, head 1024; ~0.35 M): channel split + shuffle',
    family: 'shufflenet',
    strength: 3,
    params: 359_994,
    macs: 10_902_016,
  },
  mobilenetv2: {
    description:
      'Compact MobileNetV2 (~0.56 M): inverted residuals with depthwise convs, ReLU6, linear bottlenecks',
    family: 'mobilenet',
    strength: 3,
    params: 573_130,
    macs: 17_279_232,
  },
  resnet14: {
    description: 'CIFAR ResNet-14: 3 stages 16/32/64 x 2 basic blocks, batch norm, 1x1 projection shortcuts',
    family: 'resnet',
    strength: 4,
    params: 176_378,
    macs: 26_657_408,
  },
  resnet20: {
    description: 'CIFAR ResNet-20 (0.27 M params, 40.8 M MACs): 3 stages 16/32/64 x 3 basic blocks',
    family: 'resnet',
    strength: 5,
    params: 274_042,
    macs: 40_813_184,
  },
} as const satisfies Record<string, ModelCatalogEntry>

export type ModelId = keyof typeof MODEL_CATALOG

export const MODEL_IDS = Object.keys(MODEL_CATALOG) as ModelId[]

/** Every model's info, in catalog order (what `models:list` answers). */
export function listModels(): ModelInfo[] {
  return MODEL_IDS.map((id) => ({ id, ...MODEL_CATALOG[id] }))
}

export function isModelId(id: string): id is ModelId {
  return Object.hasOwn(MODEL_CATALOG, id)
}

/**
 * Why model `id` cannot train on a dataset of `inputShape` ([height, width, channels]), naming the
 * model, the dataset and both shapes; null when it can. Checked before anything is stored or trained.
 */
export function modelInputProblem(
  id: ModelId,
  dataset: { name: string; inputShape: readonly [number, number, number] },
): string | null {
  const entry: ModelCatalogEntry = MODEL_CATALOG[id]
  if (!entry.minInput) return null
  const [minH, minW] = entry.minInput
  const [h, w, c] = dataset.inputShape
  if (h >= minH && w >= minW) return null
  const fits = MODEL_IDS.filter((m) => modelInputFits(m, dataset.inputShape))
  return (
    `model ${id} needs inputs of at least ${minH}x${minW} (height x width), but dataset "${dataset.name}" ` +
    `has ${h}x${w}x${c}; pick a model that takes ${h}x${w} (${fits.join(', ')}), or import the data ` +
    `with a size of at least ${minH}x${minW} (e.g. a CSV's features shaped as an image)`
  )
}

function modelInputFits(id: ModelId, [h, w]: readonly [number, number, number]): boolean {
  const min = (MODEL_CATALOG[id] as ModelCatalogEntry).minInput ?? [1, 1]
  return h >= min[0] && w >= min[1]
}

/** Models strictly weaker than `id` (candidates for a re-kd teacher), strongest first. */
export function weakerModels(id: ModelId): ModelId[] {
  const s = MODEL_CATALOG[id].strength
  return MODEL_IDS.filter((m) => MODEL_CATALOG[m].strength < s).sort(
    (a, b) => MODEL_CATALOG[b].strength - MODEL_CATALOG[a].strength,
  )
}

/** Models strictly stronger than `id` (candidates for a kd teacher), weakest first. */
export function strongerModels(id: ModelId): ModelId[] {
  const s = MODEL_CATALOG[id].strength
  return MODEL_IDS.filter((m) => MODEL_CATALOG[m].strength > s).sort(
    (a, b) => MODEL_CATALOG[a].strength - MODEL_CATALOG[b].strength,
  )
}
