/**
 * Entry of scripts/csv-stream-check.mjs's child process: imports one file through the real import
 * path with nothing else loaded (no commander, no TF.js), so its peak RSS is the importer's own.
 * Lives with the hosts because it wires the core to a process; scripts bundle it and never import
 * src/core themselves.
 *   node import-memory-probe.mjs <file> <data home>   -> one JSON line on stdout
 */
import { dataPaths } from '../core/paths'
import { importDataset } from '../core/services/dataset-service'
import { openDatabase } from '../core/store/db'
import { createStore } from '../core/store/store'

async function main(file: string, home: string): Promise<void> {
  const paths = dataPaths(home)
  const store = createStore(openDatabase(paths.database))
  let sampled = 0
  let heap = 0
  let external = 0
  const timer = setInterval(() => {
    const m = process.memoryUsage()
    sampled = Math.max(sampled, m.rss)
    heap = Math.max(heap, m.heapUsed)
    external = Math.max(external, m.external + m.arrayBuffers)
  }, 50)
  const t0 = performance.now()
  const phases: Record<string, number> = {}
  const r = await importDataset({
    store,
    paths,
    source: file,
    onProgress: (p) => {
      phases[p.phase] ??= performance.now()
    },
  })
  const ms = performance.now() - t0
  clearInterval(timer)
  const rows = r.dataset.counts.train + r.dataset.counts.test
  const phaseTimes = Object.entries(phases).map(([k, t]) => `${k}@${((t - t0) / 1000).toFixed(1)}s`)
  console.log(
    JSON.stringify({
      rows,
      shape: r.dataset.inputShape,
      classes: r.dataset.classNames.length,
      seconds: +(ms / 1000).toFixed(2),
      rowsPerSec: Math.round(rows / (ms / 1000)),
      peakRssMb: +((process.resourceUsage().maxRSS * 1024) / 1e6).toFixed(1),
      sampledRssMb: +(sampled / 1e6).toFixed(1),
      maxHeapUsedMb: +(heap / 1e6).toFixed(1),
      maxExternalMb: +(external / 1e6).toFixed(1),
      cacheMb: +(r.cacheBytes / 1e6).toFixed(1),
      phases: phaseTimes,
    }),
  )
  store.close()
}

const [file, home] = process.argv.slice(2)
if (!file || !home) {
  console.error('usage: import-memory-probe <file> <data home>')
  process.exit(2)
}
main(file, home).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  },
)
