/**
 * `tfkd teachers import|list|delete` (imported ONNX teachers) and `tfkd export-model` (a run's
 * model as ONNX or TF.js). Both run their work in a trainer child through the core's services.
 */
import { InvalidArgumentError, Option, type Command } from 'commander'
import { AppError } from '../shared/errors'
import {
  MODEL_EXPORT_FORMATS,
  ONNX_EXECUTION_PROVIDERS,
  TENSOR_LAYOUTS,
  type ImportedTeacherRef,
  type ModelExportFormat,
  type OnnxExecutionProvider,
  type OnnxTeacherSummary,
} from '../shared/onnx'
import { TEACHER_FIELD_NAMES, type TeacherField, type TeacherFieldNamer } from '../shared/teacher-fields'
import type { TeacherImportFields } from '../shared/schemas'
import type { AppCore } from '../core/app/app-core'
import { nearChanceWarning } from '../core/services/teacher-service'
import { duration, pct, table } from './format'

/**
 * Each teacher-import and export setting's flag: core messages name a setting, the CLI adds the
 * flag that sets it (`device` is `teachers import --device`; runs' `--teacher-device` errors come
 * from the trainer, which names the setting only).
 */
const FLAGS: Record<TeacherField, string> = {
  classMap: '--class-map',
  layout: '--layout',
  inputSize: '--input-size',
  mean: '--mean',
  std: '--std',
  device: '--device',
  checkpoint: '--checkpoint',
}
export const cliTeacherFieldNames: TeacherFieldNamer = (field) =>
  `${TEACHER_FIELD_NAMES[field]} (${FLAGS[field]})`

function numberList(flag: string) {
  return (v: string): number[] => {
    const xs = v.split(',').map((x) => Number(x.trim()))
    if (xs.length === 0 || xs.some((x) => !Number.isFinite(x))) {
      throw new InvalidArgumentError(
        `${flag} expects comma-separated numbers (e.g. 0.485,0.456,0.406), got "${v}"`,
      )
    }
    return xs
  }
}

function size(v: string): [number, number] {
  const m = /^(\d+)x(\d+)$/i.exec(v.trim())
  if (!m) throw new InvalidArgumentError(`--input-size expects HxW (e.g. 224x224), got "${v}"`)
  return [Number(m[1]), Number(m[2])]
}

/** `--teacher onnx:ID` (imported) or `run:ID` / `ID` (a teacher run). */
export function parseTeacherRef(v: string): { onnx: number } | { run: number } {
  const m = /^(?:(onnx|run):)?(\d+)$/.exec(v.trim())
  if (!m || Number(m[2]) < 1) {
    throw new InvalidArgumentError(
      `--teacher expects onnx:ID (an imported teacher) or run:ID (a teacher run), got "${v}"`,
    )
  }
  return m[1] === 'onnx' ? { onnx: Number(m[2]) } : { run: Number(m[2]) }
}

/** The importedTeacher field of a run config from `--teacher onnx:ID` [--teacher-device]. */
export function importedTeacherRef(id: number, device?: OnnxExecutionProvider): ImportedTeacherRef {
  return { id, ...(device ? { executionProvider: device } : {}) }
}

function describe(t: OnnxTeacherSummary): string {
  const p = t.preprocessing
  return [
    `teacher ${t.id}: ${t.name} for ${t.datasetName}`,
    `  test accuracy ${pct(t.testAccuracy)} on ${t.testCount} test images (${t.evalDevice}, ${duration(t.evalMs)}); chance ${pct(t.chanceAccuracy)}${t.nearChance ? '  NEAR CHANCE' : ''}`,
    `  input "${p.inputName}" ${p.layout} ${p.channels}x${p.inputSize[0]}x${p.inputSize[1]}, mean ${p.mean.join(',')} std ${p.std.join(',')}; output "${p.outputName}" ${p.outputClasses} classes${p.classMap ? ' (class map)' : ''}`,
    `  file ${t.path} (${t.bytes} bytes, sha256 ${t.sha256}), from ${t.sourcePath}; ${t.producer}`,
  ].join('\n')
}

// eslint-disable-next-line max-lines-per-function -- the `tfkd teachers` command table: one commander block per subcommand (import, list, delete, export-model), each short, read top to bottom like the help it prints
export function registerTeacherCommands(program: Command, openCore: () => AppCore): void {
  const teachers = program.command('teachers').description('imported ONNX teachers (bring your own teacher)')

  teachers
    .command('import <file>')
    .description(
      'check an ONNX model against a dataset, evaluate it on the test split and store it as a teacher',
    )
    .requiredOption('--dataset <id|name>', 'the dataset it will teach on')
    .option('--name <name>', 'a name (default: the file name)')
    .addOption(
      new Option('--layout <layout>', 'input layout (default: from the model; PyTorch is nchw)').choices([
        ...TENSOR_LAYOUTS,
      ]),
    )
    .option('--mean <list>', 'per-channel mean in [0,1] pixel units (default 0)', numberList('--mean'))
    .option('--std <list>', 'per-channel std in [0,1] pixel units (default 1)', numberList('--std'))
    .option('--input-size <HxW>', "the teacher's input size; images are resized (bilinear) to it", size)
    .option(
      '--class-map <file>',
      'teacher output j -> dataset class name (JSON array or one per line; empty = dropped)',
    )
    .addOption(
      new Option('--device <ep>', 'ONNX Runtime execution provider for the evaluation')
        .choices([...ONNX_EXECUTION_PROVIDERS])
        .default('cpu'),
    )
    .option('--json', 'print JSON')
    .action(
      async (
        file: string,
        o: Omit<TeacherImportFields, 'path' | 'executionProvider'> & {
          device: OnnxExecutionProvider
          json?: boolean
        },
      ) => {
        const core = openCore()
        try {
          process.stderr.write(
            `checking ${file} against ${o.dataset} and evaluating it on the test split...\n`,
          )
          const { teacher, warnings } = await core.teachers.import({
            path: file,
            dataset: o.dataset,
            name: o.name,
            layout: o.layout,
            mean: o.mean,
            std: o.std,
            inputSize: o.inputSize,
            classMap: o.classMap,
            executionProvider: o.device,
            fieldName: cliTeacherFieldNames,
          })
          if (o.json) process.stdout.write(`${JSON.stringify({ teacher, warnings }, null, 2)}\n`)
          else process.stdout.write(`${describe(teacher)}\n`)
          for (const w of warnings) process.stderr.write(`warning: ${w}\n`)
          if (!o.json) {
            process.stdout.write(
              `distil from it: tfkd run --dataset ${teacher.datasetName} --variant kd --teacher onnx:${teacher.id}\n`,
            )
          }
        } finally {
          await core.close()
        }
      },
    )

  teachers
    .command('list')
    .description('list imported teachers')
    .option('--dataset <id|name>', 'only teachers of this dataset')
    .option('--json', 'print JSON')
    .action(async (o: { dataset?: string; json?: boolean }) => {
      const core = openCore()
      try {
        const ds = o.dataset ? core.store.datasets.byRef(o.dataset) : undefined
        if (o.dataset && !ds) throw new AppError('not_found', `dataset "${o.dataset}" not found`)
        const list = core.teachers.list(ds?.id)
        if (o.json) {
          process.stdout.write(`${JSON.stringify(list, null, 2)}\n`)
          return
        }
        if (list.length === 0) {
          process.stdout.write(
            'no imported teachers; add one with `tfkd teachers import model.onnx --dataset D`\n',
          )
          return
        }
        process.stdout.write(
          `${table(
            ['id', 'name', 'dataset', 'test acc', 'chance', 'layout', 'size', 'sha256', 'producer'],
            list.map((t) => [
              `onnx:${t.id}`,
              t.name,
              t.datasetName,
              `${pct(t.testAccuracy)}${t.nearChance ? ' (near chance)' : ''}`,
              pct(t.chanceAccuracy),
              t.preprocessing.layout,
              `${t.preprocessing.inputSize[0]}x${t.preprocessing.inputSize[1]}`,
              t.sha256.slice(0, 12),
              t.producer,
            ]),
          )}\n`,
        )
        for (const t of list.filter((x) => x.nearChance))
          process.stderr.write(`warning: onnx:${t.id}: ${nearChanceWarning(t, cliTeacherFieldNames)}\n`)
      } finally {
        await core.close()
      }
    })

  teachers
    .command('delete <id>')
    .description('delete an imported teacher (runs that used it keep its hash)')
    .action(async (id: string) => {
      const core = openCore()
      try {
        const n = Number(id.replace(/^onnx:/, ''))
        if (!Number.isInteger(n) || n < 1)
          throw new AppError('invalid_input', `expected a teacher id (e.g. 3 or onnx:3), got "${id}"`)
        const r = core.teachers.delete(n)
        process.stdout.write(
          `deleted onnx:${n}${r.runs.length ? ` (runs ${r.runs.join(', ')} keep its hash in their config)` : ''}\n`,
        )
      } finally {
        await core.close()
      }
    })

  program
    .command('export-model <run>')
    .description(
      "export a run's model as ONNX (opset 13, NCHW input) or TF.js Layers, with preprocessing.json, checked against the app's logits",
    )
    .addOption(
      new Option('--format <format>', 'model format')
        .choices([...MODEL_EXPORT_FORMATS])
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--checkpoint <which>', 'the best (by validation) or the last epoch')
        .choices(['best', 'last'])
        .default('best'),
    )
    .option('--out <dir>', 'output folder (default: <data folder>/exports/run-<id>-<checkpoint>-<format>)')
    .option('--json', 'print JSON')
    .action(
      async (
        run: string,
        o: { format: ModelExportFormat; checkpoint: 'best' | 'last'; out?: string; json?: boolean },
      ) => {
        const runId = Number(run)
        if (!Number.isInteger(runId) || runId < 1)
          throw new AppError('invalid_input', `expected a run id, got "${run}"`)
        const core = openCore()
        try {
          const r = await core.modelExport.exportModel({
            runId,
            format: o.format,
            checkpoint: o.checkpoint,
            outDir: o.out,
            fieldName: cliTeacherFieldNames,
          })
          if (o.json) {
            process.stdout.write(`${JSON.stringify(r, null, 2)}\n`)
            return
          }
          process.stdout.write(
            `run ${r.runId} (${r.checkpoint} checkpoint, epoch ${r.epoch}) exported as ${r.format} to ${r.dir}\n` +
              r.files.map((f) => `  ${f}\n`).join('') +
              `checked: ${r.check.runtime} on ${r.check.images} test images, max |logit difference| ${r.check.maxAbsDiff.toExponential(2)} (tolerance ${r.check.tolerance})\n`,
          )
        } finally {
          await core.close()
        }
      },
    )
}
