import { mkdtempSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const ROOT = resolve(__dirname, '..')
export const TRAINER_ENTRY = join(ROOT, 'out/node/trainer.js')
export const CLI_ENTRY = join(ROOT, 'bin/tfkd.js')

/** A fresh data home in the OS temp dir, removed by the returned cleanup. */
export function tempHome(prefix = 'tfkd-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

export function requireBuiltTrainer(): string {
  if (!existsSync(TRAINER_ENTRY)) {
    throw new Error(`${TRAINER_ENTRY} is missing: run \`npm run build\` before the tests`)
  }
  return TRAINER_ENTRY
}
