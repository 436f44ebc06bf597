#!/usr/bin/python3
"""Golden values of the distillation losses (float64, PyTorch autograd), in the format of
../shared/golden/losses.json, with other shapes and hyperparameters than that file.

The formulas restate ../shared/TFKD-SPEC.md in the repository's form (nn.KLDivLoss() with the
`elementwise_mean` reduction = sum / (N*K), T^2 where the repository has it, multiplier m, virtual
teacher v = softmax(p_d / T)), plus the `batchmean` and `studentTemperature: tau` options.

Usage (Debian's PyTorch: apt-get install -y python3-torch):
  /usr/bin/python3 scripts/golden-losses.py > test/fixtures/golden-losses-alt.json
  /usr/bin/python3 scripts/golden-losses.py --check ../shared/golden/losses.json   # reproduce a file
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
    if variant in ('kd', 're-kd', 'de-kd', 'tfkd-self'):
        T = p['temperature']
        m = p.get('multiplier', 1) if variant == 'tfkd-self' else 1
        d = kl(F.log_softmax(t / T, dim=1), F.log_softmax(z / T, dim=1), p['reduction'])
        return (1 - p['alpha']) * ce + p['alpha'] * T * T * m * d
    if variant == 'tfkd-reg':
        T, a = p['temperature'], p['correctProb']
        pd = torch.full_like(z, (1 - a) / (K - 1))
        pd[torch.arange(len(y)), y] = a
        log_v = F.log_softmax(pd / T, dim=1)
        zs = z / T if p['studentTemperature'] == 'tau' else z
        d = kl(log_v, F.log_softmax(zs, dim=1), p['reduction'])
        return (1 - p['alpha']) * ce + p['alpha'] * p['multiplier'] * d
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
                 'shared/golden/losses.json with other shapes (N 1-8, K 2-100) and hyperparameters '
                 '(edge cases alpha 0 and 1, eps 0, T < 1, variants re-kd and de-kd named). '
                 'gradLogits is dLoss/dLogits.',
        'tolerance': {'lossRelative': 1e-4, 'gradAbsolute': 1e-5},
        'cases': cases,
    }


if __name__ == '__main__':
    if len(sys.argv) > 2 and sys.argv[1] == '--check':
        sys.exit(0 if check(sys.argv[2]) else 1)
    json.dump(generate(), sys.stdout, indent=1)
    sys.stdout.write('\n')
