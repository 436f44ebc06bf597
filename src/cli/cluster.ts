/**
 * `tfkd cluster submit|status|sync|retry|cancel|list`: a plan on a Slurm cluster as job arrays, and
 * its results merged back into the local history. `tfkd cluster task` is what each array task runs
 * on its node; it opens no database, only its own task folder.
 */
import { hostname } from 'node:os'
import { Command, type Command as CommandType } from 'commander'
import type { ClusterJobStatus, SlurmOptions } from '../shared/cluster'
import { AppError } from '../shared/errors'
import type { AppCore } from '../core/app/app-core'
import { runClusterTask } from '../core/cluster/task-runner'
import { createForkSpawner } from '../core/services/fork-trainer'
import { duration, pct, table } from './format'
import { addPlanOptions, addTrainingOptions, int, planFromOptions } from './run-options'
import { parseTeacherRef } from './teachers'

const collect = (v: string, acc: string[]) => [...acc, v]

function statusTable(s: Pick<ClusterJobStatus, 'rows'>): string {
  return table(
    ['row', 'run', 'model', 'variant', 'seed', 'state', 'slurm id', 'node', 'detail'],
    s.rows.map((r) => [
      String(r.index),
      r.key,
      r.model,
      r.variant,
      String(r.seed),
      r.state,
      r.slurmId ?? '-',
      r.node ?? '-',
      r.state === 'running' && r.progress
        ? `epoch ${r.progress.epoch}/${r.progress.epochs}, ${pct(r.progress.fraction)}`
        : (r.reason ?? ''),
    ]),
  )
}

function countsLine(s: ClusterJobStatus | Omit<ClusterJobStatus, 'experimentId'>): string {
  return Object.entries(s.counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ')
}

// eslint-disable-next-line max-lines-per-function -- the `tfkd cluster` command table: one commander block per subcommand (submit, status, sync, retry, cancel, list), each short, read top to bottom like the help it prints
export function registerClusterCommands(
  program: CommandType,
  openCore: () => AppCore,
  opts: { trainerEntry: string },
): void {
  const cluster = program
    .command('cluster')
    .description('run a plan on a Slurm cluster as job arrays, and merge the results into the history')

  const submit = cluster
    .command('submit')
    .description(
      'write a job folder in --workdir (a folder the nodes see) and submit the teachers, then their students (afterok)',
    )
    .option('--slurm', 'submit to Slurm (the only scheduler so far; the default)')
    .requiredOption(
      '--workdir <dir>',
      'shared folder the cluster nodes see; the job folder is created inside',
    )
    .option('--partition <name>', 'Slurm partition')
    .option('--time <limit>', 'time limit per task (minutes, HH:MM:SS or D-HH:MM:SS)')
    .option('--cpus-per-task <n>', 'CPUs per task', int('--cpus-per-task'))
    .option('--gpus-per-task <n>', 'GPUs per task', int('--gpus-per-task'))
    .option('--mem <size>', 'memory per task, e.g. 16G')
    .option('--max-parallel <k>', 'at most K tasks of each array at once (%K)', int('--max-parallel'))
    .option(
      '--sbatch-arg <arg>',
      'extra sbatch option, repeatable (e.g. --sbatch-arg=--account=proj42)',
      collect,
      [],
    )
    .option(
      '--setup <line>',
      'shell line run before each task, repeatable (e.g. "module load cuda/11.8 cudnn/8.x")',
      collect,
      [],
    )
    .option('--dry-run', 'print the scripts and sbatch commands; write and submit nothing')
    .option('--json', 'print JSON')
    .option(
      '--teacher <onnx:ID>',
      'an imported ONNX teacher for every teacher slot; its .onnx is copied into the job folder and checked (sha256) on the node',
      parseTeacherRef,
    )
  addPlanOptions(addTrainingOptions(submit)).action(async (o: Record<string, unknown>) => {
    const options: SlurmOptions = Object.fromEntries(
      Object.entries({
        partition: o.partition,
        time: o.time,
        cpusPerTask: o.cpusPerTask,
        gpusPerTask: o.gpusPerTask,
        mem: o.mem,
        maxParallel: o.maxParallel,
        sbatchArgs: (o.sbatchArg as string[]).length ? o.sbatchArg : undefined,
        setup: (o.setup as string[]).length ? o.setup : undefined,
      }).filter(([, v]) => v !== undefined),
    )
    const core = openCore()
    try {
      const plan = planFromOptions(o)
      const ref = o.teacher as ReturnType<typeof parseTeacherRef> | undefined
      if (ref && 'run' in ref) {
        throw new AppError(
          'invalid_input',
          '--teacher run:ID: a cluster job cannot use a local teacher run (its checkpoints are on this machine); give onnx:ID or let the plan train its teachers',
        )
      }
      if (ref) plan.importedTeachers = { stronger: ref.onnx, weaker: ref.onnx, self: ref.onnx }
      const r = await core.cluster.submit({
        plan,
        workdir: o.workdir as string,
        options,
        dryRun: Boolean(o.dryRun),
      })
      if (o.json) return void process.stdout.write(`${JSON.stringify(r, null, 2)}\n`)
      if (o.dryRun) {
        process.stdout.write(`# dry run: job folder would be ${r.jobDir} (${r.rows} runs)\n`)
        for (const s of r.scripts) {
          process.stdout.write(`\n# ---- ${s.file} (rows ${s.rows.join(',')})\n${s.text}`)
          process.stdout.write(`# submitted as: sbatch ${s.sbatch.join(' ')}\n`)
        }
        return
      }
      process.stdout.write(`cluster job ${r.uuid}: ${r.name}\n  folder ${r.jobDir}\n`)
      for (const s of r.submissions) {
        process.stdout.write(
          `  ${s.group}: Slurm job ${s.jobId}, rows ${s.rows.join(',')}${s.after.length ? `, after ${s.after.join(',')}` : ''}\n`,
        )
      }
      process.stdout.write('watch with `tfkd cluster status`, merge results with `tfkd cluster sync`\n')
    } finally {
      await core.close()
    }
  })

  cluster
    .command('status [job]')
    .description(
      "pending, running, done and failed tasks, with Slurm's reason (job: folder or uuid; default the latest)",
    )
    .option('--json', 'print JSON')
    .action(async (job: string | undefined, o: { json?: boolean }) => {
      const core = openCore()
      try {
        const s = await core.handlers['cluster:status']({ job })
        if (o.json) return void process.stdout.write(`${JSON.stringify(s, null, 2)}\n`)
        process.stdout.write(`cluster job ${s.uuid}: ${s.name}\n  ${s.jobDir}\n  ${countsLine(s)}\n`)
        process.stdout.write(`${statusTable(s)}\n`)
      } finally {
        await core.close()
      }
    })

  cluster
    .command('sync [job]')
    .description(
      'merge every finished task into the local history (idempotent; failed tasks become failed runs)',
    )
    .option('--json', 'print JSON')
    .action(async (job: string | undefined, o: { json?: boolean }) => {
      const core = openCore()
      try {
        const started = Date.now()
        const r = await core.cluster.sync(job)
        const { status, ...rest } = r
        if (o.json) return void process.stdout.write(`${JSON.stringify(rest, null, 2)}\n`)
        process.stdout.write(
          `synced into experiment ${r.experimentId}: ${r.added} added, ${r.updated} updated after a retry, ${r.unchanged} already there, ${r.notFinished} not finished (${duration(Date.now() - started)})\n`,
        )
        const failed = status.rows.filter((x) => x.state === 'failed')
        if (failed.length)
          process.stdout.write(
            `failed:\n${statusTable({ rows: failed })}\nresubmit them with \`tfkd cluster retry\`\n`,
          )
      } finally {
        await core.close()
      }
    })

  cluster
    .command('retry [job]')
    .description('resubmit only the failed rows (students wait for a retried teacher)')
    .action(async (job: string | undefined) => {
      const core = openCore()
      try {
        const r = await core.cluster.retry(job)
        if (!r.rows.length) return void process.stdout.write('nothing to retry: no failed rows\n')
        process.stdout.write(`resubmitted rows ${r.rows.join(',')}\n`)
        for (const s of r.submissions) process.stdout.write(`  ${s.group}: Slurm job ${s.jobId}\n`)
      } finally {
        await core.close()
      }
    })

  cluster
    .command('cancel [job]')
    .description("scancel the job's pending and running tasks")
    .option(
      '--row <n>',
      'only this row, repeatable',
      (v: string, acc: number[]) => [...acc, int('--row')(v)],
      [] as number[],
    )
    .action(async (job: string | undefined, o: { row: number[] }) => {
      const core = openCore()
      try {
        const r = await core.cluster.cancel(job, o.row.length ? o.row : undefined)
        process.stdout.write(
          r.cancelled.length ? `scancel ${r.cancelled.join(' ')}\n` : 'nothing pending or running\n',
        )
      } finally {
        await core.close()
      }
    })

  cluster
    .command('list')
    .description('cluster jobs submitted from (or synced into) this data folder')
    .action(async () => {
      const core = openCore()
      try {
        const jobs = core.cluster.list()
        if (!jobs.length) return void process.stdout.write('no cluster jobs yet\n')
        process.stdout.write(
          `${table(
            ['uuid', 'name', 'folder', 'experiment', 'synced'],
            jobs.map((j) => [
              j.uuid.slice(0, 8),
              j.name,
              j.jobDir,
              j.experimentId ? String(j.experimentId) : '-',
              j.syncedAt ? new Date(j.syncedAt).toISOString() : 'never',
            ]),
          )}\n`,
        )
      } finally {
        await core.close()
      }
    })

  cluster.addCommand(
    new Command('task')
      .description('(run by each Slurm array task) train one manifest row into its task folder')
      .requiredOption('--job <dir>', 'the job folder')
      .requiredOption('--row <n>', 'manifest row (the array task id)', int('--row'))
      .action(async (o: { job: string; row: number }) => {
        const controller = new AbortController()
        // scancel, a time limit or preemption: Slurm sends SIGTERM first; record why, then stop.
        process.once('SIGTERM', () => controller.abort())
        process.once('SIGINT', () => controller.abort())
        const env = process.env
        const code = await runClusterTask({
          jobDir: o.job,
          row: o.row,
          spawnTrainer: createForkSpawner(opts.trainerEntry),
          node: hostname(),
          slurmJob:
            env.SLURM_ARRAY_JOB_ID && env.SLURM_ARRAY_TASK_ID
              ? `${env.SLURM_ARRAY_JOB_ID}_${env.SLURM_ARRAY_TASK_ID}`
              : null,
          log: (line) => process.stderr.write(`tfkd cluster task: ${line}\n`),
          signal: controller.signal,
        }).catch((err: unknown) => {
          process.stderr.write(`tfkd cluster task: ${AppError.from(err).message}\n`)
          return 1
        })
        // The trainer child may still be flushing; leave with the task's code either way.
        setTimeout(() => process.exit(controller.signal.aborted ? 143 : code), 50)
      }),
    { hidden: true },
  )
}
