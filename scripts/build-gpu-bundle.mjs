// Bundles the benchmark and the trainer with every JS dependency inlined, for a machine that has no
// node_modules (a borrowed GPU machine with no registry access: `npm run gpu-check`, scripts/gpu-check.sh). Native packages stay
// external; `webgpu` (Dawn) is copied next to the bundles by hand.
import { build } from 'esbuild'

await build({
  entryPoints: { bench: 'src/cli/bench.ts', trainer: 'src/core/trainer/trainer-process.ts' },
  outdir: process.argv[2] ?? '.gpu/app',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: [
    'webgpu',
    '@tensorflow/tfjs-node',
    '@tensorflow/tfjs-node-gpu',
    '@tfkd/cpu-kernels',
    'better-sqlite3',
    'sharp',
  ],
  banner: {
    // CommonJS globals for the inlined packages (tfjs-backend-wasm's Emscripten loader reads __dirname).
    js: [
      "import { createRequire as __cr } from 'node:module';",
      "import { fileURLToPath as __fu } from 'node:url';",
      "import { dirname as __dn } from 'node:path';",
      'const require = __cr(import.meta.url);',
      'const __filename = __fu(import.meta.url);',
      'const __dirname = __dn(__filename);',
    ].join(' '),
  },
  loader: { '.sql': 'text' },
  logLevel: 'warning',
})
