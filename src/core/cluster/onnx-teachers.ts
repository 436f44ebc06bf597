/**
 * Imported ONNX teachers in cluster jobs. The nodes may not see this machine's data folder, so the
 * job folder carries a copy of each teacher's .onnx (`teachers/<sha256>.onnx`, on the file system
 * the nodes share, like the dataset cache). At submit time each file is hashed and compared with the
 * sha256 recorded at import; on the node, each task hashes its copy again before the trainer opens
 * it and fails, naming the file, when it differs. The runs' lineage keeps the hash (their config's
 * importedTeacher.sha256, and the trainer's teacherCost.sha256), as for local runs.
 */
import { createHash } from 'node:crypto'
import { copyFileSync, createReadStream, existsSync, mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { AppError } from '../../shared/errors'
import type { TrainerOnnxTeacher } from '../../shared/trainer-protocol'
import type { RunConfig } from '../../shared/types'
import type { Store } from '../store/store'
import type { Manifest, ManifestOnnxTeacher, ManifestRow } from './manifest'

/** The job folder's teacher copies. */
export const TEACHERS_DIR = 'teachers'

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256')
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer)
  return h.digest('hex')
}

/** The imported teachers `configs` distil from, each file checked against its recorded hash. */
export async function checkOnnxTeachers(
  store: Store,
  configs: readonly RunConfig[],
): Promise<ManifestOnnxTeacher[]> {
  const ids = [...new Set(configs.flatMap((c) => (c.importedTeacher ? [c.importedTeacher.id] : [])))]
  const out: ManifestOnnxTeacher[] = []
  for (const id of ids.sort((a, b) => a - b)) {
    const t = store.onnxTeachers.get(id)
    if (!t) throw new AppError('not_found', `ONNX teacher ${id} not found (tfkd teachers list)`)
    if (!existsSync(t.path)) {
      throw new AppError(
        'not_found',
        `ONNX teacher onnx:${id} (${t.name}): its file ${t.path} is missing; import it again (tfkd teachers import)`,
      )
    }
    const sha = await sha256File(t.path)
    if (sha !== t.sha256) {
      throw new AppError(
        'conflict',
        `ONNX teacher onnx:${id} (${t.name}): ${t.path} has sha256 ${sha.slice(0, 12)}, but it was imported as ${t.sha256.slice(0, 12)}; the file changed since, so its measured accuracy no longer holds: import it again`,
      )
    }
    out.push({
      id,
      name: t.name,
      sha256: t.sha256,
      bytes: t.bytes,
      file: join(TEACHERS_DIR, `${t.sha256}.onnx`),
      preprocessing: t.preprocessing,
      testAccuracy: t.testAccuracy,
    })
  }
  return out
}

/** Copies the checked teachers into the job folder (a temp name, then a rename: never half a file). */
export function copyOnnxTeachers(
  store: Store,
  teachers: readonly ManifestOnnxTeacher[],
  jobDir: string,
): void {
  for (const t of teachers) {
    const dst = join(jobDir, t.file)
    mkdirSync(join(jobDir, TEACHERS_DIR), { recursive: true })
    if (existsSync(dst)) continue
    copyFileSync(store.onnxTeachers.get(t.id)!.path, `${dst}.tmp`)
    renameSync(`${dst}.tmp`, dst)
  }
}

/**
 * What the trainer needs to open a row's imported teacher from the job folder, after checking the
 * copy's sha256; or why it cannot (the task then fails with that reason).
 */
export async function resolveOnnxTeacher(
  manifest: Manifest,
  jobDir: string,
  row: ManifestRow,
): Promise<{ onnxTeacher?: TrainerOnnxTeacher } | { error: string }> {
  const ref = row.config.importedTeacher
  if (!ref) return {}
  const t = manifest.onnxTeachers?.find((x) => x.id === ref.id)
  if (!t) {
    return {
      error: `ONNX teacher onnx:${ref.id} is not in the job's manifest (onnxTeachers); submit the plan again`,
    }
  }
  const path = join(jobDir, t.file)
  if (!existsSync(path)) return { error: `ONNX teacher onnx:${t.id} (${t.name}): ${path} is missing` }
  const sha = await sha256File(path)
  const expected = ref.sha256 ?? t.sha256
  if (sha !== expected || sha !== t.sha256) {
    return {
      error: `ONNX teacher onnx:${t.id} (${t.name}): ${path} has sha256 ${sha}, expected ${expected} (the copy changed or was damaged on the way); not used`,
    }
  }
  return {
    onnxTeacher: {
      id: t.id,
      path,
      sha256: sha,
      preprocessing: t.preprocessing,
      executionProvider: ref.executionProvider ?? 'cpu',
    },
  }
}
