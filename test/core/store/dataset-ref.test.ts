/** The one "id or name" dataset lookup (the runs, plans, teachers and datasets services and the CLI use it). */
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openDatabase } from '../../../src/core/store/db'
import { createStore } from '../../../src/core/store/store'
import { tempHome } from '../../helpers'

let cleanup: (() => void) | undefined
afterEach(() => cleanup?.())

const dataset = (name: string) => ({
  name,
  format: 'x',
  sourcePath: null,
  contentHash: null,
  classNames: ['a'],
  inputShape: [1, 1, 1] as [number, number, number],
  counts: { train: 1, test: 1 },
  cachePath: null,
})

describe('datasets.byRef / require', () => {
  it('finds by id, by name, and a digits-only name that is no id', () => {
    const t = tempHome()
    cleanup = t.cleanup
    const store = createStore(openDatabase(join(t.dir, 'tfkd.sqlite')))
    const a = store.datasets.insert(dataset('digits'))
    const b = store.datasets.insert(dataset('2024'))
    expect(store.datasets.byRef(String(a.id))?.name).toBe('digits')
    expect(store.datasets.byRef('digits')?.id).toBe(a.id)
    expect(store.datasets.byRef('2024')?.id).toBe(b.id)
    expect(store.datasets.byRef('nope')).toBeUndefined()
    expect(() => store.datasets.require('nope')).toThrow(
      `dataset "nope" not found; known datasets: ${a.id} (digits), ${b.id} (2024)`,
    )
    store.close()
  })
})
