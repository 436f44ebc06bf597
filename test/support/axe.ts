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

/**
 * What a reader cannot see or read in the page as laid out now, one line each:
 * - the page scrolls sideways;
 * - text reaching past the window's right or left edge, unless a scroll region holds it (a wide
 *   table that scrolls inside its card is fine);
 * - text cut off by a box that hides its overflow (an ellipsis included: the words are gone);
 * - a word of letters broken across two lines (`word-break: break-all` breaks "available" into
 *   "availa" / "ble"; paths and ids may wrap at any character and are not counted).
 */
export async function layoutProblems(page: Page): Promise<string[]> {
  return (await page.evaluate(`(() => {
    const out = []
    const doc = document.documentElement
    if (doc.scrollWidth > doc.clientWidth) out.push('the page scrolls sideways by ' + (doc.scrollWidth - doc.clientWidth) + 'px')
    const W = window.innerWidth
    const name = (el) => {
      const id = el.closest('[data-testid]')
      return el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
        (id ? ' in [data-testid="' + id.dataset.testid + '"]' : '') + ' "' + (el.textContent || '').trim().slice(0, 40) + '"'
    }
    const visible = (el) => {
      const s = getComputedStyle(el)
      if (s.display === 'none' || s.visibility === 'hidden') return false
      if (el.closest('.sr-only, [aria-hidden="true"], svg')) return false
      const r = el.getBoundingClientRect()
      return r.width > 0 && r.height > 0
    }
    const scroller = (el) => {
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        const ox = getComputedStyle(a).overflowX
        if (ox === 'auto' || ox === 'scroll') return a
      }
      return null
    }
    const ownText = (el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== '')
    const seen = new Set()
    for (const el of document.querySelectorAll('body *')) {
      if (!visible(el)) continue
      const s = getComputedStyle(el)
      // Cut off by its own box: hidden overflow (or an ellipsis) with more content than room.
      if ((s.overflowX === 'hidden' || s.overflowX === 'clip' || s.textOverflow === 'ellipsis') &&
          el.scrollWidth > el.clientWidth + 1 && (el.textContent || '').trim() !== '' &&
          !['INPUT', 'SELECT', 'TEXTAREA', 'BUTTON'].includes(el.tagName) && el.clientWidth > 0) {
        out.push('text cut off (' + el.scrollWidth + 'px in ' + el.clientWidth + 'px): ' + name(el))
      }
      if (!ownText(el)) continue
      const r = el.getBoundingClientRect()
      if ((r.right > W + 0.5 || r.left < -0.5) && !scroller(el)) {
        out.push('text outside the window (' + Math.round(r.left) + '..' + Math.round(r.right) + ' of ' + W + '): ' + name(el))
      }
      // Words broken mid-word: a run of letters whose range spans two lines.
      for (const n of el.childNodes) {
        if (n.nodeType !== 3) continue
        const re = /[A-Za-z]{4,}/g
        let m
        while ((m = re.exec(n.textContent))) {
          const range = document.createRange()
          range.setStart(n, m.index)
          range.setEnd(n, m.index + m[0].length)
          const tops = new Set([...range.getClientRects()].filter((q) => q.width > 0).map((q) => Math.round(q.top)))
          if (tops.size > 1) {
            const key = name(el) + m[0]
            if (!seen.has(key)) out.push('word "' + m[0] + '" broken across lines: ' + name(el))
            seen.add(key)
          }
        }
      }
    }
    return out
  })()`)) as string[]
}
