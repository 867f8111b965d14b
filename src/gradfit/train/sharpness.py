"""``TrackSharpness``: record the loss surface's curvature while a model trains.

Every ``every`` epochs (and after the first and the last) the callback finds the top
eigenvalue of the Hessian of the training loss on a fixed batch, by power iteration on
Hessian-vector products (:func:`gradfit.viz.top_hessian_eigenvalue`), and adds it to
the epoch's row of the history as ``sharpness``. Gradient descent with learning rate
``lr`` is stable on a quadratic only while that eigenvalue stays below ``2 / lr``, so
the column read beside the ``lr`` column tells how close a run trains to its edge of
stability; ``gradfit viz curvature RUN`` draws the two (``gradfit train
--track-curvature K`` turns the callback on).

The cost is ``iters`` Hessian-vector products (about two backward passes each) on
``len(inputs)`` samples, every ``every`` epochs. The model is evaluated in eval mode
(dropout off, batch normalisation with its running statistics), so the value is that of
the network the checkpoint holds; its weights, gradients and mode are left as they were.

Example:
    >>> import gradfit as gf
    >>> _ = gf.manual_seed(0)
    >>> x, y = gf.randn(32, 3), gf.randn(32, 1)
    >>> model = gf.nn.Linear(3, 1)
    >>> opt = gf.optim.SGD(model.parameters(), lr=0.1)
    >>> cb = TrackSharpness(x, y, every=2, iters=10)
    >>> loader = gf.data.DataLoader(gf.data.TensorDataset(x, y), batch_size=8)
    >>> t = gf.train.Trainer(model, gf.nn.MSELoss(), opt, metrics=(), callbacks=[cb])
    >>> h = t.fit(loader, epochs=3)
    >>> [r["epoch"] for r in h if "sharpness" in r]
    [1, 2, 3]
"""

from __future__ import annotations

from typing import Any

from gradfit.train.callbacks import Callback


class TrackSharpness(Callback):
    """Add ``sharpness`` (the top Hessian eigenvalue of the loss on ``inputs``, ``targets``)
    to the history every ``every`` epochs, after the first and after the last.

    Args:
        inputs, targets: the fixed batch the loss is taken on (a few hundred samples of the
            training data are plenty: the value is a property of the loss surface).
        every: epochs between two measurements (``>= 1``).
        iters: power-iteration steps (Hessian-vector products) per measurement.
        loss_fn: the loss (default the trainer's own ``loss_fn``; an L1 penalty is left out).

    Register it before the callbacks that write the history (``CSVLogger``,
    ``ModelCheckpoint``) so the files hold the value; ``gradfit train`` does.

    Example:
        >>> import gradfit as gf
        >>> TrackSharpness(gf.zeros(4, 2), gf.zeros(4), every=5).every
        5
    """

    def __init__(
        self, inputs: Any, targets: Any, every: int = 1, iters: int = 20, loss_fn: Any = None
    ) -> None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"TrackSharpness: every must be a positive integer, got {every!r}")
        if isinstance(iters, bool) or not isinstance(iters, int) or iters < 1:
            raise ValueError(f"TrackSharpness: iters must be a positive integer, got {iters!r}")
        if len(inputs) != len(targets) or len(inputs) == 0:
            raise ValueError(
                f"TrackSharpness: inputs and targets must be non-empty and of the same length, "
                f"got {len(inputs)} and {len(targets)}"
            )
        self.inputs, self.targets = inputs, targets
        self.every, self.iters, self.loss_fn = every, iters, loss_fn
        self.checked = False

    def _top(self, model: Any, loss_fn: Any, iters: int) -> float:
        from gradfit.viz.curvature import top_hessian_eigenvalue

        was_training = getattr(model, "training", False)
        model.eval()
        try:
            return top_hessian_eigenvalue(
                model, self.loss_fn or loss_fn, self.inputs, self.targets, iters
            )
        finally:
            model.train(was_training)

    def check(self, model: Any, loss_fn: Any) -> None:
        """Two Hessian-vector products (the second reuses the first's graph, as every
        measurement does), before any training: a model with a layer whose gradient
        cannot be differentiated again raises ``NotImplementedError`` now, not after its
        first epoch.

        Example:
            >>> import gradfit as gf
            >>> cb = TrackSharpness(gf.randn(4, 2), gf.randn(4, 1))
            >>> cb.check(gf.nn.Linear(2, 1), gf.nn.MSELoss())
            >>> cb.checked
            True
        """
        try:
            self._top(model, loss_fn, 2)
        except NotImplementedError as e:
            raise NotImplementedError(
                f"TrackSharpness needs second derivatives of the loss, and {e}"
            ) from None
        self.checked = True

    def measure(self, trainer: Any) -> float:
        """The top Hessian eigenvalue of the loss at the trainer's current weights."""
        return self._top(trainer.model, trainer.loss_fn, self.iters)

    def on_fit_start(self, trainer: Any) -> None:
        if not self.checked:
            self.check(trainer.model, trainer.loss_fn)

    def on_epoch_end(self, trainer: Any, logs: dict[str, Any]) -> None:
        epoch = int(logs.get("epoch", trainer.epoch))
        last = epoch >= getattr(trainer, "epochs", epoch) or trainer.stop_training
        if epoch != 1 and epoch % self.every and not last:
            return
        value = self.measure(trainer)
        logs["sharpness"] = value
        if len(trainer.history) and trainer.history.rows[-1].get("epoch") == epoch:
            trainer.history.rows[-1]["sharpness"] = value  # the history holds a copy of logs
