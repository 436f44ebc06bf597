/**
 * Core-side view of the variant registry: the TF-free definitions (src/shared/variants.ts, importable by
 * every host) together with the TF.js loss builder, so trainer code has one import for both.
 */
export {
  KL_REDUCTIONS,
  STUDENT_TEMPERATURES,
  TEACHER_KINDS,
  VARIANTS,
  VARIANT_PARAMS,
  isVariantId,
  needsTeacher,
  resolveVariantParams,
  type KlReduction,
  type StudentTemperature,
  type TeacherKind,
  type VariantDef,
  type VariantParams,
  type VariantParamsInput,
} from '../../shared/variants'
export { makeLoss, type DistillLoss, type LossInputs } from './losses'
