/**
 * The one CLI test harness: `tfkd` as a user runs it (a real process on a data folder), and the
 * dataset commands in-process (commander with the real composition root, output captured).
 */
import { spawnSync } from 'node:child_process'
import { Command } from 'commander'
import { vi } from 'vitest'
import { registerDatasetCommands } from '../../src/cli/datasets'
import { createAppCore } from '../../src/core/app/app-core'
import { CLI_ENTRY, requireBuiltTrainer } from '../helpers'

export interface CliResult {
  code: number | null
  out: string
  err: string
  signal: NodeJS.Signals | null
}

/** Runs bin/tfkd.js with TFKD_HOME=`dataHome` and waits for it (default limit 120 s). */
export function runTfkd(dataHome: string, args: string[], timeout = 120_000): CliResult {
  requireBuiltTrainer()
  const r = spawnSync(process.execPath, [CLI_ENTRY, ...args], {
    env: { ...process.env, TFKD_HOME: dataHome },
    encoding: 'utf8',
    timeout,
  })
  return { code: r.status, out: r.stdout, err: r.stderr, signal: r.signal }
}

/** `tfkd(...args)` on one data folder. */
export function tfkdOn(dataHome: string, timeout?: number): (...args: string[]) => CliResult {
  return (...args) => runTfkd(dataHome, args, timeout)
}

/** `tfkd datasets ...` in this process (no trainer), with stdout and stderr captured. */
export function datasetCommandsOn(
  dataHome: string,
): (...args: string[]) => Promise<{ out: string; err: string }> {
  return async (...args) => {
    const program = new Command('tfkd').exitOverride()
    registerDatasetCommands(program, () =>
      createAppCore({
        dataHome,
        host: 'cli',
        spawnTrainer: () => {
          throw new Error('no trainer in this test')
        },
      }),
    )
    let out = ''
    let err = ''
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true))
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true))
    try {
      await program.parseAsync(['node', 'tfkd', ...args])
    } finally {
      o.mockRestore()
      e.mockRestore()
    }
    return { out, err }
  }
}
