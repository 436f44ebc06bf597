/**
 * The device each run really trained on (runs.device_info, migration 005): backend, GPU or CPU,
 * GPU name or CPU model, threads. Written when the trainer reports the run started.
 */
import type { RunDevice } from '../../../shared/types'
import { runDeviceRecord } from '../../../shared/record-schemas'
import type { RepoDeps } from './types'

/**
 * Decodes runs.device_info: null for runs recorded before migration 005, and for an unreadable value
 * (the device is informational: a run with a damaged device still lists).
 */
export function decodeRunDevice(raw: unknown): RunDevice | null {
  if (typeof raw !== 'string') return null
  try {
    const parsed = runDeviceRecord.safeParse(JSON.parse(raw))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}

export function createRunDevicesRepo({ db }: RepoDeps) {
  return {
    /** Records what the trainer reported it trains on (a resumed run may move to another device). */
    set(runId: number, device: RunDevice): void {
      db.prepare('UPDATE runs SET device_info = ? WHERE id = ?').run(JSON.stringify(device), runId)
    },
  }
}
