/**
 * The CUDA 11 / cuDNN 8 libraries libtensorflow 2.9.1 (tfjs-node-gpu 4.22) loads, and where on this
 * machine each one is: a folder from Settings or TFKD_CUDA_LIBS, the app's own pip folder,
 * LD_LIBRARY_PATH (PATH on Windows), CUDA_PATH, conda environments, the `nvidia/<pkg>/lib` folders of
 * pip wheels of every Python on PATH, and the system (ldconfig -p, the usual CUDA folders).
 * Only file-system checks and short child processes with timeouts: nothing is loaded here.
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import type { LibraryFinding, LibraryPlace, ProbeRecord } from '../../shared/doctor'
import { describeOutcome, execProbe } from './exec'

interface RequiredLibrary {
  linux: string
  windows: string
  role: string
  pipPackage: string
}

/**
 * The pip wheels of the CUDA 11.8 runtime set (the one PyTorch's cu118 builds pin) and cuDNN 8.7 for
 * CUDA 11. libtensorflow 2.9 was built for CUDA 11.2 / cuDNN 8.1; any 11.x runtime and a cuDNN 8
 * whose minor is >= 1 load.
 */
export const PIP_PINS: Record<string, string> = {
  'nvidia-cuda-runtime-cu11': '11.8.89',
  'nvidia-cublas-cu11': '11.11.3.6',
  'nvidia-cufft-cu11': '10.9.0.58',
  'nvidia-curand-cu11': '10.3.0.86',
  'nvidia-cusolver-cu11': '11.4.1.48',
  'nvidia-cusparse-cu11': '11.7.5.86',
  'nvidia-cudnn-cu11': '8.7.0.84',
}

const cudnnPart = (part: string): RequiredLibrary => ({
  linux: `libcudnn_${part}.so.8`,
  windows: `cudnn_${part}64_8.dll`,
  role: `cuDNN (${part.replace('_', ' ')})`,
  pipPackage: 'nvidia-cudnn-cu11',
})

/** What TF 2.9's dso_loader asks for (Linux sonames, Windows DLL names). */
export const REQUIRED_LIBRARIES: readonly RequiredLibrary[] = [
  {
    linux: 'libcudart.so.11.0',
    windows: 'cudart64_110.dll',
    role: 'CUDA runtime',
    pipPackage: 'nvidia-cuda-runtime-cu11',
  },
  { linux: 'libcublas.so.11', windows: 'cublas64_11.dll', role: 'cuBLAS', pipPackage: 'nvidia-cublas-cu11' },
  {
    linux: 'libcublasLt.so.11',
    windows: 'cublasLt64_11.dll',
    role: 'cuBLASLt',
    pipPackage: 'nvidia-cublas-cu11',
  },
  { linux: 'libcufft.so.10', windows: 'cufft64_10.dll', role: 'cuFFT', pipPackage: 'nvidia-cufft-cu11' },
  { linux: 'libcurand.so.10', windows: 'curand64_10.dll', role: 'cuRAND', pipPackage: 'nvidia-curand-cu11' },
  {
    linux: 'libcusolver.so.11',
    windows: 'cusolver64_11.dll',
    role: 'cuSOLVER',
    pipPackage: 'nvidia-cusolver-cu11',
  },
  {
    linux: 'libcusparse.so.11',
    windows: 'cusparse64_11.dll',
    role: 'cuSPARSE',
    pipPackage: 'nvidia-cusparse-cu11',
  },
  { linux: 'libcudnn.so.8', windows: 'cudnn64_8.dll', role: 'cuDNN', pipPackage: 'nvidia-cudnn-cu11' },
  ...['ops_infer', 'ops_train', 'cnn_infer', 'cnn_train', 'adv_infer', 'adv_train'].map(cudnnPart),
]

export interface LibrarySearchOptions {
  env: NodeJS.ProcessEnv
  platform?: NodeJS.Platform
  /** Folders set in Settings (searched first, with TFKD_CUDA_LIBS). */
  settingsDirs?: string[]
  /** The app's own folder for `pip install --target` (searched second). */
  appLibraryDir: string
  timeoutMs: number
  /** System folders to look in besides ldconfig's cache (tests pass their own). */
  systemDirs?: string[]
  /** The ldconfig to ask (tests pass a fake; null skips it). */
  ldconfig?: string | null
  /** Home folder for conda's default install places (tests pass a temp dir). */
  home?: string
}

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory()
  } catch {
    return false
  }
}

const subdirs = (p: string): string[] => {
  try {
    return readdirSync(p, { withFileTypes: true })
      .filter((d) => d.isDirectory() || d.isSymbolicLink())
      .map((d) => join(p, d.name))
      .sort()
  } catch {
    return []
  }
}

/** A pip `--target` or site-packages folder's `nvidia/<pkg>/lib` (Windows wheels: `bin`) folders. */
function pipLibDirs(root: string, win: boolean): string[] {
  return subdirs(join(root, 'nvidia')).map((d) => join(d, win ? 'bin' : 'lib'))
}

/** A folder someone named: itself, its lib/lib64/bin, and a pip --target layout inside it. */
function expandNamed(dir: string, win: boolean): string[] {
  return [
    dir,
    join(dir, 'lib64'),
    join(dir, 'lib'),
    ...(win ? [join(dir, 'bin')] : []),
    ...pipLibDirs(dir, win),
  ]
}

const splitList = (v: string | undefined): string[] => (v ?? '').split(delimiter).filter(Boolean)

const PY_SITES =
  'import json,site,sys\ns=[]\ntry:\n s+=site.getsitepackages()\nexcept Exception:\n pass\ntry:\n s.append(site.getusersitepackages())\nexcept Exception:\n pass\ns+=[p for p in sys.path if p.endswith("site-packages")]\nprint(json.dumps({"exe":sys.executable,"sites":s}))'

async function pythonPlaces(
  opts: LibrarySearchOptions,
  win: boolean,
  probes: ProbeRecord[],
): Promise<{ places: LibraryPlace[]; python: string | null }> {
  const places: LibraryPlace[] = []
  const seen = new Set<string>()
  let python: string | null = null
  for (const cmd of win ? ['python', 'py'] : ['python3', 'python']) {
    const o = await execProbe(cmd, ['-c', PY_SITES], { timeoutMs: opts.timeoutMs, env: opts.env })
    probes.push({
      name: `${cmd} site-packages`,
      outcome: o.kind,
      ms: o.ms,
      detail: describeOutcome(cmd, o, opts.timeoutMs),
    })
    if (o.kind !== 'ok') continue
    let parsed: { exe?: string; sites?: unknown }
    try {
      parsed = JSON.parse(o.stdout.trim().split('\n').pop() ?? '{}') as { exe?: string; sites?: unknown }
    } catch {
      continue
    }
    const exe = parsed.exe ?? cmd
    python ??= cmd
    if (seen.has(exe)) continue
    seen.add(exe)
    const sites = Array.isArray(parsed.sites)
      ? parsed.sites.filter((s): s is string => typeof s === 'string')
      : []
    for (const site of [...new Set(sites)]) {
      for (const dir of pipLibDirs(site, win))
        places.push({ kind: 'pip', dir, via: `${cmd} (${exe}) ${site}` })
    }
  }
  return { places, python }
}

function condaPlaces(env: NodeJS.ProcessEnv, home: string, win: boolean): LibraryPlace[] {
  const lib = (prefix: string) => (win ? join(prefix, 'Library', 'bin') : join(prefix, 'lib'))
  const places: LibraryPlace[] = []
  if (env.CONDA_PREFIX)
    places.push({ kind: 'conda', dir: lib(env.CONDA_PREFIX), via: 'CONDA_PREFIX (active env)' })
  const roots = [
    ...(env.CONDA_EXE ? [dirname(dirname(env.CONDA_EXE))] : []),
    ...['miniconda3', 'anaconda3', 'miniforge3', 'mambaforge'].map((d) => join(home, d)),
  ]
  for (const root of [...new Set(roots)].filter(isDir)) {
    places.push({ kind: 'conda', dir: lib(root), via: `conda base ${root}` })
    for (const e of subdirs(join(root, 'envs')))
      places.push({ kind: 'conda', dir: lib(e), via: `conda env ${e}` })
  }
  return places
}

async function systemPlaces(
  opts: LibrarySearchOptions,
  probes: ProbeRecord[],
): Promise<{ places: LibraryPlace[]; cache: Map<string, string> }> {
  const cache = new Map<string, string>()
  const ldconfig =
    opts.ldconfig === undefined
      ? existsSync('/sbin/ldconfig')
        ? '/sbin/ldconfig'
        : 'ldconfig'
      : opts.ldconfig
  if (ldconfig) {
    const o = await execProbe(ldconfig, ['-p'], { timeoutMs: opts.timeoutMs, env: opts.env })
    probes.push({
      name: 'ldconfig -p',
      outcome: o.kind,
      ms: o.ms,
      detail: describeOutcome('ldconfig -p', o, opts.timeoutMs),
    })
    if (o.kind === 'ok') {
      for (const m of o.stdout.matchAll(/^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)\s*$/gm)) {
        // Only 64-bit entries: a 32-bit libcudart would not load into libtensorflow.
        if (!cache.has(m[1]!) && (/64/.test(m[2]!) || !/i386|x32/.test(m[2]!))) cache.set(m[1]!, m[3]!)
      }
    }
  }
  const fixed = opts.systemDirs ?? [
    '/usr/local/cuda/lib64',
    ...subdirs('/usr/local')
      .filter((d) => /\/cuda-11[.\d]*$/.test(d))
      .map((d) => join(d, 'lib64')),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib64',
    '/usr/lib/wsl/lib',
  ]
  return { places: fixed.map((dir) => ({ kind: 'system' as const, dir, via: 'usual CUDA folder' })), cache }
}

export interface LibrarySearchResult {
  libraries: LibraryFinding[]
  searched: LibraryPlace[]
  /** Folders to prepend to the trainer's library path, most preferred first. */
  libraryDirs: string[]
  installCommand: string | null
  probes: ProbeRecord[]
}

export async function findCudaLibraries(opts: LibrarySearchOptions): Promise<LibrarySearchResult> {
  const platform = opts.platform ?? process.platform
  const win = platform === 'win32'
  const env = opts.env
  const probes: ProbeRecord[] = []
  const named = (dirs: string[], kind: LibraryPlace['kind'], via: string): LibraryPlace[] =>
    dirs.flatMap((d) => expandNamed(d, win).map((dir) => ({ kind, dir, via })))
  const cudaRoots = Object.entries(env)
    .filter(([k, v]) => v && (k === 'CUDA_PATH' || k === 'CUDA_HOME' || /^CUDA_PATH_V11/.test(k)))
    .map(([k, v]) => [k, v!] as const)
  const py = await pythonPlaces(opts, win, probes)
  const sys = win ? { places: [], cache: new Map<string, string>() } : await systemPlaces(opts, probes)
  const searched: LibraryPlace[] = [
    ...named(opts.settingsDirs ?? [], 'settings', 'Settings'),
    ...named(splitList(env.TFKD_CUDA_LIBS), 'settings', 'TFKD_CUDA_LIBS'),
    ...named([opts.appLibraryDir], 'app-folder', "the app's CUDA folder"),
    ...(win
      ? splitList(env.PATH ?? env.Path).map((dir) => ({ kind: 'PATH' as const, dir, via: 'PATH' }))
      : splitList(env.LD_LIBRARY_PATH).map((dir) => ({
          kind: 'LD_LIBRARY_PATH' as const,
          dir,
          via: 'LD_LIBRARY_PATH',
        }))),
    ...cudaRoots.flatMap(([k, root]) =>
      (win ? [join(root, 'bin')] : [join(root, 'lib64'), join(root, 'lib')]).map((dir) => ({
        kind: 'CUDA_PATH' as const,
        dir,
        via: k,
      })),
    ),
    ...condaPlaces(env, opts.home ?? homedir(), win),
    ...py.places,
    ...sys.places,
  ]
  const unique = searched.filter((p, i) => searched.findIndex((q) => q.dir === p.dir) === i)
  const libraries: LibraryFinding[] = REQUIRED_LIBRARIES.map((lib) => {
    const file = win ? lib.windows : lib.linux
    const hits: (LibraryPlace & { path: string })[] = unique
      .filter((p) => existsSync(join(p.dir, file)))
      .map((p) => ({ ...p, path: join(p.dir, file) }))
    const cached = sys.cache.get(file)
    if (cached && !hits.some((h) => h.path === cached)) {
      hits.push({ kind: 'system', dir: dirname(cached), via: 'ldconfig -p', path: cached })
    }
    const [found, ...rest] = hits
    return {
      file,
      role: lib.role,
      pipPackage: lib.pipPackage,
      found: found ?? null,
      alsoIn: rest.map(({ kind, dir, via }) => ({ kind, dir, via })),
    }
  })
  // The loader already searches LD_LIBRARY_PATH and the system; only the others need prepending.
  const libraryDirs = [
    ...new Set(
      libraries
        .map((l) => l.found)
        .filter(
          (f): f is NonNullable<typeof f> =>
            f !== null && !['system', 'LD_LIBRARY_PATH', 'PATH'].includes(f.kind),
        )
        .sort((a, b) => unique.findIndex((p) => p.dir === a.dir) - unique.findIndex((p) => p.dir === b.dir))
        .map((f) => f.dir),
    ),
  ]
  const missing = libraries.some((l) => !l.found)
  const python = py.python ?? (win ? 'python' : 'python3')
  const installCommand = missing
    ? `${python} -m pip install --target "${opts.appLibraryDir}" ${Object.entries(PIP_PINS)
        .map(([p, v]) => `${p}==${v}`)
        .join(' ')}`
    : null
  return { libraries, searched: unique, libraryDirs, installCommand, probes }
}
