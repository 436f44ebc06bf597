/**
 * Two small repositories of migration 005: the device each run really trained on, and host settings
 * (JSON values by key; the CUDA library folders set in the Settings view live here).
 */
import type { Db } from './db'
import type { RunDevice } from '../../shared/types'

export function createRunDeviceRepo(db: Db) {
  return {
    /** Records what the trainer reported it trains on (once per start; a resume may move devices). */
    set(runId: number, device: RunDevice): void {
      db.prepare('UPDATE runs SET device_info = ? WHERE id = ?').run(JSON.stringify(device), runId)
    },
  }
}

export function createSettingsRepo(db: Db) {
  return {
    get<T>(key: string): T | undefined {
      const r = db.prepare('SELECT value FROM app_settings WHERE key = ?').get(key) as
        { value: string } | undefined
      if (!r) return undefined
      try {
        return JSON.parse(r.value) as T
      } catch {
        return undefined
      }
    },
    set(key: string, value: unknown): void {
      db.prepare(
        'INSERT INTO app_settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      ).run(key, JSON.stringify(value))
    },
  }
}
