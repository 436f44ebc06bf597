/**
 * The only module that may call `shell.openExternal`. Handing an arbitrary URL to the OS is a
 * known RCE path (file:, smb:, custom protocol handlers; Jitsi CVE-2020-25019, Wire
 * GHSA-5gpx-9976-ggpm), so only absolute http(s) URLs ever leave the app.
 */
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
