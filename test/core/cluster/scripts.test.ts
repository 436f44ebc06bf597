/**
 * The cluster job's pure parts, no Slurm needed: the manifest and its job arrays, the sbatch
 * scripts as text (with GPUs), the parsers of squeue/scontrol/sacct output, and how a row's state
 * is concluded from markers and Slurm.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { expandPlan, resolvePlan } from '../../../src/shared/plan'
import { resolveRunConfig } from '../../../src/shared/schemas'
import { arraySpec, buildManifest, groupRows } from '../../../src/core/cluster/manifest'
import { checkSlurmOptions, renderScript, sbatchArgs } from '../../../src/core/cluster/slurm-scripts'
import { expandTaskIds, parseSacct, parseScontrol, parseSqueue } from '../../../src/core/cluster/slurm-client'
import { combineRowStatus } from '../../../src/core/cluster/status'
import { pickTeacherCheckpoint } from '../../../src/core/cluster/task-runner'
import { createAppCore, type AppCore } from '../../../src/core/app/app-core'
import { createForkSpawner } from '../../../src/core/services/fork-trainer'
import { tempHome } from '../../helpers'

function manifestOf(input: Parameters<typeof resolvePlan>[0]) {
  const plan = resolvePlan(input)
  const planned = expandPlan(plan)
  let n = 0
  return buildManifest({
    jobUuid: 'job',
    name: plan.name,
    createdAt: 0,
    dataset: { id: 1, name: 'mnist-10k', kind: 'bundled', bundled: 'mnist-10k' },
    plan,
    planned,
    configs: planned.map((p) => resolveRunConfig({ ...p.config, dataset: '1', teacher: null })),
    uuid: () => `u${n++}`,
  })
}

describe('manifest and job arrays', () => {
  it('gives each run a uuid and names its teacher by uuid; one array per teacher for its students', () => {
    const m = manifestOf({ preset: 'quick', variants: ['baseline', 'kd', 're-kd', 'de-kd'], seeds: [1, 2] })
    expect(m.rows.map((r) => r.index)).toEqual(m.rows.map((_, i) => i))
    const [stronger, weaker] = m.rows
    expect([stronger!.key, weaker!.key]).toEqual(['teacher:stronger', 'teacher:weaker'])
    const kd = m.rows.filter((r) => r.config.variant === 'kd')
    expect(kd.every((r) => r.teacher?.uuid === stronger!.uuid && r.teacher.epoch === null)).toBe(true)
    expect(m.rows.find((r) => r.config.variant === 'de-kd')!.teacher).toEqual({
      uuid: stronger!.uuid,
      epoch: 1,
      targetAccuracy: null,
    })
    const groups = groupRows(m)
    expect(groups.map((g) => [g.id, g.teacherRow])).toEqual([
      ['teachers', null],
      ['students-of-0', 0],
      ['students-of-1', 1],
      ['students', null],
    ])
    expect(groups.flatMap((g) => g.rows).sort((a, b) => a - b)).toEqual(m.rows.map((r) => r.index))
    // A retry resubmits only the given rows.
    expect(groupRows(m, new Set([kd[1]!.index])).map((g) => [g.id, g.rows])).toEqual([
      ['students-of-0', [kd[1]!.index]],
    ])
  })

  it('refuses to reuse a local teacher run on a cluster, naming the field', () => {
    expect(() => manifestOf({ variants: ['kd'], seeds: [1], reuseTeachers: { stronger: 3 } })).toThrow(
      /reuseTeachers.stronger/,
    )
  })

  it("writes array indices in Slurm's syntax", () => {
    expect(arraySpec([5, 0, 1, 2, 7, 8])).toBe('0-2,5,7-8')
    expect(arraySpec([3])).toBe('3')
  })
})

describe('sbatch scripts', () => {
  const m = manifestOf({ variants: ['baseline', 'kd'], seeds: [1, 2] })
  const groups = groupRows(m)
  const install = { node: '/opt/node-20/bin/node', tfkd: '/home/me/tfkd-studio/bin/tfkd.js' }

  it('with --gpus-per-task 1: what Slurm expects, and the same install run for the row', () => {
    const text = renderScript({
      jobDir: '/scratch/me/tfkd-x',
      jobUuid: 'job',
      jobName: m.name,
      jobSlug: 'x',
      group: groups[1]!,
      options: {
        gpusPerTask: 1,
        cpusPerTask: 4,
        partition: 'gpu',
        time: '02:00:00',
        mem: '16G',
        sbatchArgs: ['--account=proj42'],
        setup: ['module load cuda/11.8 cudnn/8.x'],
      },
      install,
    })
    const lines = text.split('\n')
    expect(lines[0]).toBe('#!/bin/bash')
    for (const l of [
      '#SBATCH --job-name=tfkd-x-students-of-resnet8-teacher',
      '#SBATCH --output=/scratch/me/tfkd-x/logs/students-of-0-%A_%a.out',
      '#SBATCH --nodes=1',
      // --gpus-per-task needs an explicit task count.
      '#SBATCH --ntasks=1',
      '#SBATCH --cpus-per-task=4',
      '#SBATCH --gpus-per-task=1',
      '#SBATCH --partition=gpu',
      '#SBATCH --time=02:00:00',
      '#SBATCH --mem=16G',
      '#SBATCH --account=proj42',
      'module load cuda/11.8 cudnn/8.x',
      `exec /opt/node-20/bin/node /home/me/tfkd-studio/bin/tfkd.js cluster task --job /scratch/me/tfkd-x --row "$SLURM_ARRAY_TASK_ID"`,
    ]) {
      expect(lines).toContain(l)
    }
    // sbatch reads #SBATCH lines only before the first command.
    const firstCommand = lines.findIndex((l) => l && !l.startsWith('#'))
    expect(lines.slice(firstCommand).some((l) => l.startsWith('#SBATCH'))).toBe(false)
    expect(lines.indexOf('module load cuda/11.8 cudnn/8.x')).toBeLessThan(
      lines.findIndex((l) => l.startsWith('exec ')),
    )
    expect(
      renderScript({
        jobDir: '/j',
        jobUuid: 'j',
        jobName: 'n',
        jobSlug: 's',
        group: groups[0]!,
        options: {},
        install,
      }),
    ).not.toMatch(/gpus/)
  })

  it('puts the array, the %K throttle and the afterok dependency on the command line', () => {
    expect(sbatchArgs({ rows: [3, 4], maxParallel: 2, after: ['41_0'], script: '/j/s.sbatch' })).toEqual([
      '--parsable',
      '--array=3-4%2',
      '--dependency=afterok:41_0',
      '--kill-on-invalid-dep=yes',
      '/j/s.sbatch',
    ])
    expect(sbatchArgs({ rows: [0], after: [], script: 's' })).toEqual(['--parsable', '--array=0', 's'])
  })

  it('rejects bad options, naming the flag and what was expected', () => {
    expect(() => checkSlurmOptions({ time: '2h' })).toThrow(/--time: got "2h", expected a Slurm time limit/)
    expect(() => checkSlurmOptions({ mem: 'lots' })).toThrow(/--mem/)
    expect(() => checkSlurmOptions({ maxParallel: 0 })).toThrow(/--max-parallel: got "0"/)
    expect(() => checkSlurmOptions({ sbatchArgs: ['module load cuda/11.8'] })).toThrow(/go in --setup/)
    expect(() => checkSlurmOptions({ sbatchArgs: ['--qos=long\n#SBATCH --x'] })).toThrow(
      /one option on one line/,
    )
    expect(() =>
      checkSlurmOptions({ time: '1-12:00:00', mem: '4000M', sbatchArgs: ['--qos=long'] }),
    ).not.toThrow()
  })
})

describe('Slurm output parsers', () => {
  it('expands array task fields', () => {
    expect(expandTaskIds('[3-5%2]')).toEqual([3, 4, 5])
    expect(expandTaskIds('1,4-5')).toEqual([1, 4, 5])
  })

  it('reads squeue, scontrol (including an unsplit cancelled array) and sacct', () => {
    expect(parseSqueue('7_[3-4%2]|PENDING|Dependency|\n8_1|RUNNING|None|node01\n')).toEqual([
      { id: '7_3', state: 'PENDING', reason: 'Dependency', node: null, exitCode: null },
      { id: '7_4', state: 'PENDING', reason: 'Dependency', node: null, exitCode: null },
      { id: '8_1', state: 'RUNNING', reason: null, node: 'node01', exitCode: null },
    ])
    const sc =
      'JobId=3 ArrayJobId=3 ArrayTaskId=4-5 JobName=s JobState=CANCELLED Reason=DependencyNeverSatisfied Dependency=afterok:1_1(failed) ExitCode=0:0 ReqNodeList=(null) NodeList=(null)\n' +
      'JobId=5 ArrayJobId=2 ArrayTaskId=2 JobState=COMPLETED Reason=None ExitCode=0:0 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm\n'
    expect(parseScontrol(sc)).toEqual([
      { id: '3_4', state: 'CANCELLED', reason: 'DependencyNeverSatisfied', node: null, exitCode: '0:0' },
      { id: '3_5', state: 'CANCELLED', reason: 'DependencyNeverSatisfied', node: null, exitCode: '0:0' },
      { id: '2_2', state: 'COMPLETED', reason: null, node: 'vm', exitCode: '0:0' },
    ])
    expect(parseSacct('12_0|CANCELLED by 0|0:15|gpu07|None\n12.batch|CANCELLED|0:15||\n')).toEqual([
      { id: '12_0', state: 'CANCELLED', reason: null, node: 'gpu07', exitCode: '0:15' },
    ])
  })
})

describe("a row's state", () => {
  const marker = (status: 'completed' | 'failed', reason: string | null = null) => ({
    uuid: 'u',
    status,
    reason,
    node: 'n1',
    slurmJob: '1_0',
    backend: 'wasm',
    device: 'cpu',
    startedAt: 1,
    finishedAt: 2,
  })
  const slurm = (state: string, reason: string | null = null) => ({
    id: '1_0',
    state,
    reason,
    node: null,
    exitCode: null,
  })
  const base = { submitted: true, slurmAnswered: true, teacher: null, marker: null, slurm: undefined }

  it('trusts the done marker, and adds Slurm state to a failed one', () => {
    expect(combineRowStatus({ ...base, marker: marker('completed') }).state).toBe('completed')
    expect(
      combineRowStatus({
        ...base,
        marker: marker('failed', 'stopped by a signal'),
        slurm: slurm('CANCELLED'),
      }),
    ).toEqual({
      state: 'failed',
      reason: 'stopped by a signal; Slurm: CANCELLED',
    })
    // Still ending in Slurm: not concluded yet.
    expect(
      combineRowStatus({ ...base, marker: marker('failed', 'x'), slurm: slurm('COMPLETING') }).state,
    ).toBe('running')
  })

  it('reads pending and running from Slurm; a student of a failed teacher says so', () => {
    expect(combineRowStatus({ ...base, slurm: slurm('PENDING', 'Dependency') })).toEqual({
      state: 'pending',
      reason: 'Dependency',
    })
    expect(combineRowStatus({ ...base, slurm: slurm('RUNNING') }).state).toBe('running')
    expect(
      combineRowStatus({
        ...base,
        slurm: slurm('CANCELLED', 'DependencyNeverSatisfied'),
        teacher: { key: 'teacher:stronger', state: 'failed', reason: 'x' },
      }).reason,
    ).toBe('not started: its teacher teacher:stronger failed; Slurm: CANCELLED (DependencyNeverSatisfied)')
  })

  it('concludes nothing when Slurm does not answer, and failure when it forgot a task without marker', () => {
    expect(combineRowStatus({ ...base, slurmAnswered: false }).state).toBe('unknown')
    expect(combineRowStatus({ ...base }).reason).toMatch(/no longer reports the task/)
    expect(combineRowStatus({ ...base, slurm: slurm('COMPLETED') }).reason).toMatch(/left no done marker/)
    expect(combineRowStatus({ ...base, submitted: false }).state).toBe('unsubmitted')
  })
})

describe('teacher checkpoint of a student', () => {
  const ev = [
    { type: 'epoch' as const, at: 0, metrics: { epoch: 1, valAccuracy: 0.3 } },
    { type: 'checkpoint' as const, at: 0, epoch: 1, path: 'checkpoints/epoch-0001.tfkd', bytes: 1 },
    { type: 'epoch' as const, at: 0, metrics: { epoch: 2, valAccuracy: 0.6 } },
    { type: 'checkpoint' as const, at: 0, epoch: 2, path: 'checkpoints/epoch-0002.tfkd', bytes: 1 },
  ] as Parameters<typeof pickTeacherCheckpoint>[0]
  it('picks the last, a given epoch, or the first reaching a target accuracy (else the best)', () => {
    expect(pickTeacherCheckpoint(ev, { uuid: 't', epoch: null, targetAccuracy: null })).toEqual({
      epoch: 2,
      path: 'checkpoints/epoch-0002.tfkd',
    })
    expect(pickTeacherCheckpoint(ev, { uuid: 't', epoch: 1, targetAccuracy: null })).toMatchObject({
      epoch: 1,
    })
    expect(pickTeacherCheckpoint(ev, { uuid: 't', epoch: null, targetAccuracy: 0.5 })).toMatchObject({
      epoch: 2,
    })
    expect(pickTeacherCheckpoint(ev, { uuid: 't', epoch: null, targetAccuracy: 0.99 })).toMatchObject({
      epoch: 2,
    })
    expect(pickTeacherCheckpoint(ev, { uuid: 't', epoch: 5, targetAccuracy: null })).toEqual({
      error: 'the teacher has no checkpoint at epoch 5',
    })
  })
})

describe('submit --dry-run', () => {
  let core: AppCore | undefined
  let cleanup: (() => void) | undefined
  afterEach(async () => {
    await core?.close()
    cleanup?.()
  })

  it('renders the scripts, writes nothing, and checks the work folder', async () => {
    const home = tempHome()
    cleanup = home.cleanup
    core = createAppCore({
      dataHome: home.dir,
      host: 'cli',
      spawnTrainer: createForkSpawner('/nonexistent'),
      tfkdInstall: { node: '/usr/bin/node', tfkd: '/opt/tfkd/bin/tfkd.js' },
    })
    const r = await core.handlers['cluster:submit']({
      plan: { variants: ['baseline', 'kd'], seeds: [1, 2] },
      workdir: home.dir,
      options: { gpusPerTask: 1, maxParallel: 3 },
      dryRun: true,
    })
    expect(r.rows).toBe(5)
    expect(r.submissions).toEqual([])
    expect(existsSync(r.jobDir)).toBe(false)
    expect(r.scripts.map((s) => s.sbatch.find((a) => a.startsWith('--array')))).toEqual([
      '--array=0%3',
      '--array=3-4%3',
      '--array=1-2%3',
    ])
    expect(r.scripts[1]!.sbatch).toContain('--dependency=afterok:<teachers>_0')
    expect(r.scripts.every((s) => s.text.includes('#SBATCH --gpus-per-task=1'))).toBe(true)
    await expect(
      core.handlers['cluster:submit']({
        plan: {},
        workdir: join(home.dir, 'missing'),
        options: {},
        dryRun: true,
      }),
    ).rejects.toThrow(/--workdir .*missing: no such folder/)
  })
})
