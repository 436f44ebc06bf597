/**
 * Whether a rung's npm package (and, for tfjs-node, its downloaded native addon) is installed.
 * File checks only: nothing is loaded, so hosts can ask too.
 */
import { existsSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

const req = createRequire(import.meta.url)

export type PackageState = 'installed' | 'missing' | 'no-addon'

/** tfjs-node's package can be present without its addon when its install could not download it. */
export function packageState(pkg: string, hasAddon = pkg.startsWith('@tensorflow/tfjs-node')): PackageState {
  let dir: string
  try {
    dir = dirname(req.resolve(`${pkg}/package.json`))
  } catch {
    return 'missing'
  }
  if (!hasAddon) return 'installed'
  const lib = join(dir, 'lib')
  const found =
    existsSync(lib) &&
    readdirSync(lib).some((d) => d.startsWith('napi-v') && existsSync(join(lib, d, 'tfjs_binding.node')))
  return found ? 'installed' : 'no-addon'
}

export function assertNativeAddon(pkg: string): void {
  const state = packageState(pkg, true)
  if (state === 'missing') throw new Error(`Cannot find module '${pkg}'`)
  if (state === 'no-addon') {
    throw new Error(
      `${pkg} is installed without its native addon: its install step could not download libtensorflow (reinstall with internet access)`,
    )
  }
}
