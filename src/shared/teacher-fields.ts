/**
 * The settings of an ONNX teacher import and of a model export, by the words a person sees. As
 * with dataset imports (import-fields.ts), core messages name a setting through a namer so that
 * each host speaks its own language: the UI names the field ("the class map"), the CLI adds its
 * flag ("the class map (--class-map)"). A message that hard-codes a flag would send a UI user
 * looking for a command line that is not there.
 */

/** Each setting's name in words (lower case, for use inside a sentence). */
export const TEACHER_FIELD_NAMES = {
  classMap: 'class map',
  layout: 'layout',
  inputSize: 'input size',
  mean: 'mean',
  std: 'std',
  device: 'execution provider',
  checkpoint: 'checkpoint',
} as const
export type TeacherField = keyof typeof TEACHER_FIELD_NAMES

/** Turns a setting into the words a message uses for it. */
export type TeacherFieldNamer = (field: TeacherField) => string

/** The host-neutral namer: the setting's name only (the UI and the web host). */
export const neutralTeacherFieldNames: TeacherFieldNamer = (field) => TEACHER_FIELD_NAMES[field]

/**
 * A namer written out as a table: what crosses to the trainer child (a function cannot), and
 * read back there with `namerOf`.
 */
export type TeacherFieldTable = Record<TeacherField, string>

export function fieldTable(namer: TeacherFieldNamer): TeacherFieldTable {
  const fields = Object.keys(TEACHER_FIELD_NAMES) as TeacherField[]
  return Object.fromEntries(fields.map((f) => [f, namer(f)])) as TeacherFieldTable
}

export function namerOf(table: TeacherFieldTable | undefined): TeacherFieldNamer {
  return table ? (field) => table[field] : neutralTeacherFieldNames
}
