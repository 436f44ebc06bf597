/**
 * The plan inputs of `tfkd run`, shared with `tfkd cluster submit`: the same flags build the same
 * plan whether it trains here or on a cluster.
 */
import { InvalidArgumentError, Option, type Command } from 'commander'
import { AppError } from '../shared/errors'
import { PRESET_IDS, type ExperimentPlanInput } from '../shared/plan'
import { BACKEND_IDS, OPTIMIZER_IDS } from '../shared/types'
import { planFromFlags, type PlanFlags } from './experiments'

export function int(name: string) {
  return (v: string): number => {
    const n = Number(v)
    if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer, got "${v}"`)
    return n
  }
}

export function num(name: string) {
  return (v: string): number => {
    const n = Number(v)
    if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got "${v}"`)
    return n
  }
}

/** The flag that sets a run-config field (errors name what the user typed, e.g. `--lr`). */
const FIELD_FLAGS: Record<string, string> = {
  learningRate: '--lr',
  validationFraction: '--val-fraction',
  maxTrainSamples: '--max-train',
  variantParams: '--param',
  teacher: '--teacher-run',
}
export function flagOf(field: string): string {
  return FIELD_FLAGS[field] ?? `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
}

/** A plan error about a training field the user gave as a flag names that flag too. */
export function withFlagName(err: unknown, fromFlags: Record<string, unknown>): unknown {
  if (!(err instanceof AppError) || err.code !== 'invalid_input') return err
  const field = (err.details as { field?: unknown } | undefined)?.field
  const m = typeof field === 'string' ? /^training\.(\w+)$/.exec(field) : null
  if (!m || !(m[1]! in fromFlags)) return err
  return new AppError(err.code, `${flagOf(m[1]!)}: ${err.message}`, err.details)
}

/** Dataset, model and training flags (a single run's and a plan's). */
export function addTrainingOptions(cmd: Command): Command {
  return cmd
    .option('--dataset <id|name>', 'dataset id or name (default: mnist-10k)')
    .option('--model <id>', 'model id (see `tfkd models`)')
    .option('--epochs <n>', 'epochs', int('--epochs'))
    .option('--batch-size <n>', 'batch size', int('--batch-size'))
    .addOption(new Option('--optimizer <id>', 'optimizer').choices([...OPTIMIZER_IDS]))
    .option('--lr <x>', 'base learning rate (scaled by batch/128)', num('--lr'))
    .option('--momentum <x>', 'SGD momentum', num('--momentum'))
    .option('--weight-decay <x>', 'L2 weight decay', num('--weight-decay'))
    .option('--val-fraction <x>', 'validation fraction carved from train', num('--val-fraction'))
    .option('--max-train <n>', 'train on at most N samples (0 = all)', int('--max-train'))
    .addOption(new Option('--backend <id>', 'pin a TF.js backend').choices(['auto', ...BACKEND_IDS]))
    .option(
      '--param <key=value>',
      'variant hyperparameter, repeatable (e.g. --param alpha=0.9 --param temperature=4)',
      (v: string, acc: Record<string, unknown>) => {
        const m = /^([A-Za-z]\w*)=(.*)$/.exec(v)
        if (!m) throw new InvalidArgumentError(`--param expects key=value, got "${v}"`)
        const raw = m[2]!
        // true / false are booleans (e.g. --param standardize=true), numbers numbers, the rest text.
        acc[m[1]!] =
          raw === 'true' || raw === 'false'
            ? raw === 'true'
            : raw !== '' && Number.isFinite(Number(raw))
              ? Number(raw)
              : raw
        return acc
      },
      {} as Record<string, unknown>,
    )
}

/** The flags that make a plan: a plan file, a preset, variants, seeds, teachers. */
export function addPlanOptions(cmd: Command): Command {
  return cmd
    .option('--plan <file>', 'run an experiment plan (JSON; flags override its fields)')
    .addOption(new Option('--preset <id>', 'start the plan from a preset').choices([...PRESET_IDS]))
    .option('--variants <list>', 'plan: "all" or a comma-separated list of variants')
    .option('--seeds <n|list>', 'plan: a number of seeds (1..n) or a comma-separated list')
    .option('--teacher-model <id>', 'plan: stronger teacher architecture (kd, de-kd)')
    .option('--weaker-teacher <id>', 'plan: weaker teacher architecture (re-kd)')
    .option(
      '--de-kd-epochs <list>',
      "plan: de-kd teachers are the stronger teacher's snapshots at these epochs",
    )
    .option('--teacher-epochs <n>', 'plan: epochs of the teacher runs', int('--teacher-epochs'))
}

/** The training fields given as flags. */
export function trainingFromOptions(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries({
      epochs: o.epochs,
      batchSize: o.batchSize,
      optimizer: o.optimizer,
      learningRate: o.lr,
      momentum: o.momentum,
      weightDecay: o.weightDecay,
      validationFraction: o.valFraction,
      maxTrainSamples: o.maxTrain,
      backend: o.backend,
    }).filter(([, v]) => v !== undefined),
  )
}

/** The plan that the training and plan flags describe (flags override the plan file). */
export function planFromOptions(o: Record<string, unknown>): ExperimentPlanInput {
  const training = trainingFromOptions(o)
  const params = o.param && Object.keys(o.param).length ? (o.param as Record<string, unknown>) : undefined
  return planFromFlags(
    {
      ...(o as PlanFlags),
      dataset: o.dataset as string | undefined,
      model: o.model as string | undefined,
    },
    training,
    params,
  )
}
