/**
 * The packaged app's layout, checked without the Electron download: electron-builder `--dir` (the
 * same config as `npm run dist:dir`) runs against a stand-in Electron distribution, a folder whose
 * "electron" is a placeholder carrying a fuse wire, then the asar and app.asar.unpacked are listed.
 * Every native module and .wasm the app or trainer loads must be outside the asar; the main,
 * preload, renderer and trainer bundles inside; the afterPack hook must have flipped the fuses.
 * Needs the built app (`npm run build`): CI builds it first; elsewhere the test skips without it.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..', '..')
const req = createRequire(import.meta.url)
const built = ['out/main/index.js', 'out/main/trainer.js', 'out/preload/index.cjs', 'out/renderer/index.html']
const missing = built.filter((f) => !existsSync(join(root, f)))
const inCi = process.env.CI === 'true'
if (missing.length > 0 && !inCi) {
  console.warn(`package layout test skipped: ${missing.join(', ')} not built (run \`npm run build\`)`)
}

const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX'
/** Electron's default fuse wire (V1, 9 fuses), as in a downloaded binary. */
const DEFAULT_WIRE = '101100011'

/** A stand-in "electron" executable: a shell script with a fuse wire, for @electron/fuses. */
function standInElectron(dir: string): void {
  mkdirSync(dir, { recursive: true })
  const wire = Buffer.concat([
    Buffer.from('#!/bin/sh\necho "stand-in electron for the package layout test"\nexit 0\n# '),
    Buffer.from(SENTINEL),
    Buffer.from([1, DEFAULT_WIRE.length]),
    Buffer.from(DEFAULT_WIRE),
    Buffer.from('\n'),
  ])
  writeFileSync(join(dir, 'electron'), wire)
  chmodSync(join(dir, 'electron'), 0o755)
  writeFileSync(join(dir, 'version'), '45.5.0')
  writeFileSync(join(dir, 'LICENSE'), 'stand-in')
  mkdirSync(join(dir, 'resources'))
}

function walk(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? walk(p, base) : [relative(base, p).replaceAll('\\', '/')]
  })
}

describe.skipIf(missing.length > 0 && !inCi)(
  'packaged layout (electron-builder --dir, stand-in Electron)',
  () => {
    let work = ''
    let appDir = ''
    let asarFiles: string[] = []
    let unpacked: string[] = []

    beforeAll(async () => {
      expect(missing, 'the app must be built (npm run build) before this test').toEqual([])
      work = mkdtempSync(join(tmpdir(), 'tfkd-pack-'))
      const dist = join(work, 'electron-dist')
      standInElectron(dist)
      const { build, Platform } = req('electron-builder') as typeof import('electron-builder')
      // Only overrides: electron-builder reads electron-builder.yml itself and deep-merges these
      // (arrays concatenate, so the yml's lists are not repeated here). build/native (the Electron-ABI
      // better-sqlite3) exists only where scripts/electron-native.mjs ran; its absence is a warning.
      await build({
        projectDir: root,
        targets: Platform.LINUX.createTarget('dir'),
        config: {
          electronDist: dist,
          electronVersion: '45.5.0',
          directories: { output: join(work, 'dist') },
        },
        publish: 'never',
      })
      appDir = join(work, 'dist', 'linux-unpacked')
      const asar = req('@electron/asar') as typeof import('@electron/asar')
      asarFiles = asar
        .listPackage(join(appDir, 'resources', 'app.asar'), { isPack: false })
        .map((f) => f.replaceAll('\\', '/').replace(/^\//, ''))
      const unpackedDir = join(appDir, 'resources', 'app.asar.unpacked')
      unpacked = existsSync(unpackedDir) ? walk(unpackedDir) : []
    }, 300_000)

    afterAll(() => {
      if (work && !process.env.KEEP_PACK) rmSync(work, { recursive: true, force: true })
      else console.log('kept', work)
    })

    it('puts the main, preload, trainer and renderer bundles inside the asar', () => {
      for (const f of built) expect(asarFiles, f).toContain(f)
      expect(asarFiles.some((f) => /^out\/renderer\/assets\/.+\.js$/.test(f))).toBe(true)
      expect(existsSync(join(appDir, 'resources', 'icons', '512x512.png'))).toBe(true)
      // Source maps and sources stay out of the package.
      expect(asarFiles.filter((f) => f.endsWith('.map') || f.startsWith('src/'))).toEqual([])
    })

    it('keeps every native module and .wasm outside the asar', () => {
      // Files the asar lists but whose bytes live in app.asar.unpacked are not "inside".
      const nativeInAsar = asarFiles.filter(
        (f) => /\.(node|wasm|so(\.\d+)*|dylib|dll)$/.test(f) && !unpacked.includes(f),
      )
      expect(nativeInAsar).toEqual([])
      const expectUnpacked = [
        /^node_modules\/better-sqlite3\/build\/Release\/better_sqlite3\.node$/,
        /^node_modules\/better-sqlite3\/package\.json$/,
        /^node_modules\/sharp\/package\.json$/,
        /^node_modules\/sharp\/dist\/index\.cjs$/,
        new RegExp(`^node_modules/@img/sharp-${process.platform}-${process.arch}/lib/sharp-.+\\.node$`),
        new RegExp(
          `^node_modules/@img/sharp-libvips-${process.platform}-${process.arch}/lib/libvips-cpp\\.so`,
        ),
        /^node_modules\/@tensorflow\/tfjs-backend-wasm\/dist\/tfjs-backend-wasm\.wasm$/,
        /^node_modules\/@tensorflow\/tfjs-backend-wasm\/dist\/tfjs-backend-wasm-threaded-simd\.wasm$/,
      ]
      for (const re of expectUnpacked)
        expect(
          unpacked.some((f) => re.test(f)),
          String(re),
        ).toBe(true)
      // Dawn for this platform only (the others are excluded), and no native build leftovers.
      if (existsSync(join(root, 'node_modules', 'webgpu', 'package.json'))) {
        const dawn = unpacked
          .filter((f) => f.startsWith('node_modules/webgpu/dist/'))
          .map((f) => f.split('/')[3])
        const own = process.platform === 'darwin' ? 'darwin-universal' : `${process.platform}-${process.arch}`
        expect(new Set(dawn)).toEqual(new Set([own]))
      }
      expect(unpacked.filter((f) => /better-sqlite3\/(deps|src)\/|\.a$|obj\.target\//.test(f))).toEqual([])
      // ONNX Runtime: the binding and the shared library it loads by path, both real files.
      if (existsSync(join(root, 'node_modules', 'onnxruntime-node', 'package.json'))) {
        const ort = unpacked.filter((f) => f.startsWith('node_modules/onnxruntime-node/'))
        expect(ort.some((f) => f.endsWith('onnxruntime_binding.node'))).toBe(true)
        if (process.platform === 'linux') expect(ort.some((f) => /libonnxruntime\.so/.test(f))).toBe(true)
      }
      // Our N-API kernels, where this machine built them (an optional dependency).
      if (
        existsSync(
          join(root, 'node_modules', '@tfkd', 'cpu-kernels', 'build', 'Release', 'tfkd_cpu_kernels.node'),
        )
      ) {
        expect(unpacked).toContain('node_modules/@tfkd/cpu-kernels/build/Release/tfkd_cpu_kernels.node')
        expect(unpacked).toContain('node_modules/@tfkd/cpu-kernels/index.cjs')
      }
    })

    it('ships the runtime dependencies and none of the development ones', () => {
      const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
        dependencies: Record<string, string>
      }
      const all = new Set([...asarFiles, ...unpacked])
      for (const dep of Object.keys(pkg.dependencies)) {
        expect(all.has(`node_modules/${dep}/package.json`), dep).toBe(true)
      }
      for (const dev of ['electron', 'vitest', 'electron-builder', 'typescript', 'vue']) {
        expect(all.has(`node_modules/${dev}/package.json`), dev).toBe(false)
      }
    })

    it('runs the afterPack hook: the fuses of the security checklist are flipped', async () => {
      const { getCurrentFuseWire, FuseV1Options, FuseState } = await import('@electron/fuses')
      const wire = await getCurrentFuseWire(join(appDir, 'tfkd-studio'))
      const byIndex = wire as unknown as Record<number, number>
      const read = (k: keyof typeof FuseV1Options): boolean =>
        byIndex[FuseV1Options[k] as number] === FuseState.ENABLE
      expect({
        RunAsNode: read('RunAsNode'),
        EnableCookieEncryption: read('EnableCookieEncryption'),
        EnableNodeOptionsEnvironmentVariable: read('EnableNodeOptionsEnvironmentVariable'),
        EnableNodeCliInspectArguments: read('EnableNodeCliInspectArguments'),
        EnableEmbeddedAsarIntegrityValidation: read('EnableEmbeddedAsarIntegrityValidation'),
        OnlyLoadAppFromAsar: read('OnlyLoadAppFromAsar'),
        GrantFileProtocolExtraPrivileges: read('GrantFileProtocolExtraPrivileges'),
      }).toEqual({
        RunAsNode: false,
        EnableCookieEncryption: true,
        EnableNodeOptionsEnvironmentVariable: false,
        EnableNodeCliInspectArguments: false,
        EnableEmbeddedAsarIntegrityValidation: true,
        OnlyLoadAppFromAsar: true,
        GrantFileProtocolExtraPrivileges: false,
      })
    })
  },
)
