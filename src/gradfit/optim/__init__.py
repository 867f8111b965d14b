"""``gf.optim``: optimizers (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam,
ASGD, Rprop, LBFGS), learning-rate schedules, LR finder.

Names and semantics follow ``torch.optim``: build an optimizer from ``model.parameters()``,
call ``zero_grad()``, ``loss.backward()``, ``step()`` each mini-batch, and optionally a
scheduler from :mod:`gradfit.optim.lr_scheduler` after it.

Example:
    >>> import gradfit as gf
    >>> w = gf.tensor([4.0], requires_grad=True)
    >>> opt = gf.optim.SGD([w], lr=0.1)
    >>> sched = gf.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (w * w).sum().backward(); opt.step(); sched.step()
    >>> sched.get_last_lr()
    [0.025]
"""

from __future__ import annotations

from gradfit.optim import lr_finder, lr_scheduler
from gradfit.optim.adadelta import Adadelta
from gradfit.optim.adagrad import Adagrad
from gradfit.optim.adam import Adam
from gradfit.optim.adamax import Adamax
from gradfit.optim.adamw import AdamW
from gradfit.optim.asgd import ASGD
from gradfit.optim.lbfgs import LBFGS
from gradfit.optim.nadam import NAdam
from gradfit.optim.optimizer import Optimizer
from gradfit.optim.radam import RAdam
from gradfit.optim.rmsprop import RMSprop
from gradfit.optim.rprop import Rprop
from gradfit.optim.sgd import SGD

__all__ = [
    "ASGD",
    "LBFGS",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "Rprop",
    "lr_finder",
    "lr_scheduler",
]
