#!/usr/bin/env python3
"""Writes test/fixtures/lr-schedule-repository.json: the learning rate of every optimizer step of the
Tf-KD repository's 200-epoch CIFAR-100 recipe, replayed with PyTorch's own schedulers.

What is replayed (yuanli2333/Teacher-free-Knowledge-Distillation, main.py + train_kd.py):
- SGD(lr = 0.1 x batch / 128, momentum 0.9, weight decay 5e-4);
- a warm-up scheduler over the first epoch's iterations, stepped before each batch of epoch 0, whose
  rate is base x last_epoch / (total_iters + 1e-8) (the repository's utils.WarmUpLR);
- MultiStepLR(milestones=[60, 120, 160], gamma=0.2), created after the warm-up scheduler and stepped
  at the start of every epoch > 0: with the 0-based epoch (`scheduler.step(epoch)`, train_and_evaluate)
  and without it (`scheduler.step()`, train_and_evaluate_kd). Both paths are recorded.

Regenerate (Debian: apt-get install python3-torch):  /usr/bin/python3 scripts/lr-schedule-fixture.py
"""
import json
import os
import warnings

import torch
from torch.optim.lr_scheduler import MultiStepLR, _LRScheduler

warnings.filterwarnings("ignore")

EPOCHS = 200
STEPS_PER_EPOCH = 7  # small and odd, so the warm-up's per-iteration ramp is visible
BATCH = 128
LR = 0.1
MILESTONES = [60, 120, 160]
GAMMA = 0.2


class WarmUpLR(_LRScheduler):
    """Linear warm-up over total_iters steps, as the repository defines it."""

    def __init__(self, optimizer, total_iters, last_epoch=-1):
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base_lr * self.last_epoch / (self.total_iters + 1e-8) for base_lr in self.base_lrs]


def replay(with_epoch_argument):
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=LR * BATCH / 128, momentum=0.9, weight_decay=5e-4)
    warm = WarmUpLR(opt, STEPS_PER_EPOCH * 1)
    sched = MultiStepLR(opt, milestones=MILESTONES, gamma=GAMMA)
    lrs = []
    for epoch in range(EPOCHS):
        if epoch > 0:
            if with_epoch_argument:
                sched.step(epoch)
            else:
                sched.step()
        for _ in range(STEPS_PER_EPOCH):
            if epoch <= 0:
                warm.step()
            # the rate this optimizer step uses
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
    return lrs


out = {
    "generator": "scripts/lr-schedule-fixture.py",
    "torch": torch.__version__,
    "config": {
        "learningRate": LR,
        "batchSize": BATCH,
        "lrSchedule": "multistep",
        "warmupEpochs": 1,
        "lrMilestones": MILESTONES,
        "lrGamma": GAMMA,
        "epochs": EPOCHS,
    },
    "stepsPerEpoch": STEPS_PER_EPOCH,
    "baselinePath": replay(True),
    "kdPath": replay(False),
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "lr-schedule-repository.json")
with open(path, "w") as f:
    json.dump(out, f)
    f.write("\n")
print(f"wrote {path}: {len(out['baselinePath'])} steps")
