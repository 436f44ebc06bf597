/**
 * Child process of native-fuzz.test.ts: calls every entry of @tfkd/cpu-kernels with random bad
 * arguments (bad offsets, lengths past the heap, negative, zero and huge dimensions, wrong types, a
 * detached heap) and prints one JSON line: how many calls threw as expected, and every call that
 * did not throw or threw the wrong error. It runs in its own process so that a crash (a segfault
 * or an abort from an escaped C++ exception) is seen by the test as a failure, not as a dead vitest.
 *
 * usage: node --import tsx native-fuzz-child.ts <seed> <calls>
 */
import {
  loadCpuKernelsAddon,
  NATIVE_DIMS,
  NATIVE_OPS,
  type CpuKernelsAddon,
  type NativeOp,
  type NativeSpec,
} from '../../src/core/backend/native-kernels'
import { createRng } from '../../src/core/random'

type Dict = Record<string, unknown>
interface CallArgs {
  heap: unknown
  buffers: unknown
  dims: unknown
  params: unknown
  argc: number
}
interface Corruption {
  what: string
  /** Substrings the error message must contain (besides the op's name). */
  mention: string[]
  apply(a: CallArgs): void
}

const [seed = 1, calls = 1000] = process.argv.slice(2).map(Number)
/** 1 KB: every huge dimension below must overrun it. */
const heapBytes = 1024
const rng = createRng(seed)
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!
const int = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1))

const MAX = 2 ** 31 - 1
/** Dimensions that size some buffer of the op (so a large value must overrun the heap). */
const EXTENTS: Record<string, string[]> = {
  conv: [
    'batch',
    'inHeight',
    'inWidth',
    'inChannels',
    'outHeight',
    'outWidth',
    'outChannels',
    'filterHeight',
    'filterWidth',
  ],
  pool: ['batch', 'inHeight', 'inWidth', 'channels', 'outHeight', 'outWidth'],
  depthwise: [
    'batch',
    'inHeight',
    'inWidth',
    'inChannels',
    'channelMultiplier',
    'outHeight',
    'outWidth',
    'filterHeight',
    'filterWidth',
  ],
  rows: ['rows', 'channels'],
}
/** The addon's own spec (its minimum per dimension: 0 for extents, 1 for strides and the like). */
let spec: NativeSpec

/** A valid call: every extent 1, so every buffer is one float, at random aligned offsets. */
function validCall(op: NativeOp): CallArgs {
  const opSpec = NATIVE_OPS[op]
  const dims: Dict = {}
  for (const name of NATIVE_DIMS[opSpec.dims]) dims[name] = name.startsWith('pad') ? 0 : 1
  const buffers: Dict = {}
  for (const name of opSpec.buffers) buffers[name] = 4 * int(0, heapBytes / 4 - 1)
  const params: Dict = {}
  for (const name of opSpec.params)
    params[name] = name === 'activation' ? int(0, 2) : name === 'epsilon' ? 1e-3 : 1
  return { heap: new ArrayBuffer(heapBytes), buffers, dims, params, argc: 4 }
}

/** Bad dimensions: huge, past 2^31 - 1, negative, zero where at least 1 is needed, not integers. */
function dimCorruptions(op: NativeOp): Corruption[] {
  const opSpec = NATIVE_OPS[op]
  const dimNames: readonly string[] = NATIVE_DIMS[opSpec.dims]
  const extents = EXTENTS[opSpec.dims]!
  const dim = (name: string, v: unknown) => (a: CallArgs) => void ((a.dims as Dict)[name] = v)
  const out: Corruption[] = []
  // Huge: one extent, or all of them (maxPoolGrad with 65536 everywhere on a 1 KB heap wrapped
  // the old 64-bit product to 0), or any dimension past 2^31 - 1.
  const huge = pick([257, 4097, 65536, MAX, 2 ** 40])
  const e = pick(extents)
  out.push({ what: `dims.${e} = ${huge}`, mention: [String(huge)], apply: dim(e, huge) })
  out.push({
    what: `every extent = ${huge}`,
    mention: [String(huge)],
    apply: (a) => extents.forEach((n) => ((a.dims as Dict)[n] = huge)),
  })
  const any = pick(dimNames)
  const past = pick([MAX + 1, 2 ** 53, 2 ** 62, 1e300])
  out.push({ what: `dims.${any} = ${past}`, mention: [`dims.${any}`], apply: dim(any, past) })
  const neg = pick([-1, -4, -65536, -MAX - 1, -(2 ** 53)])
  out.push({ what: `dims.${any} = ${neg}`, mention: [`dims.${any}`, String(neg)], apply: dim(any, neg) })
  const positive = spec.dims[opSpec.dims]!.filter((f) => f.min >= 1).map((f) => f.name)
  if (positive.length) {
    const z = pick(positive)
    out.push({ what: `dims.${z} = 0`, mention: [`dims.${z}`], apply: dim(z, 0) })
  }
  const odd = pick([1.5, NaN, Infinity, -Infinity, '3', null, true, {}])
  out.push({ what: `dims.${any} = ${String(odd)}`, mention: [`dims.${any}`], apply: dim(any, odd) })
  out.push({
    what: `dims.${any} missing`,
    mention: [`dims.${any}`],
    apply: (a) => delete (a.dims as Dict)[any],
  })
  out.push({ what: 'unknown dims key', mention: ['bogus'], apply: dim('bogus', 1) })
  // Geometry: (out - 1) * stride past 2^31 - 1 (the kernels index with int).
  if (dimNames.includes('strideHeight')) {
    out.push({
      what: 'window reach past 2^31',
      mention: ['1073741824'],
      apply: (a) => Object.assign(a.dims as Dict, { outHeight: 3, strideHeight: 2 ** 30 }),
    })
  }
  return out
}

/** Bad buffer offsets: negative, unaligned, at or past the end, huge, absent, not a number. */
function bufferCorruptions(op: NativeOp): Corruption[] {
  const out: Corruption[] = []
  const b = pick(NATIVE_OPS[op].buffers)
  const off = pick([
    -4,
    -1,
    2,
    3,
    heapBytes,
    heapBytes + 4,
    heapBytes - 2,
    2 ** 32,
    2 ** 53,
    2 ** 60,
    1.5,
    NaN,
    Infinity,
  ])
  out.push({
    what: `buffers.${b} = ${off}`,
    mention: [`buffers.${b}`],
    apply: (a) => void ((a.buffers as Dict)[b] = off),
  })
  const notNumber = pick(['0', true, {}, [0]])
  const optional = (op === 'conv2d' && b === 'bias') || (op === 'batchNormTrainGrad' && b === 'y')
  if (!optional) {
    out.push({
      what: `buffers.${b} = null`,
      mention: [`buffers.${b}`],
      apply: (a) => void ((a.buffers as Dict)[b] = null),
    })
  }
  out.push({
    what: `buffers.${b} = ${JSON.stringify(notNumber)}`,
    mention: [`buffers.${b}`],
    apply: (a) => void ((a.buffers as Dict)[b] = notNumber),
  })
  out.push({ what: 'unknown buffer', mention: ['extra'], apply: (a) => void ((a.buffers as Dict).extra = 0) })
  out.push({
    what: 'buffers not an object',
    mention: ['buffers'],
    apply: (a) => void (a.buffers = pick([null, 7, 'x'])),
  })
  return out
}

/** A bad heap (not an ArrayBuffer, detached), too few arguments, bad parameters. */
function argCorruptions(op: NativeOp): Corruption[] {
  const opSpec = NATIVE_OPS[op]
  const out: Corruption[] = []
  const heap = pick([null, {}, new Float32Array(4), new SharedArrayBuffer(heapBytes), 'heap'])
  out.push({ what: 'heap not an ArrayBuffer', mention: ['heap'], apply: (a) => void (a.heap = heap) })
  out.push({
    what: 'detached heap',
    mention: ['past the heap (0 bytes)'],
    apply: (a) => void structuredClone(a.heap, { transfer: [a.heap as ArrayBuffer] }),
  })
  out.push({
    what: 'too few arguments',
    mention: ['expected'],
    apply: (a) => void (a.argc = opSpec.params.length ? 3 : 2),
  })
  // Parameters.
  for (const p of opSpec.params as readonly string[]) {
    const bad =
      p === 'activation' ? pick([3, -1, 0.5, NaN, '1']) : pick([NaN, Infinity, -Infinity, 1e39, '1'])
    if (p === 'epsilon' && rng() < 0.3) {
      out.push({
        what: 'params.epsilon = -1',
        mention: ['params.epsilon'],
        apply: (a) => void ((a.params as Dict).epsilon = -1),
      })
    }
    out.push({
      what: `params.${p} = ${String(bad)}`,
      mention: [`params.${p}`],
      apply: (a) => void ((a.params as Dict)[p] = bad),
    })
  }
  if (op === 'batchNormTrainGrad') {
    out.push({
      what: 'relu without y',
      mention: ['buffers.y'],
      apply: (a) =>
        Object.assign(a, {
          buffers: { ...(a.buffers as Dict), y: null },
          params: { epsilon: 1e-3, activation: 1 },
        }),
    })
  }
  return out
}

function corruptions(op: NativeOp): Corruption[] {
  return [...dimCorruptions(op), ...bufferCorruptions(op), ...argCorruptions(op)]
}

function invoke(addon: CpuKernelsAddon, op: NativeOp, a: CallArgs): void {
  const f = addon[op] as unknown as (...args: unknown[]) => void
  f(...[a.heap, a.buffers, a.dims, a.params].slice(0, a.argc))
}

function main(): void {
  let addon: CpuKernelsAddon
  try {
    addon = loadCpuKernelsAddon()
  } catch (err) {
    console.log(JSON.stringify({ skipped: err instanceof Error ? err.message.split('\n')[0] : String(err) }))
    return
  }
  spec = addon.spec()
  const ops = Object.keys(NATIVE_OPS) as NativeOp[]
  // The generator's valid calls really are valid: every failure below is the corruption's doing.
  for (const op of ops) invoke(addon, op, validCall(op))

  const failures: string[] = []
  const perOp: Record<string, number> = {}
  const errorNames: Record<string, number> = {}
  let threw = 0
  for (let i = 0; i < calls; i++) {
    const op = ops[i % (ops.length + 1)]
    if (!op) {
      // threads(n) with a bad n; threads() itself (no argument) only reports.
      const n = pick([0, -1, 1025, 2 ** 40, 1.5, NaN, Infinity, '2', null])
      try {
        ;(addon.threads as (n: unknown) => number)(n)
        failures.push(`threads(${String(n)}) did not throw`)
      } catch (err) {
        threw++
        perOp.threads = (perOp.threads ?? 0) + 1
        const e = err as Error
        errorNames[e.name] = (errorNames[e.name] ?? 0) + 1
        if (!/tfkd-cpu-kernels threads: /.test(e.message))
          failures.push(`threads(${String(n)}): ${e.message}`)
      }
      continue
    }
    const c = pick(corruptions(op))
    const args = validCall(op)
    c.apply(args)
    perOp[op] = (perOp[op] ?? 0) + 1
    try {
      invoke(addon, op, args)
      failures.push(`${op} with ${c.what} did not throw`)
    } catch (err) {
      threw++
      const e = err as Error
      errorNames[e.name] = (errorNames[e.name] ?? 0) + 1
      const ok =
        (e instanceof RangeError || e instanceof TypeError) &&
        e.message.includes(`tfkd-cpu-kernels ${op}: `) &&
        c.mention.every((m) => e.message.includes(m))
      if (!ok) failures.push(`${op} with ${c.what}: ${e.name}: ${e.message}`)
    }
  }
  // Still alive and still computing: sum two rows of three.
  const heap = new ArrayBuffer(64)
  new Float32Array(heap).set([1, 2, 3, 4, 5, 6])
  addon.reduceRows(heap, { x: 0, y: 32 }, { rows: 2, channels: 3 }, { scale: 1 })
  const sums = Array.from(new Float32Array(heap, 32, 3))
  console.log(JSON.stringify({ calls, threw, failures, perOp, errorNames, sums }))
}

main()
