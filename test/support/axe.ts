/**
 * Accessibility and layout checks the e2e tests share: axe-core (injected into the page) and the
 * page's sideways scroll. Findings come back as readable lines so a failing `toEqual([])` shows them.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Page } from 'playwright-core'

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js')

/** axe-core's serious and critical violations in the page (or under `selector`), one line each. */
export async function seriousAxeViolations(page: Page, selector?: string): Promise<string[]> {
  if (!(await page.evaluate('typeof window.axe !== "undefined"'))) {
    await page.addScriptTag({ content: readFileSync(AXE, 'utf8') })
  }
  const context = selector ? `document.querySelector(${JSON.stringify(selector)})` : 'document'
  return (await page.evaluate(`
    window.axe.run(${context}, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })
      .then((r) => r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) =>
        '[' + v.impact + '] ' + v.id + ' (' + v.help + '): ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')))
  `)) as string[]
}

/** How far the page scrolls sideways, in CSS pixels (0: it does not). */
export const sidewaysScroll = (page: Page): Promise<number> =>
  page.evaluate(
    'document.documentElement.scrollWidth - document.documentElement.clientWidth',
  ) as Promise<number>
