import { homedir } from 'node:os'
import { join } from 'node:path'

export const APP_NAME = 'tfkd-studio'

/**
 * The one data folder shared by the desktop app, the CLI and the web host: `TFKD_HOME` when set,
 * else the OS's application data folder (the same place Electron's `userData` points to).
 */
export function resolveDataHome(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (env.TFKD_HOME) return env.TFKD_HOME
  if (platform === 'win32') return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), APP_NAME)
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', APP_NAME)
  return join(env.XDG_CONFIG_HOME ?? join(home, '.config'), APP_NAME)
}

export interface DataPaths {
  home: string
  database: string
  checkpoints: string
  datasets: string
  /** Imported ONNX teachers, by content hash. */
  teachers: string
  /** Exported students (`tfkd export-model`), by run. */
  exports: string
}

export function dataPaths(home: string): DataPaths {
  return {
    home,
    database: join(home, 'tfkd.sqlite'),
    checkpoints: join(home, 'checkpoints'),
    datasets: join(home, 'datasets'),
    teachers: join(home, 'teachers'),
    exports: join(home, 'exports'),
  }
}
