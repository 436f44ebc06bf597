/** `reproduce:start` and `report:*`: the reproduction study of the paper's claims and its report. */
import type { Handlers } from '../../shared/contract'
import { reproducePlan } from '../../shared/reproduce'
import { renderReport } from '../report/render'
import { buildReport } from '../report/report'
import { plannedSpread } from '../report/pilot'
import { studyPower } from '../../shared/study-power'
import type { DomainHandlers, HandlerContext } from './context'

export function createReportHandlers({
  store,
  plans,
  app,
}: HandlerContext): DomainHandlers<'report'> & Pick<Handlers, 'reproduce:start' | 'reproduce:power'> {
  const build = (experimentId: number, marginPp: number | undefined) =>
    // No margin given: the one the plan stored before the study ran.
    buildReport(store, experimentId, {
      appVersion: app.version,
      ...(marginPp !== undefined ? { margin: marginPp / 100 } : {}),
    })
  return {
    'reproduce:start': (req) => plans.start(reproducePlan(req)),
    'reproduce:power': ({ dataset, scale, seeds }) =>
      studyPower(seeds, plannedSpread(store, plans.prepare(reproducePlan({ dataset, scale })).ds.id, scale)),
    'report:get': ({ experimentId, marginPp }) => build(experimentId, marginPp),
    'report:render': ({ experimentId, format, marginPp }) => ({
      fileName: `tfkd-report-${experimentId}.${format === 'latex' ? 'tex' : format}`,
      content: renderReport(build(experimentId, marginPp), format),
    }),
  }
}
