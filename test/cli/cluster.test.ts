/** `tfkd cluster` as a user types it (no Slurm needed): the dry run's scripts and the flag errors. */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CLI_ENTRY, tempHome } from '../helpers'
import { tfkdOn } from '../support/cli'

const home = tempHome('tfkd-cli-cluster-')
const work = tempHome('tfkd-cli-cluster-work-')
afterAll(() => {
  home.cleanup()
  work.cleanup()
})

const tfkd = tfkdOn(home.dir, 60_000)

describe('tfkd cluster', () => {
  it('--dry-run prints the scripts with the plan flags of tfkd run, and writes nothing', () => {
    const r = tfkd(
      'cluster',
      'submit',
      '--slurm',
      '--workdir',
      work.dir,
      '--dry-run',
      '--variants',
      'baseline,kd',
      '--seeds',
      '2',
      '--epochs',
      '1',
      '--max-train',
      '256',
      '--gpus-per-task',
      '1',
      '--max-parallel',
      '4',
      '--sbatch-arg=--account=proj42',
      '--setup',
      'module load cuda/11.8 cudnn/8.x',
    )
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/# dry run: job folder would be .*tfkd-\d{8}-\d{6}-[0-9a-f]{8} \(5 runs\)/)
    expect(r.out).toContain('#SBATCH --gpus-per-task=1')
    expect(r.out).toContain('#SBATCH --account=proj42')
    expect(r.out).toContain('module load cuda/11.8 cudnn/8.x')
    expect(r.out).toContain(`exec ${process.execPath} ${CLI_ENTRY} cluster task --job `)
    expect(r.out).toMatch(
      /sbatch --parsable --array=3-4%4 --dependency=afterok:<teachers>_0 --kill-on-invalid-dep=yes/,
    )
    expect(readdirSync(work.dir)).toEqual([])
  })

  it('names the flag and what it expected', () => {
    const modules = tfkd(
      'cluster',
      'submit',
      '--workdir',
      work.dir,
      '--dry-run',
      '--sbatch-arg',
      'module load cuda/11.8',
    )
    expect(modules.code).toBe(2)
    expect(modules.err).toMatch(/--sbatch-arg: got "module load cuda\/11.8".*go in --setup/)
    const missing = tfkd('cluster', 'submit', '--workdir', join(work.dir, 'nope'), '--dry-run')
    expect(missing.code).toBe(2)
    expect(missing.err).toMatch(/--workdir .*nope: no such folder/)
    const time = tfkd('cluster', 'submit', '--workdir', work.dir, '--time', '2h', '--dry-run')
    expect(time.err).toMatch(/--time: got "2h"/)
    expect(existsSync(join(work.dir, 'nope'))).toBe(false)
  })

  it('says when there is no job yet', () => {
    const r = tfkd('cluster', 'status')
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/no cluster jobs yet; submit one with `tfkd cluster submit`/)
  })
})
