import type { Linter } from 'eslint'

/**
 * The lint tests lint snippets at paths that do not exist (src/shared/x.ts): the TypeScript project
 * service has no project for them, so they are linted without type information and without the
 * type-aware rules (which the whole-repository `npx eslint .` runs).
 */
export const WITHOUT_TYPES: Linter.Config = {
  languageOptions: { parserOptions: { projectService: false } },
  rules: {
    '@typescript-eslint/no-floating-promises': 'off',
    '@typescript-eslint/no-misused-promises': 'off',
    '@typescript-eslint/switch-exhaustiveness-check': 'off',
    '@typescript-eslint/no-unnecessary-type-assertion': 'off',
  },
}
