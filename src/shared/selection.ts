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
