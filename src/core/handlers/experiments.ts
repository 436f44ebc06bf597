/** `experiments:*` and `compare:get`: plans of many runs and their comparison. */
import type { Handlers } from '../../shared/contract'
import type { DomainHandlers, HandlerContext } from './context'

export function createExperimentHandlers({
  plans,
}: HandlerContext): DomainHandlers<'experiments'> & Pick<Handlers, 'compare:get'> {
  return {
    'experiments:start': (plan) => plans.startParsed(plan),
    'experiments:list': () => plans.list(),
    'experiments:get': ({ experimentId }) => plans.get(experimentId),
    'experiments:cancel': ({ experimentId }) => plans.cancel(experimentId),
    'experiments:resume': ({ experimentId }) => plans.resume(experimentId),
    'experiments:plan': ({ experimentId }) => plans.planFile(experimentId),
    'compare:get': (opts) => plans.compare(opts),
  }
}
