/**
 * The reproduction study end to end, as a user runs it: `tfkd reproduce --scale smoke` on mnist-10k
 * in a real process (real training, 25 runs), its Markdown and HTML reports, `tfkd report` in every
 * format, and the HTML report opened in real Chromium with its figures (screenshot in
 * docs/screenshots/report.png). The smoke scale must finish in under 10 minutes on a 2-core CPU.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { afterAll, describe, expect, it } from 'vitest'
import { ROOT, tempHome } from '../helpers'
import { runTfkd } from '../support/cli'

const home = tempHome('tfkd-reproduce-')
afterAll(() => home.cleanup())
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const TEN_MINUTES = 10 * 60_000

const tfkd = (args: string[], timeout = 60_000) => runTfkd(home.dir, args, timeout)

describe('tfkd reproduce (smoke) and tfkd report', () => {
  const out = join(home.dir, 'report')
  let wallMs = 0

  it(
    'runs the smoke study in under 10 minutes and writes a report naming the four claims with verdicts',
    () => {
      const t0 = Date.now()
      const r = tfkd(
        [
          'reproduce',
          '--dataset',
          'mnist-10k',
          '--scale',
          'smoke',
          '--seeds',
          '3',
          '--out',
          out,
          '--no-progress',
        ],
        TEN_MINUTES,
      )
      wallMs = Date.now() - t0
      process.stderr.write(`tfkd reproduce --scale smoke: ${(wallMs / 1000).toFixed(0)} s wall\n`)
      expect(r.signal, 'the smoke study ran past 10 minutes').toBeNull()
      expect(r.code, r.err).toBe(0)
      expect(r.out).toMatch(/25 runs \(4 teachers\)/)
      for (const title of [
        /\(a\) KD from a weaker teacher/,
        /\(b\) A poorly trained teacher/,
        /\(c\) Tf-KD self/,
        /\(d\) Tf-KD reg/,
      ])
        expect(r.out).toMatch(title)
      // The smoke scale checks the pipeline: no verdicts, its regime stated.
      expect(r.out).toMatch(/^PIPELINE CHECK: NO VERDICTS\s+\(a\)/m)
      expect(r.out).not.toMatch(/^(SUPPORTED|NOT REPRODUCED IN THIS REGIME|INCONCLUSIVE|INVALID PREMISE)\s/m)
      expect(r.out).toContain('K = 10 classes; hyperparameters: K-matched')
      expect(r.out).toMatch(/^Baseline (converged|UNCONVERGED|convergence: unknown)/m)
      // every claim still states its power
      expect(r.out).toMatch(/With 3 seeds and a seed-difference sd of \d+\.\d\d pp/)
      const md = readFileSync(join(out, 'tfkd-report-1.md'), 'utf8')
      // the claims table: four rows, each with a verdict, a p-value and an effect size
      const rows = md.split('\n').filter((l) => /^\| \([abcd]\) /.test(l))
      expect(rows).toHaveLength(4)
      for (const row of rows) {
        const cells = row.split(' | ')
        expect(cells[1]).toBe('**pipeline check: no verdicts**')
        expect(cells[4]).toMatch(/^[+-]?\d+\.\d\d$/) // delta in pp
        expect(cells[7]).toMatch(/^(\d\.\d{4}|\d\.\de[-+]\d+)$/) // p
        expect(cells[9]).toMatch(/^-?\d+\.\d\d$|^-$/) // d_z
      }
      // measured teacher accuracies in the premises and the teachers table
      expect(md).toMatch(/The Re-KD \(weaker\) teacher scored \d+\.\d\d% on the test split/)
      expect(md).toMatch(/The De-KD teacher snapshot \(epoch 1\).* \d+\.\d\d%/)
      expect(md).toMatch(/\| \d+ \| resnet8 \| \d+ \| \d+\.\d\d \| 6 \|/)
      expect(md).toContain('Numbers: **Test accuracy at the epoch chosen on validation**')
      expect(md).toContain('tfkd reproduce --dataset mnist-10k --scale smoke --seeds 3')
      expect(md).toMatch(/backends: (wasm|tensorflow|cpu|webgpu|tensorflow-gpu)/)
      expect(md).toContain("The paper's numbers (CIFAR-100 top-1 %, other architectures, selected on test):")
      expect(md).toContain('## Appendix: per-variant results')
    },
    TEN_MINUTES + 60_000,
  )

  it('tfkd report writes md, latex and html of the same experiment', () => {
    const md = tfkd(['report', '--experiment', '1', '--format', 'md'])
    expect(md.code).toBe(0)
    expect(md.out).toMatch(/^# Reproduction report: reproduce the paper \(smoke\) on mnist-10k, 3 seeds/)
    const tex = tfkd(['report', '--experiment', '1', '--format', 'latex'])
    expect(tex.out).toContain('\\begin{tabular}{llrrrrrl}')
    expect(tex.out).toMatch(/\(a\) KD from a weaker teacher.* & pipeline check: no verdicts \\\\/)
    const bad = tfkd(['report', '--experiment', '1', '--format', 'pdf'])
    expect(bad.code).toBe(2)
    expect(bad.err).toMatch(/--format must be one of md, latex, html, got "pdf"/)
    const missing = tfkd(['report', '--experiment', '99'])
    expect(missing.err).toMatch(/experiment 99 not found/)
  })

  it('the HTML report opens in Chromium with its figures', async () => {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI === 'true') throw new Error(`no Chromium at ${CHROMIUM}: .ci/run installs it`)
      console.warn(`skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`)
      return
    }
    const html = join(out, 'tfkd-report-1.html')
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu'],
    })
    try {
      const page = await browser.newPage({ viewport: { width: 1240, height: 1400 } })
      const errors: string[] = []
      page.on('pageerror', (e) => errors.push(e.message))
      await page.goto(`file://${html}`)
      expect(await page.locator('#claims tr').count()).toBe(5) // header + 4 claims
      // figures: the curves, the De-KD plot and one dot plot per comparison (6), each with marks
      const figures = page.locator('figure svg')
      expect(await figures.count()).toBeGreaterThanOrEqual(8)
      expect(await page.locator('figure svg circle').count()).toBeGreaterThan(30)
      const box = await figures.first().boundingBox()
      expect(box!.width).toBeGreaterThan(300)
      expect(errors).toEqual([])
      mkdirSync(join(ROOT, 'docs/screenshots'), { recursive: true })
      await page.screenshot({ path: join(ROOT, 'docs/screenshots/report.png'), fullPage: false })
    } finally {
      await browser.close()
    }
  })
})
