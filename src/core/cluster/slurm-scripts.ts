/**
 * sbatch scripts of a cluster job, as text (pure). One script per job array; the array indices,
 * the throttle and the dependency go on the sbatch command line, because a retry resubmits the
 * same script for other rows. Every array task runs this install's `tfkd cluster task` for its row.
 */
import type { SlurmOptions } from '../../shared/cluster'
import { AppError } from '../../shared/errors'
import type { ArrayGroup } from './manifest'
import { arraySpec } from './manifest'

export type { SlurmOptions }

/** The install that the array tasks run: absolute paths, the same on every node. */
export interface TfkdInstall {
  node: string
  tfkd: string
}

const TIME = /^(\d+|\d+:\d{2}|\d+:\d{2}:\d{2}|\d+-\d+|\d+-\d+:\d{2}|\d+-\d+:\d{2}:\d{2})$/
const MEM = /^\d+[KMGT]?$/i
const PARTITION = /^[\w.,-]+$/

/** Checks options before anything is written; errors name the flag, the value and what is expected. */
export function checkSlurmOptions(o: SlurmOptions): void {
  const bad = (flag: string, value: unknown, expected: string): never => {
    throw new AppError('invalid_input', `${flag}: got "${String(value)}", expected ${expected}`, {
      field: flag,
    })
  }
  if (o.partition !== undefined && !PARTITION.test(o.partition))
    bad('--partition', o.partition, 'a partition name (letters, digits, . _ - and commas)')
  if (o.time !== undefined && !TIME.test(o.time))
    bad('--time', o.time, 'a Slurm time limit: minutes, HH:MM:SS or D-HH:MM:SS')
  for (const [flag, v, min] of [
    ['--cpus-per-task', o.cpusPerTask, 1],
    ['--gpus-per-task', o.gpusPerTask, 0],
    ['--max-parallel', o.maxParallel, 1],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < min)) bad(flag, v, `an integer >= ${min}`)
  }
  if (o.mem !== undefined && !MEM.test(o.mem)) bad('--mem', o.mem, 'a size such as 8G or 4000M')
  for (const a of o.sbatchArgs ?? []) {
    if (/[\n\r]/.test(a)) bad('--sbatch-arg', a, 'one option on one line')
    if (!a.startsWith('-')) {
      bad(
        '--sbatch-arg',
        a,
        /^\s*(module|source|\.|export|conda)\b/.test(a)
          ? 'an sbatch option such as --account=NAME; shell commands such as `module load ...` go in --setup'
          : 'an sbatch option starting with "-" (e.g. --account=NAME, --qos=long, --constraint=a100)',
      )
    }
  }
  for (const s of o.setup ?? []) if (/[\n\r]/.test(s)) bad('--setup', s, 'one shell line')
}

/** Single-quotes a word for bash. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

/** Slurm job names: what the array is, and which job it belongs to. */
export function jobName(jobSlug: string, group: ArrayGroup): string {
  return `tfkd-${jobSlug}-${group.label}`.replace(/[^\w.-]/g, '_').slice(0, 120)
}

/** The sbatch script of one array (its rows are chosen on the command line). */
export function renderScript(args: {
  jobDir: string
  jobUuid: string
  jobName: string
  jobSlug: string
  group: ArrayGroup
  options: SlurmOptions
  install: TfkdInstall
}): string {
  const { options: o, group } = args
  const q = shellQuote
  const lines = [
    '#!/bin/bash',
    `# tfkd-studio cluster job "${args.jobName.replace(/[\n\r]/g, ' ')}" (${args.jobUuid}): ${group.label}`,
    '# Each array task trains one row of manifest.json (its SLURM_ARRAY_TASK_ID) into tasks/<uuid>/.',
    `#SBATCH --job-name=${jobName(args.jobSlug, group)}`,
    `#SBATCH --output=${args.jobDir}/logs/${group.id}-%A_%a.out`,
    '#SBATCH --nodes=1',
    // One task per array element: --gpus-per-task needs an explicit task count.
    '#SBATCH --ntasks=1',
    `#SBATCH --cpus-per-task=${o.cpusPerTask ?? 1}`,
  ]
  if (o.gpusPerTask) lines.push(`#SBATCH --gpus-per-task=${o.gpusPerTask}`)
  if (o.partition) lines.push(`#SBATCH --partition=${o.partition}`)
  if (o.time) lines.push(`#SBATCH --time=${o.time}`)
  if (o.mem) lines.push(`#SBATCH --mem=${o.mem}`)
  for (const a of o.sbatchArgs ?? []) lines.push(`#SBATCH ${a}`)
  lines.push('', 'set -euo pipefail')
  if (o.setup?.length) lines.push(...o.setup)
  lines.push(
    `exec ${q(args.install.node)} ${q(args.install.tfkd)} cluster task --job ${q(args.jobDir)} --row "$SLURM_ARRAY_TASK_ID"`,
    '',
  )
  return lines.join('\n')
}

/** sbatch's command line for one submission of a script. */
export function sbatchArgs(args: {
  rows: readonly number[]
  maxParallel?: number
  /** Slurm ids of array tasks this submission waits for (afterok), e.g. ["1234_0"]. */
  after: readonly string[]
  script: string
}): string[] {
  const spec = `${arraySpec(args.rows)}${args.maxParallel ? `%${args.maxParallel}` : ''}`
  return [
    '--parsable',
    `--array=${spec}`,
    ...(args.after.length
      ? [`--dependency=afterok:${args.after.join(':')}`, '--kill-on-invalid-dep=yes']
      : []),
    args.script,
  ]
}
