/**
 * The native boundary (native/cpu-kernels/src/binding.cc) under bad calls: random bad arguments to
 * every entry must each throw a RangeError/TypeError naming the op and the bad value, never crash
 * the process. The calls run in a child process (native-fuzz-child.ts), so a segfault or an abort is
 * reported here as a failure instead of killing the test runner.
 *
 * CI size: 1,000 calls (well under a second of calls). The full version:
 *   TFKD_NATIVE_FUZZ_CALLS=200000 npx vitest run test/core/native-fuzz.test.ts
 */
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  installNativeKernels,
  loadCpuKernelsAddon,
  NATIVE_DIMS,
  specMismatch,
  type CpuKernelsAddon,
  type NativeSpec,
} from '../../src/core/backend/native-kernels'
import { needsSystemPart } from '../support/system-parts'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '../..')
const BUILD =
  'cd native/cpu-kernels && npx node-gyp rebuild (npm ci builds it where a C++ compiler is installed)'

function tryLoad(): CpuKernelsAddon | string {
  try {
    return loadCpuKernelsAddon()
  } catch (err) {
    return err instanceof Error ? err.message.split('\n')[0]! : String(err)
  }
}
const loaded = tryLoad()
const addon = typeof loaded === 'string' ? null : loaded
// Where no C++ compiler built the addon, skip (say so); under CI=true (.ci/run's npm ci builds it)
// its absence fails instead.
const skip = needsSystemPart({
  name: `the @tfkd/cpu-kernels addon (${typeof loaded === 'string' ? loaded : 'built'})`,
  isPresent: addon !== null,
  install: BUILD,
})
const describeNative = skip ? describe.skip : describe

function runChild(args: string[], prefix: string[] = []) {
  const tsx = createRequire(import.meta.url).resolve('tsx')
  const cmd = [...prefix, process.execPath, '--import', tsx, join(here, 'native-fuzz-child.ts'), ...args]
  const r = spawnSync(cmd[0]!, cmd.slice(1), { cwd: root, encoding: 'utf8', timeout: 300_000 })
  return r
}

describeNative('native kernel boundary', () => {
  it('reads the same dimension names, buffers and params as the TypeScript mirror', () => {
    expect(specMismatch(addon!.spec())).toBeNull()
    const spec = addon!.spec()
    expect(spec.dims.conv!.map((f) => f.name)).toEqual([...NATIVE_DIMS.conv])
    // A drifted spec is named, and installNativeKernels refuses the addon before registering anything.
    const drifted: NativeSpec = JSON.parse(JSON.stringify(spec)) as NativeSpec
    drifted.dims.pool = [...drifted.dims.pool!].reverse()
    expect(specMismatch(drifted)).toMatch(/^dims\.pool: addon has \[padLeft, padTop/)
    const fake = { ...addon!, spec: () => drifted } as CpuKernelsAddon
    expect(() => installNativeKernels(fake, { threads: 1, source: 'test' })).toThrow(/disagrees .*dims\.pool/)
  })

  it('1,000 random bad calls over every entry: each throws a named error, none crashes', () => {
    const calls = Number(process.env.TFKD_NATIVE_FUZZ_CALLS ?? 1000)
    const t0 = performance.now()
    const r = runChild(['20261129', String(calls)])
    const ms = performance.now() - t0
    expect(r.signal, `the child died of ${r.signal}: ${r.stderr.slice(-2000)}`).toBeNull()
    expect(r.status, `the child exited ${r.status}: ${r.stderr.slice(-2000)}`).toBe(0)
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      calls: number
      threw: number
      failures: string[]
      perOp: Record<string, number>
      errorNames: Record<string, number>
      sums: number[]
    }
    expect(out.failures.slice(0, 20)).toEqual([])
    expect(out.threw).toBe(calls)
    // Every entry was called with bad arguments (9 ops and threads).
    expect(Object.keys(out.perOp).sort()).toEqual([...Object.keys(addon!.spec().ops), 'threads'].sort())
    expect(Object.keys(out.errorNames).sort()).toEqual(['RangeError', 'TypeError'])
    // And the addon still computes afterwards.
    expect(out.sums).toEqual([5, 7, 9])
    console.log(
      `native fuzz: ${calls} bad calls, ${out.threw} threw, 0 crashes, ${Math.round(ms)} ms (child included)`,
    )
  })

  it.runIf(process.platform === 'linux')(
    'std::bad_alloc on the pool threads comes back as a RangeError, not an abort',
    () => {
      // A 3 GB address-space limit; conv2d's im2col scratch is 64 tiles' rows of a 4096 x 4096
      // filter: 4 GiB per thread, so the allocation fails on every thread (no memory is touched).
      const script = `
        const a = require('@tfkd/cpu-kernels');
        const floats = 4096 * 4096;
        const heap = new ArrayBuffer(4 * (floats + 1024));
        const dims = { batch: 1, inHeight: 16, inWidth: 16, inChannels: 1, outHeight: 16, outWidth: 16,
          outChannels: 1, filterHeight: 4096, filterWidth: 4096, strideHeight: 1, strideWidth: 1,
          padTop: 0, padLeft: 0, dilationHeight: 1, dilationWidth: 1 };
        a.threads(2);
        try { a.conv2d(heap, { x: 0, filter: 0, bias: null, y: 4 * floats }, dims, { activation: 0 });
              console.log('no error'); }
        catch (e) { console.log(e.name + ' ' + e.code + ' ' + e.message); }`
      const r = spawnSync('bash', ['-c', `ulimit -v 3000000 && exec "${process.execPath}" -e "$0"`, script], {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
      })
      expect(r.signal, r.stderr).toBeNull()
      expect(r.status, r.stderr).toBe(0)
      expect(r.stdout).toMatch(
        /^RangeError ERR_TFKD_NATIVE_OUT_OF_MEMORY tfkd-cpu-kernels conv2d: out of memory/,
      )
    },
  )
})
