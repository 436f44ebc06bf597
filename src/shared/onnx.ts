/**
 * Imported ONNX teachers and exported students, as data every process shares: what a teacher's
 * preprocessing is, what is stored about it, and how a run refers to it.
 */

/** Where ONNX Runtime executes a teacher: the CPU (always there) or a GPU execution provider. */
export const ONNX_EXECUTION_PROVIDERS = ['cpu', 'cuda', 'dml', 'coreml'] as const
export type OnnxExecutionProvider = (typeof ONNX_EXECUTION_PROVIDERS)[number]

export const TENSOR_LAYOUTS = ['nchw', 'nhwc'] as const
export type TensorLayout = (typeof TENSOR_LAYOUTS)[number]

/**
 * How the app turns its uint8 NHWC pixels into the teacher's input and the teacher's output into
 * the dataset's classes: x = (pixel / 255 - mean[c]) / std[c], resized (bilinear, half-pixel
 * centres as PyTorch's interpolate) to `inputSize`, laid out as `layout`.
 */
export interface TeacherPreprocessing {
  layout: TensorLayout
  /** Per channel, in [0, 1] pixel units (ImageNet: 0.485, 0.456, 0.406). */
  mean: number[]
  std: number[]
  /** [height, width] the teacher sees. */
  inputSize: [number, number]
  channels: number
  inputName: string
  outputName: string
  /** Number of teacher outputs (logits per sample). */
  outputClasses: number
  /**
   * classMap[j] = the dataset class of teacher output j, or -1 when it is dropped; null = the
   * identity (teacher outputs are the dataset's classes in order).
   */
  classMap: number[] | null
}

/** One imported teacher, as stored (migration 007). */
export interface OnnxTeacherSummary {
  id: number
  name: string
  datasetId: number
  datasetName: string
  /** The copy in the data folder that runs use. */
  path: string
  /** Where it was imported from. */
  sourcePath: string
  sha256: string
  bytes: number
  /** Producer and opset as the file states them (e.g. "pytorch 1.13.1, opset 13"). */
  producer: string
  preprocessing: TeacherPreprocessing
  /** Accuracy on the dataset's whole test split with `preprocessing`, on `evalDevice`. */
  testAccuracy: number
  testCount: number
  /** The accuracy of always guessing the test split's most frequent class. */
  chanceAccuracy: number
  /** True when testAccuracy is near chance: the preprocessing is the usual cause. */
  nearChance: boolean
  evalDevice: string
  evalMs: number
  createdAt: number
}

/** A run's imported teacher (instead of a teacher run). */
export interface ImportedTeacherRef {
  id: number
  /** SHA-256 of the ONNX file, recorded when the run is queued: the lineage outlives the teacher. */
  sha256?: string
  /** Where ONNX Runtime runs the teacher (default cpu). */
  executionProvider?: OnnxExecutionProvider
}

/**
 * How a distilling run gets its teacher's logits: `per-batch` (default) runs the teacher on the
 * same augmented batch as the student; `cached-unaugmented` computes them once on the unaugmented
 * training images and reuses them every epoch (faster; with augmentation on, the student's
 * augmented batch then meets the logits of the unaugmented images).
 */
export const TEACHER_LOGITS_MODES = ['per-batch', 'cached-unaugmented'] as const
export type TeacherLogitsMode = (typeof TEACHER_LOGITS_MODES)[number]

/** Formats of `tfkd export-model` / the History export action. */
export const MODEL_EXPORT_FORMATS = ['onnx', 'tfjs'] as const
export type ModelExportFormat = (typeof MODEL_EXPORT_FORMATS)[number]

export interface ModelExportResult {
  runId: number
  format: ModelExportFormat
  checkpoint: 'best' | 'last'
  epoch: number
  dir: string
  files: string[]
  /** The check on test images: the exported model reloaded, logits against the app's own. */
  check: { images: number; maxAbsDiff: number; tolerance: number; runtime: string }
  /** With deliver 'download': the files themselves (base64), for the browser to save; `dir` is then ''. */
  downloads?: { name: string; mime: string; base64: string }[]
}

/** Teachers at or below this margin over chance accuracy are flagged. */
export function isNearChance(accuracy: number, chance: number): boolean {
  return accuracy < chance + Math.max(0.05, 0.5 * chance)
}
