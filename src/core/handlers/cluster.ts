/**
 * `cluster:*`: a plan on Slurm as job arrays, its status, sync, retry and cancel. A host can submit
 * when sbatch is on its PATH and it knows a tfkd install (Node + bin/tfkd.js) for the array tasks
 * to run: the CLI and the web host (`tfkd serve` on a login node) do; the desktop app's Electron
 * binary is not such an install.
 *
 * Security: a submit runs the user's own shell lines (`setup`) and sbatch options on the cluster
 * under the user's account, by design. Only a caller the host already trusts reaches this: the
 * desktop UI, or the web host behind its per-launch token (loopback unless --allow-remote).
 */
import { AppError } from '../../shared/errors'
import type { ClusterService } from '../cluster/cluster-service'
import type { SlurmClient } from '../cluster/slurm-client'
import type { ClusterRepo } from '../store/repos/cluster'
import type { DomainHandlers, HandlerContext } from './context'

export interface ClusterHandlerDeps {
  service: ClusterService
  repo: ClusterRepo
  slurm: SlurmClient
  /** Why this host cannot submit (no tfkd install for the nodes); null when it can. */
  installMissing: string | null
}

const NOT_OFFERED = 'this host does not offer Slurm cluster jobs'

export function createClusterHandlers({ cluster }: HandlerContext): DomainHandlers<'cluster'> {
  const need = (): ClusterHandlerDeps => {
    if (!cluster) throw new AppError('backend_unavailable', NOT_OFFERED)
    return cluster
  }
  return {
    'cluster:available': async () => {
      if (!cluster) return { available: false, reason: NOT_OFFERED }
      if (cluster.installMissing) return { available: false, reason: cluster.installMissing }
      return (await cluster.slurm.available())
        ? { available: true, reason: null }
        : {
            available: false,
            reason: "sbatch is not on this host's PATH (run the app on a cluster login node)",
          }
    },
    'cluster:submit': async ({ plan, workdir, options, dryRun }) => {
      const c = need()
      if (!dryRun && c.installMissing) throw new AppError('backend_unavailable', c.installMissing)
      return c.service.submit({ plan, workdir, options, dryRun })
    },
    'cluster:jobs': () => (cluster ? cluster.repo.jobs.list() : []),
    'cluster:status': async ({ job }) => {
      const c = need()
      const s = await c.service.status(job)
      return { ...s, experimentId: c.repo.jobs.get(s.uuid)?.experimentId ?? null }
    },
    'cluster:sync': async ({ job }) => {
      const { experimentId, added, updated, unchanged, notFinished } = await need().service.sync(job)
      return { experimentId, added, updated, unchanged, notFinished }
    },
    'cluster:retry': ({ job }) => need().service.retry(job),
    'cluster:cancel': ({ job }) => need().service.cancel(job),
  }
}
