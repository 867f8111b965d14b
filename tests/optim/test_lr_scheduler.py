"""Every scheduler's lr sequence equals torch.optim.lr_scheduler's; state_dict round trips."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

import gradfit as gf
from gradfit.optim import lr_scheduler as S

TS = torch.optim.lr_scheduler
LRS = [0.1, 0.03]


def _optimizers(kind="sgd"):
    """gradfit and torch optimizers with two parameter groups (different lrs)."""
    gp = [gf.zeros(2, requires_grad=True), gf.zeros(3, requires_grad=True)]
    tp = [torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)]
    if kind == "sgd":
        g = gf.optim.SGD(
            [{"params": [gp[0]]}, {"params": [gp[1]], "lr": LRS[1]}], lr=LRS[0], momentum=0.9
        )
        t = torch.optim.SGD(
            [{"params": [tp[0]]}, {"params": [tp[1]], "lr": LRS[1]}], lr=LRS[0], momentum=0.9
        )
    else:
        g = gf.optim.Adam([{"params": [gp[0]]}, {"params": [gp[1]], "lr": LRS[1]}], lr=LRS[0])
        t = torch.optim.Adam([{"params": [tp[0]]}, {"params": [tp[1]], "lr": LRS[1]}], lr=LRS[0])
    return g, t


def _momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def _run(opt, sched, steps, metrics=None):
    """The lrs (and momenta) after construction and after each of ``steps`` steps."""
    lrs, moms = [sched.get_last_lr()], [_momenta(opt)]
    for k in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[k])
        lrs.append(sched.get_last_lr())
        moms.append(_momenta(opt))
        assert [g["lr"] for g in opt.param_groups] == list(lrs[-1])
    return np.array(lrs, dtype=float), np.array(moms, dtype=float)


CASES = {
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda e: 0.95**e + 0.01 * (e % 3)),
    "LambdaLR-per-group": lambda m, o: m.LambdaLR(o, [lambda e: 1 / (1 + e), lambda e: 0.9**e]),
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[10, 30, 30, 75], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.97),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=30, eta_min=0.001),
    "CosineAnnealingLR-long": lambda m, o: m.CosineAnnealingLR(o, T_max=100),
    "WarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=10, eta_min=1e-4),
    "WarmRestarts-Tmult": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.1, total_iters=20),
    "LinearLR-down": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=60),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=10),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=100),
    "OneCycleLR-three-phase": lambda m, o: m.OneCycleLR(
        o, max_lr=1.0, total_steps=100, three_phase=True
    ),
    "OneCycleLR-linear": lambda m, o: m.OneCycleLR(
        o,
        max_lr=0.8,
        epochs=10,
        steps_per_epoch=10,
        pct_start=0.25,
        anneal_strategy="linear",
        base_momentum=0.8,
        max_momentum=0.9,
        div_factor=10.0,
        final_div_factor=100.0,
    ),
    "OneCycleLR-no-momentum": lambda m, o: m.OneCycleLR(
        o, max_lr=1.0, total_steps=120, cycle_momentum=False
    ),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o,
        [m.LinearLR(o, start_factor=0.01, total_iters=10), m.CosineAnnealingLR(o, T_max=90)],
        milestones=[10],
    ),
    "SequentialLR-three": lambda m, o: m.SequentialLR(
        o,
        [m.ConstantLR(o, factor=0.5, total_iters=5), m.ExponentialLR(o, 0.9), m.StepLR(o, 10)],
        milestones=[5, 40],
    ),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lambda e: 0.97 if e % 4 else 1.01),
    "MultiplicativeLR-per-group": lambda m, o: m.MultiplicativeLR(
        o, [lambda e: 0.99, lambda e: 1.0 - 0.001 * e]
    ),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=60, power=2.0),
    "PolynomialLR-default": lambda m, o: m.PolynomialLR(o),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler(
        [m.LinearLR(o, start_factor=0.1, total_iters=10), m.ExponentialLR(o, gamma=0.98)]
    ),
    "ChainedScheduler-optimizer": lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.5, total_iters=7), m.StepLR(o, 9, 0.7)], optimizer=o
    ),
    "CyclicLR": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=7),
    "CyclicLR-triangular2": lambda m, o: m.CyclicLR(
        o, [0.01, 0.002], [0.2, 0.05], step_size_up=5, step_size_down=15, mode="triangular2"
    ),
    "CyclicLR-exp_range": lambda m, o: m.CyclicLR(
        o, 0.01, 0.3, step_size_up=10, mode="exp_range", gamma=0.98, base_momentum=0.7
    ),
    "CyclicLR-no-momentum": lambda m, o: m.CyclicLR(
        o, 0.01, 0.1, step_size_up=3, cycle_momentum=False
    ),
    "CyclicLR-scale_fn": lambda m, o: m.CyclicLR(
        o, 0.01, 0.1, step_size_up=6, scale_fn=lambda x: 1 / (1 + 0.01 * x), scale_mode="iterations"
    ),
}


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_lr_sequence_equals_torch(name, kind):
    gopt, topt = _optimizers(kind)
    g_lrs, g_moms = _run(gopt, CASES[name](S, gopt), 100)
    t_lrs, t_moms = _run(topt, CASES[name](TS, topt), 100)
    np.testing.assert_allclose(g_lrs, t_lrs, rtol=1e-13, atol=0)
    np.testing.assert_allclose(g_moms, t_moms, rtol=1e-13, atol=0)


def test_onecycle_cycles_momentum_inversely_to_lr():
    gopt, _ = _optimizers("sgd")
    lrs, moms = _run(gopt, S.OneCycleLR(gopt, max_lr=1.0, total_steps=100), 99)
    peak = int(np.argmax(lrs[:, 0]))
    assert peak == 29 and lrs[peak, 0] == pytest.approx(1.0)
    assert moms[0, 0] == pytest.approx(0.95) and moms[peak, 0] == pytest.approx(0.85)
    assert moms[-1, 0] == pytest.approx(0.95)
    assert lrs[-1, 0] == pytest.approx(1.0 / 25 / 1e4)


def test_onecycle_stepping_past_total_steps_is_an_error():
    gopt, _ = _optimizers()
    sched = S.OneCycleLR(gopt, max_lr=1.0, total_steps=3, cycle_momentum=False)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="total_steps"):
        sched.step()


REDUCE_CASES = [
    {},
    {"patience": 3, "factor": 0.5},
    {"patience": 2, "factor": 0.5, "cooldown": 4, "threshold": 0.05},
    {"mode": "max", "patience": 2, "threshold_mode": "abs", "threshold": 0.01},
    {"patience": 1, "factor": 0.2, "min_lr": [0.01, 0.001]},
    {"patience": 1, "factor": 0.5, "min_lr": 1e-3, "eps": 1e-3},
    {"mode": "max", "patience": 0, "factor": 0.9, "threshold_mode": "rel"},
]


@pytest.mark.parametrize("kwargs", REDUCE_CASES, ids=str)
def test_reduce_lr_on_plateau_equals_torch(kwargs):
    rng = np.random.default_rng(0)
    # falls, then plateaus with noise, falls again, plateaus
    metrics = np.concatenate(
        [
            np.linspace(1.0, 0.5, 20),
            0.5 + 0.02 * rng.standard_normal(30),
            np.linspace(0.5, 0.2, 10),
            0.2 + 0.01 * rng.standard_normal(40),
        ]
    ).tolist()
    gopt, topt = _optimizers()
    g_lrs, _ = _run(gopt, S.ReduceLROnPlateau(gopt, **kwargs), 100, metrics)
    t_lrs, _ = _run(topt, TS.ReduceLROnPlateau(topt, **kwargs), 100, metrics)
    np.testing.assert_allclose(g_lrs, t_lrs, rtol=1e-13, atol=0)
    assert len(np.unique(g_lrs[:, 0])) > 1 or kwargs == {}


def test_reduce_lr_on_plateau_accepts_a_tensor_metric():
    gopt, _ = _optimizers()
    sched = S.ReduceLROnPlateau(gopt, patience=0)
    sched.step(gf.tensor(1.0))
    sched.step(gf.tensor([2.0]))
    assert sched.get_last_lr() == pytest.approx([0.01, 0.003])


# ----------------------------------------------------------------------------- state_dict
RESUMABLE = sorted(CASES) + ["ReduceLROnPlateau"]


def _make(name, opt):
    if name == "ReduceLROnPlateau":
        return S.ReduceLROnPlateau(opt, patience=2, factor=0.5, cooldown=1)
    return CASES[name](S, opt)


def _drive(name, opt, sched, start, steps, lrs):
    for k in range(start, start + steps):
        opt.step()
        if name == "ReduceLROnPlateau":
            sched.step(1.0 / (1 + k) if k < 10 else 0.1 + 0.001 * (k % 3))
        else:
            sched.step()
        lrs.append([g["lr"] for g in opt.param_groups] + _momenta(opt))


@pytest.mark.parametrize("name", RESUMABLE)
def test_scheduler_state_dict_round_trip_resumes_exactly(name):
    ref_opt, _ = _optimizers()
    ref_sched = _make(name, ref_opt)
    ref: list[list[float]] = []
    _drive(name, ref_opt, ref_sched, 0, 40, ref)

    opt, _ = _optimizers()
    sched = _make(name, opt)
    got: list[list[float]] = []
    _drive(name, opt, sched, 0, 20, got)
    # checkpoints store these as JSON: strict JSON (no Infinity/NaN) must work
    opt_meta = json.loads(json.dumps(opt.state_dict()["param_groups"], allow_nan=False))
    opt_state = opt.state_dict()["state"]
    sched_state = json.loads(json.dumps(sched.state_dict(), allow_nan=False))

    opt2, _ = _optimizers()
    sched2 = _make(name, opt2)
    opt2.load_state_dict({"state": opt_state, "param_groups": opt_meta})
    sched2.load_state_dict(sched_state)
    assert sched2.get_last_lr() == sched.get_last_lr()
    _drive(name, opt2, sched2, 20, 20, got)
    assert got == ref


def test_lambda_lr_state_dict_does_not_store_functions():
    gopt, _ = _optimizers()

    class Warmup:
        def __init__(self, n):
            self.n = n

        def __call__(self, e):
            return min(1.0, (e + 1) / self.n)

    sched = S.LambdaLR(gopt, [lambda e: 1.0, Warmup(5)])
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [None, {"n": 5}]
    json.dumps(sd, allow_nan=False)
    other = Warmup(99)
    S.LambdaLR(gopt, [lambda e: 1.0, other]).load_state_dict(sd)
    assert other.n == 5


def test_reduce_lr_on_plateau_state_dict_keeps_infinite_best():
    gopt, _ = _optimizers()
    sched = S.ReduceLROnPlateau(gopt, mode="max")
    sd = json.loads(json.dumps(sched.state_dict(), allow_nan=False))
    fresh = S.ReduceLROnPlateau(gopt, mode="max")
    fresh.load_state_dict(sd)
    assert fresh.best == -math.inf


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("factory", "bad"),
    [
        (lambda o: S.StepLR(o, step_size=0), "step_size"),
        (lambda o: S.LinearLR(o, start_factor=0.0), "start_factor"),
        (lambda o: S.LinearLR(o, end_factor=1.5), "end_factor"),
        (lambda o: S.LinearLR(o, total_iters=0), "total_iters"),
        (lambda o: S.ConstantLR(o, factor=2.0), "factor"),
        (lambda o: S.CosineAnnealingLR(o, T_max=0), "T_max"),
        (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=0), "T_0"),
        (lambda o: S.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=0), "T_mult"),
        (lambda o: S.OneCycleLR(o, max_lr=1.0), "total_steps"),
        (lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=1.5), "pct_start"),
        (lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="x"), "anneal"),
        (lambda o: S.OneCycleLR(o, max_lr=[1.0], total_steps=10), "max_lr"),
        (lambda o: S.ReduceLROnPlateau(o, factor=1.0), "factor"),
        (lambda o: S.ReduceLROnPlateau(o, mode="up"), "mode"),
        (lambda o: S.ReduceLROnPlateau(o, threshold_mode="x"), "threshold_mode"),
        (lambda o: S.ReduceLROnPlateau(o, min_lr=[0.1]), "min_lr"),
        (lambda o: S.LambdaLR(o, [lambda e: 1.0]), "lr_lambdas"),
        (lambda o: S.SequentialLR(o, [S.StepLR(o, 2)], milestones=[3]), "milestone"),
        (lambda o: S.SequentialLR(o, [S.ReduceLROnPlateau(o), S.StepLR(o, 2)], [3]), "ReduceLR"),
        (lambda o: S.PolynomialLR(o, total_iters=0), "total_iters"),
        (lambda o: S.MultiplicativeLR(o, [lambda e: 1.0]), "lr_lambdas"),
        (lambda o: S.ChainedScheduler([]), "at least one"),
        (lambda o: S.ChainedScheduler([S.ReduceLROnPlateau(o)]), "ReduceLROnPlateau"),
        (lambda o: S.CyclicLR(o, 0.1, 1.0, mode="sawtooth"), "mode"),
        (lambda o: S.CyclicLR(o, [0.1], 1.0), "base_lr"),
        (lambda o: S.CyclicLR(o, 0.1, [1.0, 2.0, 3.0]), "max_lr"),
        (lambda o: S.CyclicLR(o, 0.1, 1.0, step_size_up=0), "step_size_up"),
    ],
)
def test_scheduler_validation_errors_name_the_argument(factory, bad):
    gopt, _ = _optimizers()
    with pytest.raises(ValueError, match=bad):
        factory(gopt)


def test_onecycle_needs_momentum_or_betas():
    opt = gf.optim.Adagrad([gf.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="cycle_momentum"):
        S.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    S.OneCycleLR(opt, max_lr=1.0, total_steps=10, cycle_momentum=False)


def test_torch_raises_where_gradfit_does():
    """The new schedulers' errors are torch's types too (a torch optimizer, same arguments)."""
    _, topt = _optimizers()
    for make in (
        lambda: TS.MultiplicativeLR(topt, [lambda e: 1.0]),
        lambda: TS.ChainedScheduler([]),
        lambda: TS.ChainedScheduler([TS.ReduceLROnPlateau(topt)]),
        lambda: TS.CyclicLR(topt, 0.1, 1.0, mode="sawtooth"),
        lambda: TS.CyclicLR(topt, [0.1], 1.0),
    ):
        with pytest.raises(ValueError):
            make()


def test_cyclic_lr_needs_momentum_or_betas_unless_told():
    opt = gf.optim.Adagrad([gf.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="cycle_momentum"):
        S.CyclicLR(opt, 0.1, 1.0)
    with pytest.raises(ValueError, match="momentum"):
        TS.CyclicLR(torch.optim.Adagrad([torch.zeros(1, requires_grad=True)]), 0.1, 1.0)
    S.CyclicLR(opt, 0.1, 1.0, cycle_momentum=False)


def test_chained_scheduler_refuses_schedulers_of_another_optimizer():
    a, _ = _optimizers()
    b, _ = _optimizers()
    with pytest.raises(ValueError, match="same optimizer"):
        S.ChainedScheduler([S.StepLR(a, 2), S.StepLR(b, 2)])


def test_scheduler_needs_a_gradfit_optimizer():
    _, topt = _optimizers()
    with pytest.raises(TypeError, match="Optimizer"):
        S.StepLR(topt, step_size=2)
