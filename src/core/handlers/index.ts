/** Every invoke channel's handler, by domain; `Handlers` makes a missing channel a compile error. */
import type { Handlers } from '../../shared/contract'
import { createAppHandlers } from './app'
import { createClusterHandlers } from './cluster'
import type { HandlerContext } from './context'
import { createDatasetHandlers } from './datasets'
import { createExperimentHandlers } from './experiments'
import { createRunHandlers } from './runs'
import { createExportHandlers } from './exports'
import { createTeacherHandlers } from './teachers'
import { createDoctorHandlers } from './doctor'
import { createReportHandlers } from './report'

export type { HandlerContext } from './context'
export { createDispatch } from './dispatch'

export function createHandlers(ctx: HandlerContext, hostHandlers: Partial<Handlers> = {}): Handlers {
  return {
    ...createAppHandlers(ctx),
    ...createRunHandlers(ctx),
    ...createDatasetHandlers(ctx),
    ...createExperimentHandlers(ctx),
    ...createTeacherHandlers(ctx),
    ...createExportHandlers(ctx),
    ...createClusterHandlers(ctx),
    ...createDoctorHandlers(ctx),
    ...createReportHandlers(ctx),
    ...hostHandlers,
  }
}
