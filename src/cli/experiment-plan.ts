/**
 * `tfkd experiments plan ID [--out FILE]` (the experiment's plan as the file `tfkd run --plan`
 * accepts) and `tfkd experiments duplicate ID [flags]` (a new experiment from that plan, the flags
 * overriding its fields exactly as they override a --plan file).
 */
import { writeFileSync } from 'node:fs'
import type { Command } from 'commander'
import { AppError } from '../shared/errors'
import type { ExperimentPlanInput } from '../shared/plan'
import type { AppCore } from '../core/app/app-core'
import { addTrainingOptions, int } from './run-options'
import { runPlanFromFlags } from './run-command'

function experimentId(v: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1) {
    throw new AppError('invalid_input', `experiment id must be a positive integer, got "${v}"`)
  }
  return n
}

/** The stored plan of experiment `id` as a plan file. */
async function planOf(openCore: () => AppCore, id: number): Promise<ExperimentPlanInput> {
  const core = openCore()
  try {
    return core.plans.planFile(id)
  } finally {
    await core.close()
  }
}

export function registerPlanFileCommands(program: Command, openCore: () => AppCore): void {
  const experiments = program.commands.find((c) => c.name() === 'experiments')
  if (!experiments) throw new Error('register the experiments command first')
  experiments
    .command('plan <id>')
    .description("the experiment's plan as JSON, as `tfkd run --plan FILE` accepts it")
    .option('--out <file>', 'write it to this file instead of printing it')
    .action(async (id: string, o: { out?: string }) => {
      const text = `${JSON.stringify(await planOf(openCore, experimentId(id)), null, 2)}\n`
      if (!o.out) return void process.stdout.write(text)
      try {
        writeFileSync(o.out, text)
      } catch (err) {
        throw new AppError(
          'invalid_input',
          `--out ${o.out}: cannot write the file (${(err as Error).message})`,
        )
      }
      process.stderr.write(`experiment ${id}'s plan written to ${o.out}\n`)
    })
  const duplicate = experiments
    .command('duplicate <id>')
    .description("start a new experiment from this one's plan; flags override its fields")
    .option('--name <text>', 'name of the new experiment (default: "<name> (copy of #ID)")')
    .option('--variants <list>', '"all" or a comma-separated list of variants')
    .option('--seeds <n|list>', 'a number of seeds (1..n) or a comma-separated list')
    .option('--teacher-model <id>', 'stronger teacher architecture (kd, de-kd)')
    .option('--weaker-teacher <id>', 'weaker teacher architecture (re-kd)')
    .option('--teacher-epochs <n>', 'epochs of the teacher runs', int('--teacher-epochs'))
    .option('--no-progress', 'no progress bars')
  addTrainingOptions(duplicate).action(async (id: string, o: Record<string, unknown>) => {
    const n = experimentId(id)
    const base = await planOf(openCore, n)
    const name = typeof o.name === 'string' ? o.name : `${base.name ?? 'plan'} (copy of #${n})`
    await runPlanFromFlags({ ...o, base: { ...base, name: name.slice(0, 200) } }, openCore)
  })
}
