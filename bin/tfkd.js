#!/usr/bin/env node
// The `tfkd` command. The TypeScript sources are bundled to out/node by `npm install` (prepare).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const cli = fileURLToPath(new URL('../out/node/cli.js', import.meta.url))
if (!existsSync(cli)) {
  console.error(`tfkd: ${cli} is missing; run \`npm run build:node\` (npm install does it) first`)
  process.exit(1)
}
await import(cli)
