#!/usr/bin/python3
"""Golden values of the distillation losses (float64, PyTorch autograd): losses and gradients with
respect to the student logits, from the formulas restated below.

The Tf-KD variants follow the authors' repository (nn.KLDivLoss() with the `elementwise_mean`
reduction = sum / (N*K), T^2 where the repository has it, multiplier m, virtual teacher
v = softmax(p_d / T)), plus the `batchmean` and `studentTemperature: tau` options. The later logit
baselines follow their reference code: DKD (mdistiller's dkd_loss: TCKD on the binary split through
a softmax mask, NCKD with the target logit minus 1000, at warm-up factor 1), DIST (the official
inter/intra-class Pearson relations, eps 1e-8) and logit standardization (row z-score with the
unbiased std, divided by std + 1e-7, in the distillation term only).

Usage (Debian's PyTorch: apt-get install -y python3-torch):
  # the repository's golden file: its Tf-KD cases recomputed from their inputs, the later baselines'
  # cases (dkd, dist, kd and others with standardize) generated from a fixed seed
  /usr/bin/python3 scripts/golden-losses.py --main test/fixtures/golden-losses.json > golden.json
  mv golden.json test/fixtures/golden-losses.json
  # other shapes and hyperparameters for the Tf-KD variants
  /usr/bin/python3 scripts/golden-losses.py > test/fixtures/golden-losses-alt.json
  # reproduce a file to 1e-10 (loss, relative) and 1e-12 (gradient)
  /usr/bin/python3 scripts/golden-losses.py --check test/fixtures/golden-losses.json
"""
import json
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def kl(log_p, log_q, reduction):
    """KL(P || Q) summed, divided by N*K (elementwise_mean) or N (batchmean)."""
    total = (log_p.exp() * (log_p - log_q)).sum()
    n, k = log_p.shape
    return total / (n * k) if reduction == 'elementwise_mean' else total / n


def standardize(x):
    """Logit standardization (Sun et al., CVPR 2024): row z-score, unbiased std, divided by std + 1e-7."""
    mean = x.mean(dim=-1, keepdim=True)
    std = x.std(dim=-1, keepdim=True)
    return (x - mean) / (1e-7 + std)


def dkd(z, t, y, alpha, beta, T):
    """mdistiller's dkd_loss (Zhao et al., CVPR 2022), without CE and warm-up (w = 1)."""
    gt = torch.zeros_like(z).scatter_(1, y.unsqueeze(1), 1)
    other = 1 - gt
    ps = F.softmax(z / T, dim=1)
    pt = F.softmax(t / T, dim=1)
    cat = lambda p: torch.cat([(p * gt).sum(1, keepdims=True), (p * other).sum(1, keepdims=True)], dim=1)
    bs, bt = cat(ps), cat(pt)
    tckd = F.kl_div(torch.log(bs), bt, reduction='sum') * T ** 2 / z.shape[0]
    pt2 = F.softmax(t / T - 1000.0 * gt, dim=1)
    ls2 = F.log_softmax(z / T - 1000.0 * gt, dim=1)
    nckd = F.kl_div(ls2, pt2, reduction='sum') * T ** 2 / z.shape[0]
    return alpha * tckd + beta * nckd


def pearson(a, b, eps=1e-8):
    a = a - a.mean(1, keepdim=True)
    b = b - b.mean(1, keepdim=True)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1) + eps)


def dist(z, t, beta, gamma, T):
    """DIST (Huang et al., NeurIPS 2022): T^2 (beta inter + gamma intra), without CE."""
    ys, yt = F.softmax(z / T, dim=1), F.softmax(t / T, dim=1)
    inter = 1 - pearson(ys, yt).mean()
    intra = 1 - pearson(ys.transpose(0, 1), yt.transpose(0, 1)).mean()
    return T ** 2 * (beta * inter + gamma * intra)


def loss(variant, p, z, y, t):
    K = z.shape[1]
    ce = F.cross_entropy(z, y)
    if variant == 'baseline':
        return ce
    if variant == 'lsr':
        eps = p['epsilon']
        s = torch.full_like(z, eps / (K - 1))
        s[torch.arange(len(y)), y] = 1 - eps
        return -(s * F.log_softmax(z, dim=1)).sum(1).mean()
    zd, td = (standardize(z), standardize(t)) if p.get('standardize') else (z, t)
    if variant in ('kd', 're-kd', 'de-kd', 'tfkd-self', 'kd-std'):
        T = p['temperature']
        m = p.get('multiplier', 1)
        d = kl(F.log_softmax(td / T, dim=1), F.log_softmax(zd / T, dim=1), p['reduction'])
        return (1 - p['alpha']) * ce + p['alpha'] * T * T * m * d
    if variant == 'tfkd-reg':
        T, a = p['temperature'], p['correctProb']
        pd = torch.full_like(z, (1 - a) / (K - 1))
        pd[torch.arange(len(y)), y] = a
        log_v = F.log_softmax(pd / T, dim=1)
        zs = z / T if p['studentTemperature'] == 'tau' else z
        d = kl(log_v, F.log_softmax(zs, dim=1), p['reduction'])
        return (1 - p['alpha']) * ce + p['alpha'] * p['multiplier'] * d
    if variant == 'dkd':
        return ce + dkd(zd, td, y, p['alpha'], p['beta'], p['temperature'])
    if variant == 'dist':
        return ce + dist(z, t, p['beta'], p['gamma'], p['temperature'])
    raise ValueError(variant)


def evaluate(case):
    z = torch.tensor(case['logits'], requires_grad=True)
    y = torch.tensor(case['labels'], dtype=torch.long)
    t = torch.tensor(case['teacherLogits']) if 'teacherLogits' in case else None
    value = loss(case['variant'], case['params'], z, y, t)
    (grad,) = torch.autograd.grad(value, z)
    return value.item(), grad.tolist()


def check(path):
    data = json.load(open(path))
    worst_l, worst_g = 0.0, 0.0
    for c in data['cases']:
        value, grad = evaluate(c)
        rel = abs(value - c['loss']) / max(abs(c['loss']), 1e-12)
        g = max(abs(a - b) for ra, rb in zip(grad, c['gradLogits']) for a, b in zip(ra, rb))
        worst_l, worst_g = max(worst_l, rel), max(worst_g, g)
        print(f"{c['name']:>14}  loss rel {rel:.2e}  grad abs {g:.2e}")
    print(f'worst: loss rel {worst_l:.2e}, grad abs {worst_g:.2e}')
    return worst_l < 1e-10 and worst_g < 1e-12


def generate():
    g = torch.Generator().manual_seed(20240611)

    def case(i, variant, params, n, k, scale=3.0, teacher=True, teacher_scale=4.0):
        z = torch.randn(n, k, generator=g) * scale
        y = torch.randint(0, k, (n,), generator=g)
        c = {'name': f'{variant}-alt-{i}', 'variant': variant, 'params': params,
             'logits': z.tolist(), 'labels': y.tolist()}
        if teacher:
            c['teacherLogits'] = (torch.randn(n, k, generator=g) * teacher_scale).tolist()
        value, grad = evaluate(c)
        c['loss'], c['gradLogits'] = value, grad
        return c

    specs = [
        ('baseline', {}, 7, 3, 5.0, False),
        ('baseline', {}, 1, 100, 2.0, False),
        ('lsr', {'epsilon': 0.2}, 5, 7, 3.0, False),
        ('lsr', {'epsilon': 0.0}, 3, 4, 3.0, False),
        ('lsr', {'epsilon': 0.5}, 2, 2, 2.0, False),
        ('kd', {'alpha': 0.7, 'temperature': 3, 'reduction': 'elementwise_mean'}, 6, 5, 3.0, True),
        ('re-kd', {'alpha': 0.6, 'temperature': 20, 'reduction': 'elementwise_mean'}, 3, 37, 3.0, True),
        ('de-kd', {'alpha': 0.95, 'temperature': 1, 'reduction': 'batchmean'}, 8, 10, 2.0, True),
        ('kd', {'alpha': 0.0, 'temperature': 2.5, 'reduction': 'batchmean'}, 2, 6, 3.0, True),
        ('kd', {'alpha': 1.0, 'temperature': 8, 'reduction': 'elementwise_mean'}, 4, 3, 6.0, True),
        ('tfkd-self', {'alpha': 0.9, 'temperature': 20, 'multiplier': 100,
                       'reduction': 'elementwise_mean'}, 5, 20, 3.0, True),
        ('tfkd-self', {'alpha': 0.4, 'temperature': 2, 'multiplier': 3, 'reduction': 'batchmean'},
         3, 8, 3.0, True),
        ('tfkd-reg', {'alpha': 0.95, 'temperature': 10, 'multiplier': 1, 'correctProb': 0.99,
                      'studentTemperature': 'one', 'reduction': 'elementwise_mean'}, 5, 100, 3.0, True),
        ('tfkd-reg', {'alpha': 0.3, 'temperature': 2, 'multiplier': 50, 'correctProb': 0.7,
                      'studentTemperature': 'tau', 'reduction': 'elementwise_mean'}, 4, 6, 3.0, False),
        ('tfkd-reg', {'alpha': 0.8, 'temperature': 0.5, 'multiplier': 2, 'correctProb': 0.6,
                      'studentTemperature': 'one', 'reduction': 'batchmean'}, 3, 5, 2.0, False),
        ('tfkd-reg', {'alpha': 0.5, 'temperature': 40, 'multiplier': 1, 'correctProb': 0.95,
                      'studentTemperature': 'tau', 'reduction': 'batchmean'}, 2, 50, 4.0, True),
    ]
    cases = [case(i, v, p, n, k, s, t) for i, (v, p, n, k, s, t) in enumerate(specs)]
    return {
        'about': 'Alternative distillation loss golden values (float64 PyTorch autograd), generated by '
                 'scripts/golden-losses.py from the formulas of TFKD-SPEC.md, same format as '
                 'test/fixtures/golden-losses.json with other shapes (N 1-8, K 2-100) and hyperparameters '
                 '(edge cases alpha 0 and 1, eps 0, T < 1, variants re-kd and de-kd named). '
                 'gradLogits is dLoss/dLogits.',
        'tolerance': {'lossRelative': 1e-4, 'gradAbsolute': 1e-5},
        'cases': cases,
    }


LATER_BASELINES = ('dkd', 'dist', 'kd-std')


def later_baseline_cases():
    """Cases of dkd, dist and standardize (kd, kd-std, re-kd, tfkd-self, dkd): K 2 to 100, large logits."""
    g = torch.Generator().manual_seed(20241208)

    def case(name, variant, params, n, k, scale, teacher_scale):
        z = torch.randn(n, k, generator=g) * scale
        y = torch.randint(0, k, (n,), generator=g)
        t = torch.randn(n, k, generator=g) * teacher_scale
        c = {'name': name, 'variant': variant, 'params': params, 'logits': z.tolist(), 'labels': y.tolist(),
             'teacherLogits': t.tolist()}
        c['loss'], c['gradLogits'] = evaluate(c)
        return c

    dkd_p = lambda **o: {'alpha': 1, 'beta': 8, 'temperature': 4, 'warmupEpochs': 20, 'standardize': False, **o}
    dist_p = lambda **o: {'beta': 1, 'gamma': 1, 'temperature': 1, **o}
    kd_p = lambda **o: {'alpha': 0.95, 'temperature': 20, 'multiplier': 1, 'reduction': 'elementwise_mean',
                        'standardize': True, **o}
    specs = [
        ('dkd-defaults-k10', 'dkd', dkd_p(), 8, 10, 3.0, 4.0),
        ('dkd-k2', 'dkd', dkd_p(), 6, 2, 2.0, 3.0),
        ('dkd-k100', 'dkd', dkd_p(alpha=0.5, beta=2), 4, 100, 3.0, 5.0),
        ('dkd-large-logits', 'dkd', dkd_p(temperature=1), 5, 7, 30.0, 40.0),
        ('dkd-standardize', 'dkd', dkd_p(standardize=True, temperature=2), 6, 12, 5.0, 8.0),
        ('dist-defaults-k10', 'dist', dist_p(), 8, 10, 3.0, 4.0),
        ('dist-cifar-k100', 'dist', dist_p(beta=2, gamma=2, temperature=4), 6, 100, 3.0, 5.0),
        ('dist-k2', 'dist', dist_p(beta=1.5, gamma=0.5, temperature=2), 5, 2, 2.0, 3.0),
        ('dist-large-logits', 'dist', dist_p(temperature=4), 4, 9, 30.0, 40.0),
        ('kd-standardize-k10', 'kd', kd_p(), 8, 10, 3.0, 4.0),
        ('kd-standardize-k2', 'kd', kd_p(temperature=2, reduction='batchmean'), 6, 2, 2.0, 3.0),
        ('kd-standardize-k100', 'kd', kd_p(alpha=0.9, temperature=4, multiplier=2), 3, 100, 3.0, 5.0),
        ('kd-standardize-large-logits', 'kd', kd_p(temperature=2), 5, 6, 50.0, 80.0),
        ('kd-std-defaults', 'kd-std', kd_p(alpha=0.9, temperature=2, multiplier=10, reduction='batchmean'),
         6, 10, 3.0, 4.0),
        ('re-kd-standardize', 're-kd', kd_p(alpha=0.6, temperature=3), 4, 5, 3.0, 2.0),
        ('tfkd-self-standardize', 'tfkd-self', kd_p(multiplier=0.1, temperature=4), 4, 10, 3.0, 3.0),
    ]
    return [case(*spec) for spec in specs]


def main_file(path):
    """The repository's golden file: its Tf-KD cases recomputed from their inputs, plus the later baselines."""
    data = json.load(open(path))
    base = [c for c in data['cases'] if c['variant'] not in LATER_BASELINES and not c['params'].get('standardize')]
    for c in base:
        c['loss'], c['gradLogits'] = evaluate(c)
    data['cases'] = base + later_baseline_cases()
    data['about'] = data['about'].split(' Later baselines:')[0] + (
        ' Later baselines: dkd (mdistiller dkd_loss at warm-up factor 1: CE + alpha TCKD + beta NCKD), dist '
        '(CE + T^2 (beta inter + gamma intra), Pearson = cosine of mean-centred vectors, eps 1e-8) and '
        'standardize: true (row z-score, unbiased std, / (std + 1e-7), distillation term only); '
        'regenerate with scripts/golden-losses.py --main.')
    return data


if __name__ == '__main__':
    if len(sys.argv) > 2 and sys.argv[1] == '--check':
        sys.exit(0 if check(sys.argv[2]) else 1)
    out = main_file(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[1] == '--main' else generate()
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write('\n')
