/**
 * The manifest of a cluster job: one row per run of an expanded plan, each with a stable UUID, its
 * resolved config and its teacher's UUID. Array task N of the job trains row N. Pure functions: the
 * UUIDs come from the caller, so the same plan gives the same manifest in tests.
 */
import { z } from 'zod'
import { AppError } from '../../shared/errors'
import type { TeacherPreprocessing } from '../../shared/onnx'
import type { PlannedRun, ResolvedPlan } from '../../shared/plan'
import type { RunConfig, RunRole } from '../../shared/types'

export const MANIFEST_VERSION = 1

export interface ManifestTeacher {
  uuid: string
  /** Snapshot epoch (de-kd); null = the teacher's last checkpoint. */
  epoch: number | null
  /** de-kd by accuracy: the first epoch whose validation accuracy reached this, else the best. */
  targetAccuracy: number | null
}

export interface ManifestRow {
  /** Array task id of this row (its index in `rows`). */
  index: number
  uuid: string
  /** The plan's key, e.g. `teacher:stronger` or `student:kd:2`. */
  key: string
  role: RunRole
  /** Resolved config; `teacher` is null here (the teacher is named by uuid below). */
  config: RunConfig
  teacher: ManifestTeacher | null
}

/** Where the array tasks read the dataset: the bundled sample, or a cache file in the job folder. */
export type ManifestDataset =
  | { id: number; name: string; kind: 'bundled'; bundled: 'mnist-10k' }
  | { id: number; name: string; kind: 'cache'; file: string }

/**
 * An imported ONNX teacher some rows distil from: a copy travels in the job folder (the nodes may not
 * see this machine's data folder), and each task checks its sha256 before use.
 */
export interface ManifestOnnxTeacher {
  /** The teacher's id in the submitting history (`onnx:ID`, the rows' config.importedTeacher.id). */
  id: number
  name: string
  sha256: string
  bytes: number
  /** Relative to the job folder: `teachers/<sha256>.onnx`. */
  file: string
  preprocessing: TeacherPreprocessing
  /** Measured at import, on the submitting machine (for the record; the nodes do not re-evaluate). */
  testAccuracy: number
}

export interface Manifest {
  version: number
  jobUuid: string
  name: string
  createdAt: number
  dataset: ManifestDataset
  plan: ResolvedPlan
  rows: ManifestRow[]
  /** Imported ONNX teachers the rows use (absent in jobs without one). */
  onnxTeachers?: ManifestOnnxTeacher[]
}

/**
 * One row per planned run, in plan order (teachers first). `uuid()` is called once per row.
 * Reused local teachers are not supported on a cluster: their checkpoints live on this machine.
 */
export function buildManifest(args: {
  jobUuid: string
  name: string
  createdAt: number
  dataset: ManifestDataset
  plan: ResolvedPlan
  planned: PlannedRun[]
  configs: RunConfig[]
  uuid: () => string
  onnxTeachers?: ManifestOnnxTeacher[]
}): Manifest {
  const { plan, planned, configs } = args
  const reused = Object.keys(plan.reuseTeachers)
  if (reused.length) {
    throw new AppError(
      'invalid_input',
      `reuseTeachers.${reused[0]}: a cluster job cannot reuse a local teacher run (its checkpoints are on this machine); let the plan train its teachers`,
      { field: `reuseTeachers.${reused[0]}` },
    )
  }
  // Teachers by planned key ('teacher:stronger', or 'teacher:stronger:3' with one teacher per seed).
  const teacherUuid = new Map<string, string>()
  const rows: ManifestRow[] = planned.map((p, index) => {
    const uuid = args.uuid()
    if (p.role === 'teacher') teacherUuid.set(p.key, uuid)
    const slotUuid = p.teacher ? teacherUuid.get(p.teacher.key) : undefined
    if (p.teacher && !slotUuid) {
      throw new AppError('internal', `${p.key}: its teacher (${p.teacher.slot}) is not in the plan`)
    }
    return {
      index,
      uuid,
      key: p.key,
      role: p.role,
      config: { ...configs[index]!, teacher: null },
      teacher:
        p.teacher && slotUuid
          ? { uuid: slotUuid, epoch: p.teacher.epoch, targetAccuracy: p.teacher.targetAccuracy ?? null }
          : null,
    }
  })
  return {
    version: MANIFEST_VERSION,
    jobUuid: args.jobUuid,
    name: args.name,
    createdAt: args.createdAt,
    dataset: args.dataset,
    plan,
    rows,
    ...(args.onnxTeachers?.length ? { onnxTeachers: args.onnxTeachers } : {}),
  }
}

const manifestSchema = z.object({
  version: z.literal(MANIFEST_VERSION),
  jobUuid: z.string().min(1),
  name: z.string(),
  createdAt: z.number(),
  dataset: z.union([
    z.object({
      id: z.number(),
      name: z.string(),
      kind: z.literal('bundled'),
      bundled: z.literal('mnist-10k'),
    }),
    z.object({ id: z.number(), name: z.string(), kind: z.literal('cache'), file: z.string().min(1) }),
  ]),
  plan: z.record(z.string(), z.unknown()),
  rows: z
    .array(
      z.object({
        index: z.number().int().min(0),
        uuid: z.string().min(1),
        key: z.string(),
        role: z.enum(['student', 'teacher']),
        config: z.record(z.string(), z.unknown()),
        teacher: z
          .object({
            uuid: z.string(),
            epoch: z.number().int().nullable(),
            targetAccuracy: z.number().nullable(),
          })
          .nullable(),
      }),
    )
    .min(1),
  onnxTeachers: z
    .array(
      z.object({
        id: z.number().int().min(1),
        name: z.string(),
        sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a hex sha256'),
        bytes: z.number().int().min(0),
        file: z.string().min(1),
        preprocessing: z.record(z.string(), z.unknown()),
        testAccuracy: z.number(),
      }),
    )
    .optional(),
})

/** Parses a manifest read from `file`; a bad one is an error naming the file and the field. */
export function parseManifest(text: string, file: string): Manifest {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new AppError('invalid_input', `${file}: not valid JSON (${(err as Error).message})`)
  }
  const parsed = manifestSchema.safeParse(raw)
  if (!parsed.success) {
    const i = parsed.error.issues[0]!
    throw new AppError('invalid_input', `${file}: ${i.path.join('.') || '(root)'}: ${i.message}`)
  }
  const m = parsed.data as unknown as Manifest
  m.rows.forEach((r, i) => {
    if (r.index !== i)
      throw new AppError('invalid_input', `${file}: rows.${i}.index is ${r.index}, expected ${i}`)
  })
  return m
}

/** A set of rows submitted as one job array: the teachers, or the students of one teacher. */
export interface ArrayGroup {
  /** Short, file-name safe: `teachers`, `students-of-3` or `students`. */
  id: string
  /** Says what the array trains, for job names and logs. */
  label: string
  rows: number[]
  /** Row of the teacher these students wait for (afterok on that array task); null = none. */
  teacherRow: number | null
}

/**
 * Splits rows into job arrays: the teachers, then one array per teacher for its students (so a
 * failing teacher stops only its own students), then the students without a teacher.
 */
export function groupRows(manifest: Manifest, only?: ReadonlySet<number>): ArrayGroup[] {
  const pick = manifest.rows.filter((r) => !only || only.has(r.index))
  const byUuid = new Map(manifest.rows.map((r) => [r.uuid, r]))
  const groups: ArrayGroup[] = []
  const teachers = pick.filter((r) => r.role === 'teacher')
  if (teachers.length)
    groups.push({ id: 'teachers', label: 'teachers', rows: teachers.map((r) => r.index), teacherRow: null })
  const byTeacher = new Map<number, number[]>()
  const free: number[] = []
  for (const r of pick.filter((x) => x.role === 'student')) {
    const t = r.teacher ? byUuid.get(r.teacher.uuid) : undefined
    if (!t) free.push(r.index)
    else byTeacher.set(t.index, [...(byTeacher.get(t.index) ?? []), r.index])
  }
  for (const [teacherRow, rows] of byTeacher) {
    const t = manifest.rows[teacherRow]!
    groups.push({
      id: `students-of-${teacherRow}`,
      label: `students-of-${t.config.model}-teacher`,
      rows,
      teacherRow,
    })
  }
  if (free.length) groups.push({ id: 'students', label: 'students', rows: free, teacherRow: null })
  return groups
}

/** Slurm's array syntax for a set of indices: [0,1,2,5] -> "0-2,5". */
export function arraySpec(indices: readonly number[]): string {
  const sorted = [...new Set(indices)].sort((a, b) => a - b)
  const parts: string[] = []
  for (let i = 0; i < sorted.length;) {
    let j = i
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`)
    i = j + 1
  }
  return parts.join(',')
}
