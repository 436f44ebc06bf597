/**
 * The only module that may call `shell.openExternal`. Handing an arbitrary URL to the OS is a
 * known RCE path (file:, smb:, custom protocol handlers; Jitsi CVE-2020-25019, Wire
 * GHSA-5gpx-9976-ggpm), so only absolute http(s) URLs ever leave the app.
 */
import { statSync } from 'node:fs'
import { isAbsolute } from 'node:path'
import { shell } from 'electron'

const ALLOWED_PROTOCOLS = new Set(['http:', 'https:'])

/** True only for a well-formed absolute http: or https: URL. */
export function isSafeExternalUrl(url: unknown): url is string {
  if (typeof url !== 'string') return false
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false
  }
  return ALLOWED_PROTOCOLS.has(parsed.protocol) && parsed.hostname !== ''
}

/** Opens `url` in the user's browser if it is http(s); answers whether it was opened. */
export async function openExternalSafe(
  url: unknown,
  open: (url: string) => Promise<void> = (u) => shell.openExternal(u),
): Promise<boolean> {
  if (!isSafeExternalUrl(url)) return false
  await open(new URL(url).toString())
  return true
}

/**
 * Opens a local folder in the OS file manager (File > Open Data Folder). Only an absolute path to
 * an existing directory: `shell.openPath` on a file would run it with its default handler.
 * Answers the error text, '' when opened.
 */
export async function openFolderSafe(
  folder: string,
  open: (path: string) => Promise<string> = (p) => shell.openPath(p),
): Promise<string> {
  if (!isAbsolute(folder) || folder.includes('\0')) return `not an absolute folder path: ${folder}`
  let isDir = false
  try {
    isDir = statSync(folder).isDirectory()
  } catch {
    isDir = false
  }
  if (!isDir) return `not a folder: ${folder}`
  return open(folder)
}
