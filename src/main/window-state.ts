/**
 * The main window's size, position and maximized state, remembered across launches in
 * <userData>/window-state.json. A saved position is used only if it is still on a display (a laptop
 * unplugged from its monitor must not open the window off-screen); otherwise only the size is kept,
 * shrunk to fit, and the OS centres the window.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export interface Rect {
  x: number
  y: number
  width: number
  height: number
}

export interface WindowState {
  bounds: Rect
  maximized: boolean
}

export const WINDOW_STATE_FILE = 'window-state.json'
export const MIN_SIZE = { width: 900, height: 600 }
const SAVE_DELAY_MS = 500

function isRect(v: unknown): v is Rect {
  if (typeof v !== 'object' || v === null) return false
  const r = v as Record<string, unknown>
  return ['x', 'y', 'width', 'height'].every((k) => typeof r[k] === 'number' && Number.isFinite(r[k]))
}

/** The saved state, or null when there is none or it is unreadable (never throws). */
export function loadWindowState(dir: string): WindowState | null {
  try {
    const raw = JSON.parse(readFileSync(join(dir, WINDOW_STATE_FILE), 'utf8')) as Record<string, unknown>
    if (!isRect(raw.bounds)) return null
    return { bounds: raw.bounds, maximized: raw.maximized === true }
  } catch {
    return null
  }
}

/** Written to a temp file and renamed, so a crash mid-write leaves the old state. */
export function saveWindowState(dir: string, state: WindowState): void {
  const file = join(dir, WINDOW_STATE_FILE)
  writeFileSync(`${file}.tmp`, JSON.stringify(state))
  renameSync(`${file}.tmp`, file)
}

/** Overlap of two rectangles, in px². */
function overlap(a: Rect, b: Rect): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y)
  return w > 0 && h > 0 ? w * h : 0
}

/**
 * The BrowserWindow bounds to open with. The title bar strip (top 40 px) must overlap a display's
 * work area by at least 100 px wide, so the user can grab and move the window.
 */
export function restoreBounds(
  saved: WindowState | null,
  workAreas: Rect[],
): Partial<Rect> & { width: number; height: number } {
  const fallback = { width: 1280, height: 840 }
  if (!saved) return fallback
  const largest = workAreas.reduce<Rect | null>(
    (best, a) => (!best || a.width * a.height > best.width * best.height ? a : best),
    null,
  )
  const width = Math.max(MIN_SIZE.width, Math.min(saved.bounds.width, largest?.width ?? saved.bounds.width))
  const height = Math.max(
    MIN_SIZE.height,
    Math.min(saved.bounds.height, largest?.height ?? saved.bounds.height),
  )
  const titleBar: Rect = { x: saved.bounds.x, y: saved.bounds.y, width, height: 40 }
  const visible = workAreas.some((a) => overlap(titleBar, a) >= 100 * 40 * 0.5)
  return visible ? { x: saved.bounds.x, y: saved.bounds.y, width, height } : { width, height }
}

/** The parts of BrowserWindow the tracker uses. */
export interface TrackedWindow {
  on(event: 'resize' | 'move' | 'close' | 'maximize' | 'unmaximize', listener: () => void): unknown
  getNormalBounds(): Rect
  isMaximized(): boolean
  isMinimized(): boolean
  isFullScreen(): boolean
}

/**
 * Saves the window's state after it stops moving or resizing (debounced) and when it closes. The
 * normal (unmaximized) bounds are saved, so un-maximizing after a restart returns to them.
 */
export function trackWindowState(
  win: TrackedWindow,
  dir: string,
  opts: { delayMs?: number; save?: typeof saveWindowState } = {},
): () => void {
  const save = opts.save ?? saveWindowState
  let timer: NodeJS.Timeout | null = null
  const write = (): void => {
    if (timer) clearTimeout(timer)
    timer = null
    if (win.isMinimized() || win.isFullScreen()) return
    try {
      save(dir, { bounds: win.getNormalBounds(), maximized: win.isMaximized() })
    } catch (err) {
      // Losing the window position is not worth an error dialog.
      console.warn('[main] could not save the window state:', err)
    }
  }
  const later = (): void => {
    if (timer) clearTimeout(timer)
    timer = setTimeout(write, opts.delayMs ?? SAVE_DELAY_MS)
  }
  for (const e of ['resize', 'move', 'maximize', 'unmaximize'] as const) win.on(e, later)
  win.on('close', write)
  return write
}
