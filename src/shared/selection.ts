/**
 * How a compared accuracy was chosen. Every table, export and chart title carries this label, and
 * best-on-test (no validation split: the epoch was picked by looking at the test set) is flagged.
 */
export type SelectionRule = 'best-on-validation' | 'best-on-test' | 'mixed' | 'last-epoch'

export const SELECTION_LABELS: Record<SelectionRule, string> = {
  'best-on-validation': 'test accuracy at the epoch chosen on validation',
  'best-on-test': 'best-on-TEST accuracy (epoch chosen on the test set: optimistic, not a fair estimate)',
  mixed: 'test accuracy at the best epoch, chosen on validation for some runs and ON TEST for others',
  'last-epoch': 'test accuracy after the last epoch',
}

/** The title every table, export and chart carries: what the numbers are and how they were chosen. */
export function selectionTitle(table: { selection: SelectionRule }): string {
  const warn = table.selection === 'best-on-test' || table.selection === 'mixed' ? '⚠ ' : ''
  return `${warn}${SELECTION_LABELS[table.selection].replace(/^./, (c) => c.toUpperCase())}`
}

/** Whether the rule means the test set chose the epoch (shown in red, with a warning). */
export function isSelectedOnTest(rule: SelectionRule): boolean {
  return rule === 'best-on-test' || rule === 'mixed'
}

/**
 * The rule in a chart's header: short enough for one line at the smallest chart width, with the
 * rule's name first (best-on-validation, best-on-TEST, last epoch) and best-on-test warned.
 */
export const SELECTION_SHORT: Record<SelectionRule, string> = {
  'best-on-validation': 'best-on-validation: test accuracy at the epoch chosen on validation',
  'best-on-test': '⚠ best-on-TEST: epoch chosen on the test set (optimistic, not a fair estimate)',
  mixed: '⚠ mixed: epoch chosen on validation for some runs, ON TEST for others',
  'last-epoch': 'last epoch: test accuracy after the final epoch',
}

/** The rule as a chart header line (`prefix` names what it applies to, e.g. "student"). */
export function selectionLine(rule: SelectionRule, prefix = ''): { text: string; warn: boolean } {
  const warn = isSelectedOnTest(rule)
  const body = SELECTION_SHORT[rule].replace(/^⚠ /, '')
  return { text: `${warn ? '⚠ ' : ''}${prefix ? `${prefix}: ` : ''}${body}`, warn }
}

/**
 * The rule of a set of finished runs, as compareRuns derives it: last epoch when asked, else by how
 * each run's best epoch was chosen (runs without a result do not count).
 */
export function ruleOfRuns(
  runs: readonly { result?: { selection: 'validation' | 'test (no validation split)' } | null }[],
  metric: 'best' | 'last' = 'best',
): SelectionRule {
  if (metric === 'last') return 'last-epoch'
  const done = runs.filter((r) => r.result)
  const onTest = done.filter((r) => r.result!.selection === 'test (no validation split)').length
  if (onTest === 0) return 'best-on-validation'
  return onTest === done.length ? 'best-on-test' : 'mixed'
}

/** The rule's name alone, for captions and file lists ("Confusion matrix: kd · best-on-validation"). */
export const SELECTION_NAMES: Record<SelectionRule, string> = {
  'best-on-validation': 'best-on-validation',
  'best-on-test': '⚠ best-on-TEST',
  mixed: '⚠ mixed (partly on TEST)',
  'last-epoch': 'last epoch',
}
