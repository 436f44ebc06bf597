/** The doctor's channels: the report (`tfkd doctor`) and the CUDA library folders set in Settings. */
import type { Handlers } from '../../shared/contract'
import type { HandlerContext } from './context'

export function createDoctorHandlers({
  doctor,
}: HandlerContext): Pick<Handlers, 'diagnostics:doctor' | 'diagnostics:cudaFolders'> {
  return {
    'diagnostics:doctor': async ({ refresh, probe }) => {
      const last = doctor.last()
      if (last && !refresh) return last
      return await doctor.run({ probe: probe ?? true })
    },
    'diagnostics:cudaFolders': ({ dirs }) => ({
      dirs: dirs === undefined ? doctor.cudaFolders() : doctor.setCudaFolders(dirs),
    }),
  }
}
