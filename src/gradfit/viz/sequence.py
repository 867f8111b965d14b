"""Seeing sequence models: backpropagation through time, and attention maps.

* :func:`unrolled_rnn` builds a short Elman RNN one step at a time from elementary
  operations and draws its graph: the same ``W_hh`` enters every step, so its gradient is
  a sum over time (backpropagation through time is the chain rule on this unrolled graph).
  gradfit's ``nn.RNN`` computes the same thing as one fused node per layer.
* :func:`attention_maps` runs a transformer ``char_lm`` on one input and returns every
  block's attention weights, per head; :func:`plot_attention` draws them as heat maps
  (query position down, key position across).

Example:
    >>> import gradfit as gf
    >>> g = gf.viz.unrolled_rnn(steps=3)
    >>> g.dot.count("Tanh") >= 3
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gradfit.tensor import Tensor


def unrolled_rnn(steps: int = 3, input_size: int = 2, hidden_size: int = 3, seed: int = 0) -> Any:
    """The graph of an Elman RNN unrolled over ``steps`` time steps (a :class:`~gradfit.viz.Graph`).

    ``h_t = tanh(x_t W_ih^T + h_{t-1} W_hh^T + b)``, the loss is the sum of the last state;
    the parameters are named ``W_ih``, ``W_hh`` and ``b`` in the drawing.

    Example:
        >>> import gradfit as gf
        >>> gf.viz.unrolled_rnn(steps=2).dot.count("W_hh")
        1
    """
    if not isinstance(steps, int) or isinstance(steps, bool) or not 1 <= steps <= 12:
        raise ValueError(f"unrolled_rnn: steps must be an integer from 1 to 12, got {steps!r}")
    from gradfit.viz.graph import draw_graph

    rng = np.random.default_rng(seed)

    def param(*shape: int) -> Tensor:
        return Tensor(rng.standard_normal(shape).astype(np.float32) * 0.5, requires_grad=True)

    w_ih, w_hh, b = (
        param(hidden_size, input_size),
        param(hidden_size, hidden_size),
        param(hidden_size),
    )
    h = Tensor(np.zeros((1, hidden_size), np.float32))
    for _ in range(steps):
        x = Tensor(rng.standard_normal((1, input_size)).astype(np.float32))
        h = (x @ w_ih.T + h @ w_hh.T + b).tanh()
    loss = h.sum()
    return draw_graph(loss, params={"W_ih": w_ih, "W_hh": w_hh, "b": b}, collapse=False)


def attention_maps(model: Any, x: Any) -> np.ndarray:
    """Attention weights of every block and head of a transformer on one input.

    Args:
        model: a ``gf.models.char_lm(arch="transformer")`` (any module whose transformer
            blocks are ``nn.TransformerEncoderLayer`` works).
        x: one input, e.g. ``(block_size,)`` character indices (a batch of one is also fine).

    Returns:
        ``(blocks, heads, T, T)``: row ``i`` of a map is how query position ``i`` spreads
        its attention over the key positions.

    Example:
        >>> import gradfit as gf
        >>> m = gf.models.char_lm(arch="transformer", block_size=4, embed=8, heads=2)
        >>> attention_maps(m, gf.zeros(4, dtype="int64")).shape
        (2, 2, 4, 4)
    """
    from gradfit.autograd import no_grad
    from gradfit.nn.transformer import TransformerEncoderLayer

    layers = [m for m in model.modules() if isinstance(m, TransformerEncoderLayer)]
    if not layers:
        raise ValueError(
            f"attention_maps: {type(model).__name__} has no TransformerEncoderLayer (train a "
            "char_lm with arch='transformer')"
        )
    if not isinstance(x, Tensor):
        x = Tensor(np.asarray(x))
    if x.ndim == 1:
        x = x.unsqueeze(0)
    captured: list[tuple[Any, Any]] = []

    def grab(layer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        src = args[0]
        mask = args[1] if len(args) > 1 else kwargs.get("src_mask")
        captured.append((src, mask))

    handles = []
    for layer in layers:
        handles.append(layer.register_forward_pre_hook(grab, with_kwargs=True))
    was = model.training
    model.eval()
    try:
        with no_grad():
            model(x)
            maps = []
            for layer, (src, mask) in zip(layers, captured):
                inp = layer.norm1(src) if layer.norm_first else src
                _, w = layer.self_attn(inp, inp, inp, attn_mask=mask, need_weights=True,
                                       average_attn_weights=False)  # fmt: skip
                maps.append(w.numpy()[0])
    finally:
        for h in handles:
            h.remove()
        model.train(was)
    return np.stack(maps)


def plot_attention(maps: np.ndarray, tokens: list[str] | str | None = None) -> Any:
    """Heat maps of :func:`attention_maps`'s output: one row of panels per block, one per head.

    Example:
        >>> import numpy as np
        >>> fig = plot_attention(np.full((1, 2, 3, 3), 1 / 3), "abc")
        >>> len(fig.axes)
        2
    """
    from gradfit.viz._util import new_figure

    maps = np.asarray(maps)
    if maps.ndim != 4 or maps.shape[2] != maps.shape[3]:
        raise ValueError(
            f"plot_attention: expected (blocks, heads, T, T) weights, got {maps.shape}"
        )
    nb, nh, T, _ = maps.shape
    labels = list(tokens) if tokens is not None else [str(i) for i in range(T)]
    if len(labels) != T:
        raise ValueError(f"plot_attention: {len(labels)} tokens for {T} positions")
    fig = new_figure(figsize=(2.2 * nh + 0.5, 2.2 * nb + 0.3))
    for b in range(nb):
        for h in range(nh):
            ax = fig.add_subplot(nb, nh, b * nh + h + 1)
            ax.imshow(maps[b, h], vmin=0.0, vmax=1.0, cmap="viridis")
            ax.set_xticks(range(T), labels, fontsize=7)
            ax.set_yticks(range(T), labels, fontsize=7)
            ax.set_title(f"block {b} head {h}", fontsize=8)
    return fig
