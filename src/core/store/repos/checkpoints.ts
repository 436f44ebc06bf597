/** The `checkpoints` table: files on disk referenced by run and epoch. */
import type { RepoDeps, Row } from './types'

export interface CheckpointRecord {
  id: number
  runId: number
  epoch: number
  kind: 'epoch' | 'best' | 'final' | 'snapshot'
  path: string
  bytes: number
  createdAt: number
}

function toCheckpoint(r: Row): CheckpointRecord {
  return {
    id: r.id as number,
    runId: r.run_id as number,
    epoch: r.epoch as number,
    kind: r.kind as CheckpointRecord['kind'],
    path: r.path as string,
    bytes: r.bytes as number,
    createdAt: r.created_at as number,
  }
}

export function createCheckpointsRepo({ db, now }: RepoDeps) {
  return {
    /**
     * Records a checkpoint file. Idempotent per file: a resumed run that writes the same epoch's file
     * again updates its row instead of adding a duplicate.
     */
    insert(c: Omit<CheckpointRecord, 'id' | 'createdAt'>): CheckpointRecord {
      const createdAt = now()
      const same = db
        .prepare('SELECT id FROM checkpoints WHERE run_id = ? AND epoch = ? AND kind = ? AND path = ?')
        .get(c.runId, c.epoch, c.kind, c.path) as { id: number } | undefined
      if (same) {
        db.prepare('UPDATE checkpoints SET bytes = ?, created_at = ? WHERE id = ?').run(
          c.bytes,
          createdAt,
          same.id,
        )
        return { ...c, id: same.id, createdAt }
      }
      const info = db
        .prepare(
          'INSERT INTO checkpoints (run_id, epoch, kind, path, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(c.runId, c.epoch, c.kind, c.path, c.bytes, createdAt)
      return { ...c, id: Number(info.lastInsertRowid), createdAt }
    },
    latest(runId: number): CheckpointRecord | undefined {
      const r = db
        .prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY epoch DESC, id DESC LIMIT 1')
        .get(runId) as Row | undefined
      return r && toCheckpoint(r)
    },
    atEpoch(runId: number, epoch: number): CheckpointRecord | undefined {
      const r = db
        .prepare('SELECT * FROM checkpoints WHERE run_id = ? AND epoch = ? ORDER BY id DESC LIMIT 1')
        .get(runId, epoch) as Row | undefined
      return r && toCheckpoint(r)
    },
    /** Every checkpoint row of a run, by epoch. */
    list(runId: number): CheckpointRecord[] {
      return (
        db.prepare('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY epoch, id').all(runId) as Row[]
      ).map(toCheckpoint)
    },
    /** The epoch of one checkpoint (a de-kd student's teacher snapshot), or null. */
    epochOf(id: number): number | null {
      const r = db.prepare('SELECT epoch FROM checkpoints WHERE id = ?').get(id) as
        { epoch: number } | undefined
      return r?.epoch ?? null
    },
  }
}

export type CheckpointsRepo = ReturnType<typeof createCheckpointsRepo>
