import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import type { ComparisonTable } from '../../../shared/comparison'
import { AppError } from '../../../shared/errors'
import type { RunDetail } from '../../../shared/types'
import { buildExportBundle, type ExportBundle } from '../../../shared/charts/export-bundle'
import { call } from '../lib/api'

/** Keys of a comparison row that are nullable by type; every other null came from a NaN over JSON. */
const NULLABLE_ROW_KEYS = new Set(['model', 'teacher', 'wilcoxonMethod', 'teacherMeasure'])

/** JSON turns NaN (p of the reference row, std of one seed) into null; the formatters expect NaN. */
export function reviveComparison(t: ComparisonTable): ComparisonTable {
  return {
    ...t,
    rows: t.rows.map((r) => {
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(r)) {
        out[k] =
          v === null && !NULLABLE_ROW_KEYS.has(k)
            ? Number.NaN
            : (k === 'ci' || k === 'ciAdjusted') && Array.isArray(v)
              ? v.map((x: unknown) => (x === null ? Number.NaN : x))
              : k === 'teacherMeasure' && v !== null && typeof v === 'object'
                ? { ...v, accuracy: (v as { accuracy: unknown }).accuracy ?? Number.NaN }
                : v
      }
      return out as unknown as ComparisonTable['rows'][number]
    }),
  }
}

export type CompareSelection = { experimentId: number } | { runIds: number[] }

export const useCompareStore = defineStore('compare', () => {
  const selection = shallowRef<CompareSelection | null>(null)
  const metric = ref<'best' | 'last'>('best')
  /** The variant the others are compared with (Δ, p, verdicts); baseline unless one is picked. */
  const reference = ref('baseline')
  const table = shallowRef<ComparisonTable | null>(null)
  const details = shallowRef<RunDetail[]>([])
  const classNames = shallowRef<string[]>([])
  const status = ref<'idle' | 'loading' | 'ready' | 'error'>('idle')
  const error = shallowRef<AppError | null>(null)
  /** The two variants whose confusion matrices are differenced. */
  const confusionPair = shallowRef<[string, string] | null>(null)

  async function load(sel: CompareSelection | null = selection.value): Promise<void> {
    if (!sel) return
    selection.value = sel
    status.value = 'loading'
    error.value = null
    try {
      const runIds =
        'runIds' in sel
          ? sel.runIds
          : (await call('runs:list', { experimentId: sel.experimentId, limit: 10_000 })).map((r) => r.id)
      const [t, d, datasets] = await Promise.all([
        call('compare:get', { ...sel, metric: metric.value, reference: reference.value }).catch(
          (err: unknown) => {
            // A set without a baseline or completed runs still shows its curves.
            error.value = AppError.from(err)
            return null
          },
        ),
        runIds.length ? call('runs:details', { runIds: runIds.slice(0, 500) }) : Promise.resolve([]),
        call('datasets:list', {}),
      ])
      table.value = t ? reviveComparison(t) : null
      details.value = d.sort((a, b) => a.id - b.id)
      classNames.value = datasets.find((x) => x.id === d[0]?.datasetId)?.classNames ?? []
      status.value = 'ready'
    } catch (err) {
      error.value = AppError.from(err)
      status.value = 'error'
    }
  }

  const bundle = computed<ExportBundle>(() =>
    buildExportBundle({
      table: table.value,
      runs: details.value,
      classNames: classNames.value,
      confusionPair: confusionPair.value ?? undefined,
    }),
  )

  return {
    selection,
    metric,
    reference,
    table,
    details,
    classNames,
    status,
    error,
    confusionPair,
    bundle,
    load,
  }
})
