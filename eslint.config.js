import tseslint from 'typescript-eslint'
import vue from 'eslint-plugin-vue'
import vueParser from 'vue-eslint-parser'

/**
 * The layers (docs/design.md §1): src/shared imports nothing from the project; src/core only shared;
 * src/renderer only shared; the hosts (main, preload, server, cli) core and shared, never each other
 * nor the renderer. Each entry lists the folders a layer must not import from; a relative import
 * that climbs into one of them (`../core/...`, `../../../main`) is an error.
 */
const LAYERS = ['shared', 'core', 'renderer', 'main', 'preload', 'cli', 'server']
const FORBIDDEN = {
  shared: ['core', 'renderer', 'main', 'preload', 'cli', 'server'],
  core: ['renderer', 'main', 'preload', 'cli', 'server'],
  renderer: ['core', 'main', 'preload', 'cli', 'server'],
  main: ['renderer', 'preload', 'cli', 'server'],
  preload: ['renderer', 'main', 'cli', 'server'],
  cli: ['renderer', 'main', 'preload', 'server'],
  server: ['renderer', 'main', 'preload', 'cli'],
}
const ALLOWED = (layer) => LAYERS.filter((l) => l !== layer && !FORBIDDEN[layer].includes(l))

/** A `no-restricted-imports` rule refusing imports from `forbidden` folders of src/. */
export function layerRule(layer, forbidden = FORBIDDEN[layer]) {
  const allowed = ALLOWED(layer)
  return {
    'no-restricted-imports': [
      'error',
      {
        patterns: forbidden.map((target) => ({
          regex: `^(\\.\\./)+${target}(/|$)`,
          message: `layers: src/${layer} must not import from src/${target}; it may import ${
            allowed.length ? allowed.map((l) => `src/${l}`).join(' and ') : 'nothing from the project'
          } (see docs/extending.md).`,
        })),
      },
    ],
  }
}

/**
 * The floors inside src/core, bottom first. A folder may import the core's root modules (paths,
 * random, process-alive, storage-errors) and the folders of lower floors, never its own floor nor a
 * higher one, so the core's folders form no cycle. Declared once: the lint rule below and
 * test/lint/core-floors.test.ts (which scans the resolved import edges) both read this list.
 */
export const CORE_FLOORS = [
  ['store', 'models', 'distill', 'analysis', 'backend'],
  ['data'],
  ['onnx'],
  ['train'],
  ['export', 'doctor'],
  ['trainer', 'services'],
  ['report', 'cluster'],
  ['handlers'],
  ['app'],
]

/** For a core folder, the core folders it must not import: its own floor's others and every floor above. */
export function coreForbidden(folder) {
  const floor = CORE_FLOORS.findIndex((f) => f.includes(folder))
  return CORE_FLOORS.flatMap((f, i) => (i > floor ? f : i === floor ? f.filter((x) => x !== folder) : []))
}

function coreFloorRule(folder) {
  const forbidden = coreForbidden(folder)
  const floor = CORE_FLOORS.findIndex((f) => f.includes(folder))
  const below = CORE_FLOORS.slice(0, floor).flat()
  return {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          ...FORBIDDEN.core.map((target) => ({
            regex: `^(\\.\\./)+${target}(/|$)`,
            message: `layers: src/core must not import from src/${target}; it may import src/shared (see docs/architecture.md).`,
          })),
          ...forbidden.map((target) => ({
            regex: `^\\.\\./(\\.\\./)?${target}(/|$)`,
            message: `floors: src/core/${folder} must not import from src/core/${target}; it may import ${
              below.length ? below.map((l) => `core/${l}`).join(', ') + ' and ' : ''
            }the core's root modules (see docs/architecture.md).`,
          })),
        ],
      },
    ],
  }
}

const layerConfigs = [
  ...LAYERS.map((layer) => ({
    files: [`src/${layer}/**/*.{ts,vue}`],
    rules: layerRule(layer),
  })),
  ...CORE_FLOORS.flat().map((folder) => ({
    files: [`src/core/${folder}/**/*.ts`],
    rules: coreFloorRule(folder),
  })),
  {
    // The one host-to-host edge by design: `tfkd serve` starts the web host (docs/design.md §1:
    // "src/server: web host behind `tfkd serve`"). Only the CLI's entry may import it.
    files: ['src/cli/index.ts'],
    rules: layerRule(
      'cli',
      FORBIDDEN.cli.filter((l) => l !== 'server'),
    ),
  },
  {
    // Scripts are tools around the app: they build or spawn its entry points, never import its code.
    files: ['scripts/**/*.{js,mjs,cjs}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+src(/|$)',
              message:
                'layers: scripts run the built app (out/) or bundle a host entry; they never import src/.',
            },
          ],
        },
      ],
    },
  },
]

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'out/**',
      'dist/**',
      'test-results/**',
      '.gpu/**',
      'scratch/**',
      'native/*/build/**',
    ],
  },
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parser: vueParser, parserOptions: { parser: tseslint.parser, sourceType: 'module' } },
  },
  {
    // CommonJS entry points of native addons.
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'vue/multi-word-component-names': 'off',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      // Layout is Prettier's job.
      'vue/html-indent': 'off',
      'vue/html-closing-bracket-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off',
    },
  },
  {
    // Functions stay under ~80 lines (docs/design.md, style): a longer one is split into named helpers, or
    // carries `// eslint-disable-next-line max-lines-per-function -- <why>` where its length is the
    // clearer form (one command table, one declarative template, one protocol closure).
    // Vue SFCs are left out: a component's setup is its whole script.
    files: ['src/**/*.{ts,vue}'],
    rules: {
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // Type-aware rules (typescript-eslint with the TypeScript project service): a promise nobody
    // awaits or catches, a promise where a callback's void is expected, a switch over a union that
    // misses a member, a cast the types already guarantee.
    // The renderer is left out for now: the project service does not read .vue files (vue-tsc's
    // plugin does), so types reaching a component are wrong there and the rules misfire.
    files: ['src/**/*.ts', 'test/**/*.ts'],
    ignores: ['src/renderer/**', 'test/renderer/**'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      // Warn: its generic-call case ("type arguments may be inferred from the assertion") still has
      // findings in tf.js code, where the fix is a Rank type argument per op (to do).
      '@typescript-eslint/no-unnecessary-type-assertion': 'warn',
    },
  },
  ...layerConfigs,
)
