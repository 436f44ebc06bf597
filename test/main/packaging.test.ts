/** Packaging config: asar-unpacked native modules, no npm rebuild, fuses, native binding location. */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { load } from 'js-yaml'
import { describe, expect, it } from 'vitest'
import { nativeBindingPath } from '../../src/main/native-binding'

const root = join(import.meta.dirname, '..', '..')

describe('electron-builder.yml', () => {
  const config = load(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as Record<string, unknown>

  it('unpacks every native module from the asar and never runs npm rebuild', () => {
    expect(config.asarUnpack).toEqual(
      expect.arrayContaining([
        '**/node_modules/@tensorflow/tfjs-node*/**',
        '**/node_modules/better-sqlite3/**',
        '**/node_modules/webgpu/**',
        // sharp's packaging docs: both globs; core imports sharp at load.
        '**/node_modules/sharp/**',
        '**/node_modules/@img/**',
        '**/node_modules/@tfkd/cpu-kernels/**',
        // Every addon and .wasm (the wasm backend's, read by path), wherever it sits.
        '**/*.node',
        '**/*.wasm',
      ]),
    )
    expect(config.npmRebuild).toBe(false)
    expect(config.files).toEqual(expect.arrayContaining(['out/**', 'package.json', '!**/*.map']))
    expect(config.extraResources).toEqual(
      expect.arrayContaining([expect.objectContaining({ from: 'build/native', to: 'native' })]),
    )
    expect(config.afterPack).toBe('scripts/fuses.cjs')
  })

  it('the afterPack hook flips the fuses of the security checklist', () => {
    const hook = createRequire(import.meta.url)(join(root, 'scripts', 'fuses.cjs')) as {
      FUSE_SETTINGS: Record<string, boolean>
    }
    expect(hook.FUSE_SETTINGS).toEqual({
      RunAsNode: false,
      EnableCookieEncryption: true,
      EnableNodeOptionsEnvironmentVariable: false,
      EnableNodeCliInspectArguments: false,
      EnableEmbeddedAsarIntegrityValidation: true,
      OnlyLoadAppFromAsar: true,
      GrantFileProtocolExtraPrivileges: false,
    })
  })
})

describe('nativeBindingPath', () => {
  it('points at build/native in development and resources/native when packaged', () => {
    const common = { appPath: '/src/app', resourcesPath: '/opt/App/resources', electronVersion: '45.5.0' }
    const key = 'electron-45.5.0-linux-x64'
    expect(nativeBindingPath({ ...common, isPackaged: false, platform: 'linux', arch: 'x64' })).toBe(
      join('/src/app', 'build', 'native', key, 'better_sqlite3.node'),
    )
    expect(nativeBindingPath({ ...common, isPackaged: true, platform: 'linux', arch: 'x64' })).toBe(
      join('/opt/App/resources', 'native', key, 'better_sqlite3.node'),
    )
  })
})
