/** Host settings by key (the `app_settings` table of migration 005), values stored as JSON. */
import type { RepoDeps } from './types'

export function createSettingsRepo({ db }: RepoDeps) {
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
