/** The bundled `mnist-10k` sample, through the same cache as imported data (source: its name). */
import { createHash } from 'node:crypto'
import { loadMnist10k } from '../mnist10k'
import { MNIST_10K } from '../bundled'
import {
  DETECT,
  ImportError,
  throwIfAborted,
  type ImportContext,
  type Importer,
  type ImportOptions,
} from './types'

function check(source: string): void {
  if (source !== MNIST_10K.name)
    throw new ImportError(`${source}: unknown bundled dataset (available: ${MNIST_10K.name})`)
}

export const bundledImporter = {
  id: 'bundled',
  title: 'Bundled sample',
  description: `a dataset shipped with the app (${MNIST_10K.name})`,
  detect: ({ source }) => (source === MNIST_10K.name ? DETECT.exact : DETECT.no),
  async fingerprint(source) {
    check(source)
    return createHash('sha256').update(`bundled\0${source}\0${MNIST_10K.splitSeed}`).digest('hex')
  },
  async run(source, _options: ImportOptions, ctx: ImportContext) {
    check(source)
    const { train, test } = loadMnist10k()
    await ctx.sink.begin({ shape: train.shape })
    const size = train.shape[0] * train.shape[1] * train.shape[2]
    for (const [split, set] of [
      ['train', train],
      ['test', test],
    ] as const) {
      for (let i = 0; i < set.n; i++) {
        if ((i & 1023) === 0) throwIfAborted(ctx.signal)
        await ctx.sink.add(split, set.images.subarray(i * size, (i + 1) * size), set.labels[i]!)
      }
    }
    return { classNames: Array.from({ length: 10 }, (_, i) => String(i)), notes: [] }
  },
} satisfies Importer
