/** The `onnx_teachers` table: imported ONNX teachers with their preprocessing and test accuracy. */
import type { OnnxTeacherSummary } from '../../../shared/onnx'
import { teacherPreprocessingRecord } from '../../../shared/record-schemas'
import { parseStoredJson } from '../parse'
import { decodeReal, encodeReal } from '../real'
import type { RepoDeps, Row } from './types'

export type NewOnnxTeacher = Omit<OnnxTeacherSummary, 'id' | 'datasetName' | 'createdAt'>

const SELECT = `SELECT t.*, d.name AS dataset_name FROM onnx_teachers t JOIN datasets d ON d.id = t.dataset_id`

function toTeacher(r: Row): OnnxTeacherSummary {
  return {
    id: r.id as number,
    name: r.name as string,
    datasetId: r.dataset_id as number,
    datasetName: r.dataset_name as string,
    path: r.path as string,
    sourcePath: r.source_path as string,
    sha256: r.sha256 as string,
    bytes: r.bytes as number,
    producer: r.producer as string,
    preprocessing: parseStoredJson(teacherPreprocessingRecord, r.preprocessing, {
      record: 'teacher',
      id: r.id,
      column: 'preprocessing',
    }),
    testAccuracy: decodeReal(r.test_accuracy) ?? NaN,
    testCount: r.test_count as number,
    chanceAccuracy: decodeReal(r.chance_accuracy) ?? NaN,
    nearChance: r.near_chance === 1,
    evalDevice: r.eval_device as string,
    evalMs: r.eval_ms as number,
    createdAt: r.created_at as number,
  }
}

export function createOnnxTeachersRepo({ db, now }: RepoDeps) {
  const repo = {
    insert(t: NewOnnxTeacher): OnnxTeacherSummary {
      const info = db
        .prepare(
          `INSERT INTO onnx_teachers (name, dataset_id, path, source_path, sha256, bytes, producer, preprocessing,
             test_accuracy, test_count, chance_accuracy, near_chance, eval_device, eval_ms, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          t.name,
          t.datasetId,
          t.path,
          t.sourcePath,
          t.sha256,
          t.bytes,
          t.producer,
          JSON.stringify(t.preprocessing),
          encodeReal(t.testAccuracy),
          t.testCount,
          encodeReal(t.chanceAccuracy),
          t.nearChance ? 1 : 0,
          t.evalDevice,
          t.evalMs,
          now(),
        )
      return repo.get(Number(info.lastInsertRowid))!
    },
    get(id: number): OnnxTeacherSummary | undefined {
      const r = db.prepare(`${SELECT} WHERE t.id = ?`).get(id) as Row | undefined
      return r && toTeacher(r)
    },
    list(filter: { datasetId?: number } = {}): OnnxTeacherSummary[] {
      const rows =
        filter.datasetId === undefined
          ? db.prepare(`${SELECT} ORDER BY t.id`).all()
          : db.prepare(`${SELECT} WHERE t.dataset_id = ? ORDER BY t.id`).all(filter.datasetId)
      return (rows as Row[]).map(toTeacher)
    },
    /** Runs whose config names this teacher (they keep its hash even if it is deleted). */
    runsUsing(id: number): number[] {
      return (
        db
          .prepare(`SELECT id FROM runs WHERE json_extract(config, '$.importedTeacher.id') = ? ORDER BY id`)
          .all(id) as { id: number }[]
      ).map((r) => r.id)
    },
    /** Teachers whose file is `path` (a file is shared by every import of the same bytes). */
    usingPath(path: string): number {
      return (db.prepare('SELECT COUNT(*) AS n FROM onnx_teachers WHERE path = ?').get(path) as { n: number })
        .n
    },
    delete(id: number): void {
      db.prepare('DELETE FROM onnx_teachers WHERE id = ?').run(id)
    },
  }
  return repo
}
