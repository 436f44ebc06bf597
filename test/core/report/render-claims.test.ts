/**
 * The claim parts of the rendered report (md, html, latex) from a real evaluation: the deciding
 * interval with its level, d_z with its interval, power, the Holm family, the margin's source, and
 * premises as sentences that say first whether they are met (no bare ✔ / ✘).
 */
import { describe, expect, it } from 'vitest'
import { evaluateStudy, type StudyStudent } from '../../../src/core/analysis/claims'
import { renderReport } from '../../../src/core/report/render'
import type { ReproReport } from '../../../src/shared/reproduce'
import type { VariantId } from '../../../src/shared/types'

const N = 2000
const baseK = [1800, 1810, 1790, 1805, 1795]
const students = (variant: VariantId, d: number[], teacher: number | null = null): StudyStudent[] =>
  baseK.map((k, i) => ({
    variant,
    seed: i + 1,
    accuracy: (k + d[i]!) / N,
    teacherAccuracy: teacher,
    teacherSplit: teacher === null ? null : 'test',
    teacherEpoch: variant === 'de-kd' ? 1 : null,
    teacherId: variant,
    teacherSnapshot: variant === 'de-kd' ? 'epoch 1' : null,
    teacherFellBack: false,
  }))

function report(): ReproReport {
  const all = [
    ...students('baseline', [0, 0, 0, 0, 0]),
    ...students('lsr', [14, 16, 15, 13, 15]),
    ...students('kd', [22, 24, 20, 23, 21], 0.95),
    ...students('re-kd', [4, -3, 2, 0, 1], 0.8),
    ...students('de-kd', [16, 18, 17, 19, 15], null),
    ...students('tfkd-self', [22, 23, 21, 24, 22], 0.946),
    ...students('tfkd-reg', [22, 22, 20, 24, 21]),
  ]
  const { claims, family } = evaluateStudy(all, { resolution: 1 / N })
  return {
    experimentId: 7,
    name: 'synthetic',
    datasetName: 'mnist-10k',
    study: { scale: 'small', seeds: 5, margin: 0.5 },
    regime: null,
    appendix: null,
    selection: 'best-on-validation',
    alpha: 0.05,
    margin: 0.005,
    marginSource: 'plan',
    family,
    resolution: 1 / N,
    claims,
    perSeed: all.map((s) => ({ variant: s.variant, seed: s.seed, accuracy: s.accuracy })),
    curves: [],
    deKd: [],
    teachers: [],
    runCounts: {},
    config: null,
    environment: {
      appVersion: 'test',
      node: 'v22',
      platform: 'linux x64',
      cpu: 'cpu',
      cores: 2,
      memoryGiB: 4,
      backends: [],
      devices: [],
    },
    command: 'tfkd reproduce --dataset mnist-10k --scale small --seeds 5',
    warnings: [],
    createdAt: 0,
  }
}

describe('the claims in the rendered report', () => {
  const r = report()

  it('markdown: verdicts, the deciding interval and its level, d_z interval, power, family, premises', () => {
    const md = renderReport(r, 'md')
    const rows = md.split('\n').filter((l) => /^\| \([abcd]\) /.test(l))
    expect(rows.map((l) => l.split(' | ')[1])).toEqual([
      '**inconclusive**',
      '**unverified premise**',
      '**invalid premise**',
      '**supported**',
    ])
    // decisive CI "[lo, hi] at 99.x%", d_z interval, detectable effect, seeds for the paper's effect
    const a = rows[0]!.split(' | ')
    expect(a[6]).toMatch(/^\[[+-]\d+\.\d\d, [+-]\d+\.\d\d\] at \d+\.?\d*%$/)
    expect(a[10]).toMatch(/^\[-?\d+\.\d\d, -?\d+\.\d\d\]$/)
    expect(a[11]).toMatch(/^\d+\.\d\d$/)
    expect(a[12]).toMatch(/^\d+$|^> 100$/)
    expect(md).toContain('**Verdict: inconclusive** (no decision for re-kd vs baseline: Δ +0.04 pp')
    expect(md).toMatch(/80% power only for differences of \d+\.\d\d pp or more/)
    expect(md).toMatch(
      /^Power: With 5 seeds and a seed-difference sd of \d\.\d\d pp, re-kd vs baseline detects/m,
    )
    expect(md).toContain('(margin fixed in the plan before the study ran)')
    expect(md).toContain(`Holm family (${r.family.length} comparisons): re-kd vs baseline (improves);`)
    expect(md).toMatch(
      /^- NOT met: the self-teacher is the student trained normally: not measurably different from the baseline student\. The Tf-KD self-teacher scored 94\.60% on the test split, measurably above the baseline student's 90\.00%/m,
    )
    expect(md).toMatch(/^- Unverified: the De-KD teacher snapshot \(epoch 1\) is poor/m)
    expect(md).toMatch(/^- Met: the normal-KD teacher is measurably stronger/m)
    expect(md).toContain('| tfkd-reg vs kd (comparable (TOST)) |')
    expect(md).toContain('| kd vs baseline (reference check: improves) |')
    expect(md).not.toMatch(/✔|✘/)
  })

  it('html and latex carry the same verdicts, family and premise sentences', () => {
    const html = renderReport(r, 'html')
    expect(html).toContain('<td class="v bad">invalid premise</td>')
    expect(html).toContain('<td class="v meh">unverified premise</td>')
    expect(html).toMatch(/id="family">Holm family \(\d+ comparisons\)/)
    expect(html).toContain('<li class="bad">NOT met: the self-teacher is the student trained normally')
    expect(html).toMatch(/<p class="power">Power: With 5 seeds/)
    const tex = renderReport(r, 'latex')
    expect(tex).toMatch(/\(c\) Tf-KD self.* & invalid premise \\\\/)
    expect(tex).toMatch(
      /\\textbf\{\(b\) A poorly trained teacher.*\}: unverified premise .*Unverified: the De-KD/,
    )
    expect(tex).toContain('decisive CI (pp)')
  })
})
