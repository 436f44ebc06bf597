/**
 * What a killed process leaves in the data folder, removed when a host opens it: dataset import
 * folders (`datasets/.import-<pid>-XXXXXX`) and temp files of atomic writes (checkpoints
 * `checkpoints/<run>/*.tfkd.tmp-<pid>`, imported teachers `teachers/*.tmp-<pid>`, exports
 * `exports/.*.tmp-<pid>`) whose writer is no longer alive. A writer that is still running (an
 * import in another tfkd process, a trainer writing a checkpoint) keeps its files. Import folders
 * named before the pid was part of the name (`.import-XXXXXX`) go once they are an hour old.
 */
import { lstatSync, readdirSync, rmSync, type Stats } from 'node:fs'
import { join, relative } from 'node:path'
import type { DataPaths } from '../paths'
import { isProcessAlive } from '../process-alive'

export interface Leftover {
  path: string
  bytes: number
}

export interface SweepOptions {
  isAlive?: (pid: number) => boolean
  now?: number
  /** How old an import folder without a writer pid in its name must be to go (default 1 h). */
  unnamedStaleMs?: number
}

const IMPORT_DIR = /^\.import-(?:(\d+)-)?/
const TEMP_FILE = /\.tmp-(\d+)$/

function statOrNull(path: string): Stats | null {
  try {
    return lstatSync(path)
  } catch {
    return null
  }
}

function listOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return [] // not there yet, or unreadable: nothing to sweep
  }
}

/** Bytes under a path (a file, or a folder's files); links are not followed. */
function sizeOf(path: string): number {
  const st = statOrNull(path)
  if (!st) return 0
  if (!st.isDirectory()) return st.size
  return listOrEmpty(path).reduce((n, name) => n + sizeOf(join(path, name)), 0)
}

function removed(path: string): Leftover | null {
  const bytes = sizeOf(path)
  try {
    rmSync(path, { recursive: true, force: true })
    return { path, bytes }
  } catch {
    return null // still held or not ours to remove: the next start tries again
  }
}

/** Temp files (`*.tmp-<pid>`) in `dir` whose writer is gone. */
function deadTempFiles(dir: string, alive: (pid: number) => boolean): string[] {
  return listOrEmpty(dir)
    .filter((name) => {
      const m = TEMP_FILE.exec(name)
      return m !== null && !alive(Number(m[1]))
    })
    .map((name) => join(dir, name))
}

function deadImportFolders(dir: string, alive: (pid: number) => boolean, staleBefore: number): string[] {
  return listOrEmpty(dir)
    .filter((name) => {
      const m = IMPORT_DIR.exec(name)
      if (!m) return false
      if (m[1] !== undefined) return !alive(Number(m[1]))
      const st = statOrNull(join(dir, name))
      return st !== null && st.mtimeMs < staleBefore
    })
    .map((name) => join(dir, name))
}

/** Removes what killed processes left in the data folder; returns what it removed. */
export function sweepLeftovers(paths: DataPaths, opts: SweepOptions = {}): Leftover[] {
  const alive = opts.isAlive ?? isProcessAlive
  const staleBefore = (opts.now ?? Date.now()) - (opts.unnamedStaleMs ?? 3_600_000)
  const candidates = [
    ...deadImportFolders(paths.datasets, alive, staleBefore),
    ...deadTempFiles(paths.datasets, alive),
    ...listOrEmpty(paths.checkpoints).flatMap((run) => deadTempFiles(join(paths.checkpoints, run), alive)),
    ...deadTempFiles(paths.teachers, alive),
    ...deadTempFiles(paths.exports, alive),
  ]
  return candidates.map(removed).filter((x): x is Leftover => x !== null)
}

function bytesText(n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['kB', 'MB', 'GB', 'TB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(1)} ${units[i]}`
}

/** One line naming what was removed: paths (relative to the data folder) and sizes. */
export function describeLeftovers(home: string, list: readonly Leftover[]): string {
  const total = list.reduce((n, l) => n + l.bytes, 0)
  const items = list.map((l) => `${relative(home, l.path)} (${bytesText(l.bytes)})`)
  return `removed what a killed tfkd process left in ${home} (${bytesText(total)}): ${items.join(', ')}`
}

/** Sweeps the data folder and logs what went, if anything. Never throws. */
export function sweepAndReport(paths: DataPaths, log: (message: string) => void): void {
  try {
    const list = sweepLeftovers(paths)
    if (list.length > 0) log(describeLeftovers(paths.home, list))
  } catch (err) {
    log(`could not sweep leftovers in ${paths.home}: ${err instanceof Error ? err.message : String(err)}`)
  }
}
