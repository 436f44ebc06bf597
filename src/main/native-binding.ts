/**
 * Where better-sqlite3's Electron-ABI binary lives. node_modules/better-sqlite3/build keeps the
 * plain-Node build (tests, CLI, web host); scripts/electron-native.mjs builds a second copy for
 * Electron into build/native/<key>/, which electron-builder ships as extraResources/native/<key>/.
 */
import { join } from 'node:path'

export const NATIVE_FILE = 'better_sqlite3.node'

/** `electron-<version>-<platform>-<arch>`: a new Electron version gets its own binary. */
export function nativeKey(electronVersion: string, platform: string, arch: string): string {
  return `electron-${electronVersion}-${platform}-${arch}`
}

export function nativeBindingPath(opts: {
  isPackaged: boolean
  appPath: string
  resourcesPath: string
  electronVersion: string
  platform?: string
  arch?: string
}): string {
  const key = nativeKey(opts.electronVersion, opts.platform ?? process.platform, opts.arch ?? process.arch)
  return opts.isPackaged
    ? join(opts.resourcesPath, 'native', key, NATIVE_FILE)
    : join(opts.appPath, 'build', 'native', key, NATIVE_FILE)
}
