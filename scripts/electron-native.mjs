#!/usr/bin/env node
/**
 * Makes better-sqlite3 usable by both runtimes without a rebuild dance:
 *  - plain Node (tests, CLI, web host) keeps node_modules/better-sqlite3/build/Release, untouched;
 *  - Electron gets its own copy at build/native/electron-<version>-<platform>-<arch>/better_sqlite3.node,
 *    which src/main/native-binding.ts passes to better-sqlite3 as `nativeBinding`.
 * The Electron copy is built from a temp copy of the package: `prebuild-install --runtime electron`
 * (downloads the published prebuilt), else `node-gyp rebuild` against Electron's headers.
 * Run by `npm start` and `npm run dev`; a no-op once the binary exists.
 */
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, copyFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(join(root, 'package.json'))
const platform = process.env.npm_config_platform || process.platform
const arch = process.env.npm_config_arch || process.arch

/**
 * The Electron executable, found the way node_modules/electron/index.js finds it but without
 * `require('electron')`, which starts a download when the binary is missing.
 */
export function electronBinary(electronDir) {
  const pathFile = join(electronDir, 'path.txt')
  if (!existsSync(pathFile)) return null
  const rel = readFileSync(pathFile, 'utf8').trim()
  const exe = process.env.ELECTRON_OVERRIDE_DIST_PATH
    ? join(process.env.ELECTRON_OVERRIDE_DIST_PATH, rel || 'electron')
    : join(electronDir, 'dist', rel)
  return existsSync(exe) ? exe : null
}

/**
 * The child env without npm's header settings: an `.npmrc` with `nodedir=/usr` (or a
 * `npm_config_target`) would make node-gyp silently build against the running Node's headers, giving
 * a binary Electron refuses to load.
 */
function buildEnv() {
  const env = { ...process.env }
  for (const key of Object.keys(env)) {
    if (/^npm_config_(nodedir|target|runtime|disturl|dist_url|arch|platform)$/i.test(key)) delete env[key]
  }
  return env
}

function run(cmd, args, cwd) {
  console.log(`[electron-native] ${cmd} ${args.join(' ')}`)
  const r = spawnSync(cmd, args, { cwd, env: buildEnv(), stdio: 'inherit' })
  return r.status === 0
}

/** node-gyp run directly with node (never via npx/npm, which would re-apply .npmrc's nodedir). */
function nodeGypBin() {
  const candidates = []
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'))
  } catch {
    // not a dependency of this project
  }
  if (process.env.npm_execpath) {
    candidates.push(
      join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    )
  }
  const npmRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8', shell: process.platform === 'win32' })
  if (npmRoot.status === 0) {
    candidates.push(join(npmRoot.stdout.trim(), 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'))
  }
  return candidates.find((c) => existsSync(c)) ?? null
}

function main() {
  let electronDir
  try {
    electronDir = dirname(require.resolve('electron/package.json'))
  } catch {
    console.error('[electron-native] the `electron` package is not installed (npm install).')
    return 1
  }
  const electronVersion = JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8')).version
  const exe = electronBinary(electronDir)
  if (!exe) {
    console.error(
      [
        `[electron-native] The desktop app needs the Electron ${electronVersion} binary, which is not installed`,
        `  (node_modules/electron/dist is missing; npm may have skipped its download, e.g. ELECTRON_SKIP_BINARY_DOWNLOAD).`,
        '  Install it with:   npx install-electron        (= node node_modules/electron/install.js)',
        '  The CLI (`tfkd`) and the web UI (`tfkd serve`) work without it.',
      ].join('\n'),
    )
    return 1
  }

  const key = `electron-${electronVersion}-${platform}-${arch}`
  const outDir = join(root, 'build', 'native', key)
  const outFile = join(outDir, 'better_sqlite3.node')
  if (existsSync(outFile)) {
    console.log(`[electron-native] ok: ${outFile}`)
    return 0
  }

  const pkgDir = dirname(require.resolve('better-sqlite3/package.json'))
  const work = mkdtempSync(join(tmpdir(), 'tfkd-sqlite-electron-'))
  try {
    const copy = join(work, 'better-sqlite3')
    // The copy leaves the Node build out, so whatever lands in build/Release is Electron's.
    const nodeBuild = join(pkgDir, 'build')
    cpSync(pkgDir, copy, {
      recursive: true,
      filter: (src) => src !== nodeBuild && !src.startsWith(nodeBuild + sep),
    })
    const prebuildBin = join(dirname(require.resolve('prebuild-install/package.json')), 'bin.js')
    const built =
      run(
        process.execPath,
        [
          prebuildBin,
          '--runtime',
          'electron',
          '--target',
          electronVersion,
          '--arch',
          arch,
          '--platform',
          platform,
        ],
        copy,
      ) ||
      (() => {
        const gyp = nodeGypBin()
        if (!gyp) {
          console.error('[electron-native] node-gyp not found (it ships with npm).')
          return false
        }
        return run(
          process.execPath,
          [
            gyp,
            'rebuild',
            '--release',
            `--target=${electronVersion}`,
            `--arch=${arch}`,
            '--runtime=electron',
            '--dist-url=https://electronjs.org/headers',
          ],
          copy,
        )
      })()
    const produced = join(copy, 'build', 'Release', 'better_sqlite3.node')
    if (!built || !existsSync(produced)) {
      console.error(
        `[electron-native] could not get better-sqlite3 for Electron ${electronVersion} (${platform}-${arch}).`,
      )
      return 1
    }
    // A binary plain Node can load was built against Node's headers, not Electron's.
    const probe = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(produced)})`], {
      stdio: 'ignore',
    })
    if (probe.status === 0) {
      console.error('[electron-native] the build targeted this Node, not Electron (check nodedir in .npmrc).')
      return 1
    }
    mkdirSync(outDir, { recursive: true })
    copyFileSync(produced, outFile)
    console.log(`[electron-native] built ${outFile}`)
    return 0
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main()
}
