/** What every group of handlers is built from; the composition root (app/app-core.ts) makes one. */
import type { Handlers, InvokeChannel, PushChannel, Pushes } from '../../shared/contract'
import type { AppInfo } from '../../shared/types'
import type { DataPaths } from '../paths'
import type { PlanService } from '../services/plan-service'
import type { RunService } from '../services/run-service'
import type { ExportService } from '../services/export-service'
import type { TeacherService } from '../services/teacher-service'
import type { DoctorService } from '../services/doctor-service'
import type { Store } from '../store/store'
import type { ClusterHandlerDeps } from './cluster'

export interface HandlerContext {
  store: Store
  paths: DataPaths
  runs: RunService
  plans: PlanService
  /** Imported ONNX teachers. */
  teachers: TeacherService
  /** Students exported as ONNX / TF.js. */
  modelExport: ExportService
  doctor: DoctorService
  emit<K extends PushChannel>(channel: K, payload: Pushes[K]): void
  app: { version: string; dataHome: string; host: AppInfo['host'] }
  /** Slurm cluster jobs; absent where a host does not offer them. */
  cluster?: ClusterHandlerDeps
}

/** The handlers of the channels named `<domain>:...`; a missing or extra one is a compile error. */
export type DomainHandlers<D extends string> = Pick<Handlers, Extract<InvokeChannel, `${D}:${string}`>>
