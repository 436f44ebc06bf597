/**
 * The cluster channels of the app contract. A host can submit to Slurm when sbatch is on its PATH
 * and it knows a tfkd install (Node + bin/tfkd.js) for the array tasks to run: the CLI and the web
 * host (`tfkd serve` on a login node) do; the desktop app's Electron binary is not such an install.
 */
import type { Handlers } from '../../shared/contract'
import { AppError } from '../../shared/errors'
import type { ClusterRepo } from '../store/cluster-repo'
import type { ClusterService } from './cluster-service'
import type { SlurmClient } from './slurm-client'

type ClusterChannels =
  | 'cluster:available'
  | 'cluster:submit'
  | 'cluster:jobs'
  | 'cluster:status'
  | 'cluster:sync'
  | 'cluster:retry'
  | 'cluster:cancel'

export function createClusterHandlers(deps: {
  service: ClusterService
  repo: ClusterRepo
  slurm: SlurmClient
  /** Null where this host has no tfkd install for the nodes to run. */
  installMissing: string | null
}): Pick<Handlers, ClusterChannels> {
  const { service, repo } = deps
  const experimentOf = (uuid: string) => repo.jobs.get(uuid)?.experimentId ?? null
  return {
    'cluster:available': async () => {
      if (deps.installMissing) return { available: false, reason: deps.installMissing }
      const ok = await deps.slurm.available()
      return ok
        ? { available: true, reason: null }
        : {
            available: false,
            reason: "sbatch is not on this host's PATH (run the app on a cluster login node)",
          }
    },
    'cluster:submit': async ({ plan, workdir, options, dryRun }) => {
      if (!dryRun && deps.installMissing) {
        throw new AppError('backend_unavailable', deps.installMissing)
      }
      return service.submit({ plan, workdir, options, dryRun })
    },
    'cluster:jobs': () => repo.jobs.list(),
    'cluster:status': async ({ job }) => {
      const s = await service.status(job)
      return { ...s, experimentId: experimentOf(s.uuid) }
    },
    'cluster:sync': async ({ job }) => {
      const { status: _status, ...r } = await service.sync(job)
      void _status
      return r
    },
    'cluster:retry': ({ job }) => service.retry(job),
    'cluster:cancel': ({ job }) => service.cancel(job),
  }
}
