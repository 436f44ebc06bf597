/**
 * docs/extending.md's backend rung recipe followed once by a test: test-only rungs (a registry entry
 * with its own `explain`, and a loader) join the real ladder through `loadBackendIn`, the path
 * `loadBackend` takes with the registered rungs. The ladder tries them in order, words a failure
 * with the rung's own explanation, falls through to the next rung and selects the first that loads.
 * (Its own file: a rung that loads switches the process's TF.js backend.)
 */
import { describe, expect, it } from 'vitest'
import { LADDER, loadBackendIn, type LadderRung } from '../../src/core/backend/ladder'
import { RUNG_LOADERS, type RungLoader } from '../../src/core/backend/rungs'
import { rungInfo } from '../../src/shared/backends'

/** A rung whose loader fails the way its `explain` knows (or, with `raw`, a way it does not). */
const broken = (raw = false): LadderRung<string> => ({
  info: {
    id: 'test-broken',
    label: 'test-only broken rung',
    package: '',
    isNative: true,
    isGpu: false,
    needs: 'a /dev/test0 device',
    nextStep: 'plug in a test device',
    explain: (m) => (/no such device/.test(m) ? 'no test device here: plug one in' : null),
  },
  load: () =>
    Promise.reject(new Error(raw ? 'something else went wrong\nstack line' : 'no such device: /dev/test0')),
})

const cpuLoader: RungLoader = RUNG_LOADERS.cpu

/** The plain-JS CPU rung under a new id: its registry entry copied, its real loader. */
const testCpu = (warning?: string): LadderRung<string> => ({
  info: { ...rungInfo('cpu'), id: 'test-cpu', label: 'test-only CPU rung' },
  load: (ctx) => {
    if (warning) ctx.warn(warning)
    return cpuLoader(ctx)
  },
})

const realIds = LADDER.map((r) => r.info.id)

describe('test-only rungs through the backend ladder', () => {
  it('tries them in order, explains the failure in the rung’s own words, and selects the first that loads', async () => {
    const warnings: [string, string][] = []
    const report = await loadBackendIn([broken(), testCpu('test warning'), ...LADDER], {
      onWarning: (id, m) => void warnings.push([id, m]),
    })
    expect(report.chosen).toBe('test-cpu')
    expect(report.device).toBe('CPU (pure JavaScript)')
    expect(report.isGpu).toBe(false)
    expect(report.rungs.map((r) => r.id)).toEqual(['test-broken', 'test-cpu', ...realIds])
    expect(report.rungs[0]).toMatchObject({ ok: false, reason: 'no test device here: plug one in' })
    expect(report.rungs[1]).toMatchObject({ ok: true, warning: 'test warning' })
    for (const r of report.rungs.slice(2)) {
      expect(r).toMatchObject({ ok: false, reason: 'not tried: test-cpu loaded first', loadMs: 0 })
    }
    expect(warnings).toEqual([['test-cpu', 'test warning']])
  })

  it('shows the first line of an error its explanation does not know, and falls through to the real rungs', async () => {
    const report = await loadBackendIn([broken(true), ...LADDER], { pin: 'auto', disableNative: false })
    expect(report.rungs[0]).toMatchObject({
      id: 'test-broken',
      ok: false,
      reason: 'something else went wrong',
    })
    // The real ladder below it answers as `loadBackend` would: some real rung was chosen.
    expect(realIds).toContain(report.chosen)
    expect(report.rungs.map((r) => r.id)).toEqual(['test-broken', ...realIds])
  })

  it('skips a native test rung after a native crash, and refuses everything else when one is pinned', async () => {
    const skipped = await loadBackendIn([broken(), testCpu()], { disableNative: true })
    expect(skipped.rungs[0]).toMatchObject({
      id: 'test-broken',
      ok: false,
      reason: 'skipped: a native backend crashed this process earlier',
    })
    expect(skipped.chosen).toBe('test-cpu')

    await expect(loadBackendIn([broken(), testCpu(), ...LADDER], { pin: 'test-broken' })).rejects.toThrow(
      /^no TF\.js backend could be loaded \(test-broken: no test device here: plug one in; test-cpu: skipped: backend pinned to test-broken; tensorflow-gpu: skipped/,
    )
  })
})
