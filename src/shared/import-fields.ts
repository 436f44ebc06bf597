/**
 * The settings of a dataset import, by the words a person sees. Core messages name a setting
 * through a `FieldNamer` so that each host speaks its own language: the UI names the form field
 * ("the label column"), the CLI adds its flag ("the label column (--label)"). A message that
 * hard-codes a flag would send a UI user looking for a command line that is not there.
 */

/** What to do with a CSV row that cannot be used (wrong field count, a non-numeric feature, no label). */
export const ON_BAD_ROWS = ['error', 'skip'] as const
export type OnBadRows = (typeof ON_BAD_ROWS)[number]

/**
 * The text encoding of a CSV. `utf8` (the default) refuses a file that is not valid UTF-8
 * throughout, naming the first bad line; `latin1` (ISO-8859-1) reads every byte as one character.
 */
export const CSV_ENCODINGS = ['utf8', 'latin1', 'utf16le'] as const
export type CsvEncoding = (typeof CSV_ENCODINGS)[number]

/** Each import setting's name in words (lower case, for use inside a sentence). */
export const IMPORT_FIELD_NAMES = {
  format: 'format',
  name: 'name',
  labelColumn: 'label column',
  onBadRows: 'bad rows',
  encoding: 'encoding',
  size: 'image size',
  color: 'colour',
  labelMode: 'CIFAR-100 labels (fine or coarse)',
  testFraction: 'test fraction',
  seed: 'seed',
  classNames: 'class names',
} as const
export type ImportField = keyof typeof IMPORT_FIELD_NAMES

/**
 * The settings the app's import form (the Datasets view) lets a person set, besides the path; the
 * format-specific ones (`ImportFormatInfo.fields`) show only for their formats. A note from the core
 * suggests changing a setting only where the host offers it.
 */
export const IMPORT_FORM_FIELDS: readonly ImportField[] = ['format', 'name', 'labelColumn', 'onBadRows']

/** Turns a setting into the words a message uses for it. */
export type FieldNamer = (field: ImportField) => string

/** The host-neutral namer: the setting's name only (the UI and the web host). */
export const neutralFieldNames: FieldNamer = (field) => IMPORT_FIELD_NAMES[field]

/** A format of the importer registry as the UI lists it (`datasets:formats`). */
export interface ImportFormatInfo {
  id: string
  /** A short name for a menu ("CSV", "CIFAR-10"). */
  title: string
  /** One line on what the format reads. */
  description: string
  /** The settings only this format reads (e.g. the CSV label column), for the form to show. */
  fields: ImportField[]
  /** File name endings detection takes as this format (for the form to show `fields` in auto mode). */
  extensions: string[]
}
