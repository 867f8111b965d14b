"""scikit-learn's MLPClassifier: the same architecture, one epoch of SGD with momentum."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from benchmarks.contenders import common


def mlp_epoch(p: dict[str, Any]) -> Callable[[], float]:
    sizes = common.mlp_sizes(p["width"])
    x, y = common.classification_data(p["n"], sizes[:1], seed=p["seed"])

    def epoch() -> float:
        clf = MLPClassifier(
            hidden_layer_sizes=sizes[1:-1],
            activation="relu",
            solver="sgd",
            alpha=0.0,
            batch_size=p["batch"],
            learning_rate_init=common.LR,
            momentum=common.MOMENTUM,
            nesterovs_momentum=False,
            max_iter=1,
            shuffle=True,
            random_state=p["seed"],
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(x, y)
        return float(clf.loss_)

    return epoch
