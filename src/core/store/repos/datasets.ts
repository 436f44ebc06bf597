/** The `datasets` table: imported and bundled datasets. */
import { datasetShapeRecord } from '../../../shared/record-schemas'
import type { DatasetSummary } from '../../../shared/types'
import { parseStoredJson } from '../parse'
import { AppError } from '../../../shared/errors'
import type { RepoDeps, Row } from './types'

export interface NewDataset {
  name: string
  format: string
  sourcePath: string | null
  contentHash: string | null
  classNames: string[]
  inputShape: [number, number, number]
  counts: { train: number; test: number }
  cachePath: string | null
}

export interface DatasetRecord extends DatasetSummary {
  sourcePath: string | null
  contentHash: string | null
  cachePath: string | null
}

function toDataset(r: Row): DatasetRecord {
  const at = (column: string) => ({ record: 'dataset', id: r.id, column })
  return {
    id: r.id as number,
    name: r.name as string,
    format: r.format as string,
    classNames: parseStoredJson(datasetShapeRecord.classNames, r.class_names, at('class_names')),
    inputShape: parseStoredJson(datasetShapeRecord.inputShape, r.input_shape, at('input_shape')),
    counts: parseStoredJson(datasetShapeRecord.counts, r.counts, at('counts')),
    createdAt: r.created_at as number,
    sourcePath: (r.source_path as string | null) ?? null,
    contentHash: (r.content_hash as string | null) ?? null,
    cachePath: (r.cache_path as string | null) ?? null,
  }
}

export function createDatasetsRepo({ db, now }: RepoDeps) {
  const repo = {
    insert(d: NewDataset): DatasetRecord {
      const info = db
        .prepare(
          `INSERT INTO datasets (name, format, source_path, content_hash, class_names, input_shape, counts, cache_path, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          d.name,
          d.format,
          d.sourcePath,
          d.contentHash,
          JSON.stringify(d.classNames),
          JSON.stringify(d.inputShape),
          JSON.stringify(d.counts),
          d.cachePath,
          now(),
        )
      return repo.get(Number(info.lastInsertRowid))!
    },
    get(id: number): DatasetRecord | undefined {
      const r = db.prepare('SELECT * FROM datasets WHERE id = ?').get(id) as Row | undefined
      return r && toDataset(r)
    },
    byName(name: string): DatasetRecord | undefined {
      const r = db.prepare('SELECT * FROM datasets WHERE name = ?').get(name) as Row | undefined
      return r && toDataset(r)
    },
    /**
     * The one "id or name" lookup every host and service uses: digits are an id first (then a name,
     * since a dataset may be named "12"), anything else a name.
     */
    byRef(ref: string): DatasetRecord | undefined {
      return (/^\d+$/.test(ref) ? repo.get(Number(ref)) : undefined) ?? repo.byName(ref)
    },
    /** `byRef`, or a not_found AppError naming the reference and the known datasets. */
    require(ref: string): DatasetRecord {
      const ds = repo.byRef(ref)
      if (ds) return ds
      const known = repo.list().map((d) => `${d.id} (${d.name})`)
      throw new AppError('not_found', `dataset "${ref}" not found; known datasets: ${known.join(', ')}`, {
        field: 'dataset',
      })
    },
    list(): DatasetRecord[] {
      return (db.prepare('SELECT * FROM datasets ORDER BY id').all() as Row[]).map(toDataset)
    },
    byHash(contentHash: string): DatasetRecord | undefined {
      const r = db
        .prepare('SELECT * FROM datasets WHERE content_hash = ? ORDER BY id LIMIT 1')
        .get(contentHash) as Row | undefined
      return r && toDataset(r)
    },
    rename(id: number, name: string): void {
      db.prepare('UPDATE datasets SET name = ? WHERE id = ?').run(name, id)
    },
    /**
     * Deletes a dataset and the experiments planned on it, in one transaction. The caller checks
     * first that no run uses it (runs reference the dataset; the foreign key would refuse).
     */
    deleteWithExperiments(id: number): void {
      db.transaction(() => {
        db.prepare('DELETE FROM experiments WHERE dataset_id = ?').run(id)
        db.prepare('DELETE FROM datasets WHERE id = ?').run(id)
      })()
    },
  }
  return repo
}

export type DatasetsRepo = ReturnType<typeof createDatasetsRepo>
