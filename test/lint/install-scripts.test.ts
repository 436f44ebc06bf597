/**
 * Install scripts are declared in the form npm supports: `allowScripts` in package.json approves
 * (true) the scripts the app needs and denies (false) the ones it does not, so an npm that blocks
 * unreviewed install scripts (`--strict-allow-scripts` today, the default in a later npm) still
 * installs a working app. Every package of the lock file that has an install script is matched
 * against the policy with the matcher of the npm in use (arborist's script-allowed.js), as npm ci
 * does. `scripts/check-clean-install.sh` proves the same on a fresh clone with a real `npm ci`.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { needsSystemPart } from '../support/system-parts'

const REPO = resolve(__dirname, '../..')
const req = createRequire(import.meta.url)

interface LockEntry {
  version?: string
  resolved?: string
  link?: boolean
  hasInstallScript?: boolean
  inBundle?: boolean
}
interface Pkg {
  allowScripts?: Record<string, boolean>
}

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Pkg
const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockEntry>
}

/** Why each script runs, or why not: the reviewed decision for every package that has one. */
const NEEDED: Record<string, string> = {
  'better-sqlite3': 'downloads or compiles the SQLite addon: the history database',
  'native/cpu-kernels': 'compiles the multithreaded SIMD convolution kernels (node-gyp)',
  '@tensorflow/tfjs-node': 'downloads libtensorflow for the tfjs-node backend',
  '@tensorflow/tfjs-node-gpu': 'downloads libtensorflow (CUDA) for the tfjs-node-gpu backend',
  'onnxruntime-node': 'downloads the CUDA execution provider for ONNX teachers on a GPU',
  webgpu: "removes macOS's quarantine flag from Dawn so the WebGPU backend loads",
  esbuild: 'checks (and where optional packages were omitted, fetches) the esbuild binary',
}
const DENIED: Record<string, string> = {
  'core-js': 'prints a funding banner',
  protobufjs: 'checks the version scheme of dependents that use its CLI',
  'electron-winstaller': 'picks a 7-Zip binary for Squirrel.Windows installers, a target we do not build',
}

type ScriptAllowed = (node: object, policy: Record<string, boolean>) => boolean | null

/** The matcher of the npm on the PATH, or null where that npm has no allowScripts policy. */
function npmMatcher(): ScriptAllowed | null {
  const root = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim()
  const file = join(root, 'npm/node_modules/@npmcli/arborist/lib/script-allowed.js')
  if (!existsSync(file)) return null
  return req(file) as ScriptAllowed
}

/** A lock-file entry as arborist sees it when npm ci decides whether its script may run. */
function nodeOf(location: string, entry: LockEntry): object {
  if (!location.startsWith('node_modules/')) {
    // A local package (file:native/cpu-kernels): the link's target, reached from its link.
    const real = join(REPO, location)
    return {
      resolved: null,
      isRegistryDependency: false,
      linksIn: [{ resolved: `file:../${location}` }],
      realpath: real,
      path: real,
      edgesIn: [],
    }
  }
  // This lock file carries no `resolved` URLs, so npm trusts the name on the incoming dependency edge
  // and knows no version: a pinned entry (name@1.2.3) would never match, a name-only entry does.
  return {
    resolved: entry.resolved,
    isRegistryDependency: true,
    inBundle: entry.inBundle,
    edgesIn: [{ name: nameOf(location), spec: entry.version ?? '*' }],
  }
}

const nameOf = (location: string): string => location.replace(/^.*node_modules\//, '')
const withScripts = Object.entries(lock.packages).filter(([loc, e]) => loc !== '' && e.hasInstallScript)
const matcher = npmMatcher()
const npmVersion = execFileSync('npm', ['--version'], { encoding: 'utf8' }).trim()
const skip = needsSystemPart({
  name: `an npm with the allowScripts policy (npm ${npmVersion} on the PATH has none)`,
  isPresent: matcher !== null,
  install: 'npm install -g npm@11',
})

describe.skipIf(skip)(`install scripts under npm ${npmVersion}'s allowScripts`, () => {
  const allowed = (loc: string, e: LockEntry) => matcher?.(nodeOf(loc, e), pkg.allowScripts ?? {})

  it('every package with an install script has a decision (none is left for npm to warn about)', () => {
    expect(withScripts.length).toBeGreaterThan(0)
    const unreviewed = withScripts.filter(([loc, e]) => allowed(loc, e) === null).map(([loc]) => loc)
    expect(unreviewed).toEqual([])
  })

  it('approves exactly the scripts the app needs and denies the others', () => {
    for (const [loc, e] of withScripts) {
      const name = loc.startsWith('node_modules/') ? nameOf(loc) : loc
      const expected = name in NEEDED ? true : name in DENIED ? false : 'undecided'
      expect({ name, allowed: allowed(loc, e) }).toEqual({ name, allowed: expected })
    }
  })

  it('no policy key is stale or written in a form npm refuses', () => {
    for (const key of Object.keys(pkg.allowScripts ?? {})) {
      const hit = withScripts.some(([loc, e]) => matcher?.(nodeOf(loc, e), { [key]: true }) === true)
      expect({ key, matchesALockedPackage: hit }).toEqual({ key, matchesALockedPackage: true })
    }
  })

  it('the approved native parts work: better-sqlite3 opens a database', () => {
    const Database = req('better-sqlite3') as new (file: string) => {
      prepare: (sql: string) => { get: () => unknown }
      close: () => void
    }
    const db = new Database(':memory:')
    expect(db.prepare('select sqlite_version() as v').get()).toMatchObject({ v: expect.any(String) })
    db.close()
  })
})
