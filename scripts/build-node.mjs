// Bundles the Node-side entry points (CLI, web host, trainer process, benchmark) into out/node.
// Every package stays external: native addons (better-sqlite3, tfjs-node) must be loaded from
// node_modules with their real package.json, and the wasm backend finds its .wasm files there.
import { build } from 'esbuild'
import { existsSync } from 'node:fs'

const entries = {
  cli: 'src/cli/index.ts',
  trainer: 'src/core/trainer/trainer-process.ts',
  bench: 'src/cli/bench.ts',
}
const entryPoints = Object.fromEntries(Object.entries(entries).filter(([, file]) => existsSync(file)))

await build({
  entryPoints,
  outdir: 'out/node',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  sourcemap: true,
  loader: { '.sql': 'text' },
  logLevel: 'warning',
})
