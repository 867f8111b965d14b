"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their one-step cells, as in PyTorch.

Same constructor arguments, parameter names and shapes (``weight_ih_l0``,
``weight_hh_l0_reverse``, ``weight_hr_l1`` ...), initialisation (every weight uniform in
``±1/sqrt(hidden_size)``), input layouts (``(T, B, I)``, ``batch_first``, unbatched ``(T, I)``,
:class:`~gradfit.nn.utils.rnn.PackedSequence`) and outputs, so a PyTorch state dict loads
one to one. Each layer and direction runs as one fused graph node
(:mod:`gradfit.ops.rnn`): the input projection of all steps is one matrix product and
backpropagation through time is one loop back over the steps.

Example:
    >>> import gradfit as gf
    >>> lstm = gf.nn.LSTM(input_size=3, hidden_size=5, num_layers=2, batch_first=True)
    >>> out, (h, c) = lstm(gf.randn(4, 7, 3))   # batch 4, 7 steps
    >>> out.shape, h.shape, c.shape
    ((4, 7, 5), (2, 4, 5), (2, 4, 5))
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from gradfit import backend
from gradfit.nn import init
from gradfit.nn.module import Module, Parameter
from gradfit.nn.utils.rnn import PackedSequence, packed_rows, unpack_to_padded
from gradfit.ops.rnn import recurrent
from gradfit.tensor import Tensor

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _positive_int(value: Any, name: str, who: str, allow_zero: bool = False) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool):
        raise TypeError(f"{who}: {name} should be of type int, got: {type(value).__name__}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{who}: {name} must be greater than zero, got {value}")
    return int(value)


class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: parameters, checks, layers and directions.

    Example:
        >>> import gradfit as gf
        >>> [n for n, _ in gf.nn.GRU(2, 3, bidirectional=True).named_parameters()][:3]
        ['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0']
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        who = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(mode, mode)
        if device is not None and str(device) not in ("cpu", "cpu:0"):
            raise RuntimeError(f"{who}: gradfit runs on the CPU only, got device={device!r}")
        if (
            not isinstance(dropout, numbers.Number)
            or isinstance(dropout, bool)
            or not 0 <= dropout <= 1
        ):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an "
                "element being zeroed"
            )
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(
                f"batch_first should be of type bool, got: {type(batch_first).__name__}"
            )
        if not isinstance(bidirectional, bool):
            raise TypeError(
                f"bidirectional should be of type bool, got: {type(bidirectional).__name__}"
            )
        self.input_size = _positive_int(input_size, "input_size", who, allow_zero=True)
        self.hidden_size = _positive_int(hidden_size, "hidden_size", who)
        self.num_layers = _positive_int(num_layers, "num_layers", who)
        self.proj_size = _positive_int(proj_size, "proj_size", who, allow_zero=True)
        if self.proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if self.proj_size >= self.hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                stacklevel=2,
            )
        self.mode = mode
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        dt = backend.default_float if dtype is None else backend.to_dtype(dtype)
        gate = _GATES[mode] * self.hidden_size
        real_hidden = self.proj_size or self.hidden_size
        names = []
        for layer in range(self.num_layers):
            for direction in range(2 if bidirectional else 1):
                in_size = (
                    self.input_size if layer == 0 else real_hidden * (2 if bidirectional else 1)
                )
                sfx = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = [("weight_ih", (gate, in_size)), ("weight_hh", (gate, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate,)), ("bias_hh", (gate,))]
                if self.proj_size:
                    shapes.append(("weight_hr", (self.proj_size, self.hidden_size)))
                for base, shape in shapes:
                    setattr(self, base + sfx, Parameter(Tensor._wrap(np.empty(shape, dt))))
                    names.append(base + sfx)
        self._flat_weights_names = names
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias uniform in ``±1/sqrt(hidden_size)`` (PyTorch's init).

        Example:
            >>> import gradfit as gf
            >>> gf.nn.RNN(2, 4).reset_parameters()
        """
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for name in self._flat_weights_names:
            init.uniform_(getattr(self, name), -stdv, stdv)

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters grouped per layer and direction, as PyTorch's ``all_weights``."""
        per = len(self._flat_weights_names) // (self.num_layers * (2 if self.bidirectional else 1))
        ws = [getattr(self, n) for n in self._flat_weights_names]
        return [ws[i : i + per] for i in range(0, len(ws), per)]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ------------------------------------------------------------------ forward
    def _name(self) -> str:
        return type(self).__name__

    def _prepare(
        self,
        input: Any,  # noqa: A002 - PyTorch's name
        hx: Any,
    ) -> tuple[Tensor, list[Tensor | None], np.ndarray | None, Any, bool]:
        """Time-major padded input, initial states per layer-direction, packing and layout."""
        name = self._name()
        lstm = self.mode == "LSTM"
        D = 2 if self.bidirectional else 1
        P = self.proj_size or self.hidden_size
        packed = isinstance(input, PackedSequence)
        if packed:
            bs = input.batch_sizes.numpy().astype(np.int64)
            data = input.data
            if data.ndim != 2:
                raise ValueError(
                    f"{name}: a packed input's data must be 2-D (sum of lengths, input_size), "
                    f"got shape {tuple(data.shape)}"
                )
            x = unpack_to_padded(data, bs, bs.shape[0])
            batched = True
            sorted_idx = input.sorted_indices
        else:
            if not isinstance(input, Tensor):
                raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
            if input.ndim not in (2, 3):
                raise ValueError(
                    f"{name}: Expected input to be 2D or 3D, got {input.ndim}D "
                    f"{'tensor ' if name == 'RNN' else ''}instead"
                )
            bs = None
            batched = input.ndim == 3
            x = input
            if not batched:
                x = x.unsqueeze(1)
            elif self.batch_first:
                x = x.transpose(0, 1)
            sorted_idx = None
        if x.shape[-1] != self.input_size:
            raise RuntimeError(
                f"{name}: input.size(-1) must be equal to input_size. Expected "
                f"{self.input_size}, got {x.shape[-1]}"
            )
        w = getattr(self, self._flat_weights_names[0])
        if x.dtype != w.dtype:
            raise TypeError(
                f"{name}: input is {x.dtype} but the layer's weights are {w.dtype}; convert the "
                "input (x.float()) or the layer (.double())"
            )
        B = x.shape[1]
        states = [None, None]
        want_h = (self.num_layers * D, B, P)
        want_c = (self.num_layers * D, B, self.hidden_size)
        if hx is not None:
            hs = hx if lstm else (hx,)
            if lstm and (not isinstance(hx, tuple | list) or len(hx) != 2):
                raise TypeError(f"{name}: hx must be a tuple (h_0, c_0)")
            for k, (h, want) in enumerate(zip(hs, (want_h, want_c))):
                if not isinstance(h, Tensor):
                    raise TypeError(f"{name}: hx must hold Tensors, got {type(h).__name__}")
                if not packed:
                    if not batched and h.ndim != 2:
                        raise RuntimeError(
                            f"{name}: For unbatched 2-D input, hx should also be 2-D but got "
                            f"{h.ndim}-D tensor"
                        )
                    if batched and h.ndim != 3:
                        raise RuntimeError(
                            f"{name}: For batched 3-D input, hx should also be 3-D but got "
                            f"{h.ndim}-D tensor"
                        )
                if not batched:
                    h = h.unsqueeze(1)
                if tuple(h.shape) != want:
                    which = f"hidden[{k}]" if lstm else "hidden"
                    raise RuntimeError(f"{name}: Expected {which} size {want}, got {list(h.shape)}")
                if sorted_idx is not None:
                    h = h[:, sorted_idx]
                states[k] = h.to(x.dtype) if h.dtype != x.dtype else h
        return x, states, bs, (packed, batched, input), lstm

    def forward(self, input: Any, hx: Any = None) -> tuple[Any, Any]:  # noqa: A002
        """Run the layers over the sequence; see the class docstring for shapes."""
        x, (h0, c0), bs, (packed, batched, orig), lstm = self._prepare(input, hx)
        T, B = x.shape[0], x.shape[1]
        D = 2 if self.bidirectional else 1
        P = self.proj_size or self.hidden_size
        from gradfit.creation import zeros
        from gradfit.nn.functional import dropout
        from gradfit.ops.shape import cat, stack

        h_n, c_n = [], []
        layer_in = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                k = layer * D + d
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                hk = h0[k] if h0 is not None else zeros(B, P, dtype=x.dtype)
                ck = None
                if lstm:
                    ck = c0[k] if c0 is not None else zeros(B, self.hidden_size, dtype=x.dtype)
                out, h, c = recurrent(
                    self.mode,
                    layer_in,
                    hk,
                    ck,
                    getattr(self, "weight_ih" + sfx),
                    getattr(self, "weight_hh" + sfx),
                    getattr(self, "bias_ih" + sfx) if self.bias else None,
                    getattr(self, "bias_hh" + sfx) if self.bias else None,
                    getattr(self, "weight_hr" + sfx) if self.proj_size else None,
                    reverse=bool(d),
                    batch_sizes=bs,
                )
                outs.append(out)
                h_n.append(h)
                if lstm:
                    c_n.append(c)
            layer_in = outs[0] if D == 1 else cat(outs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = dropout(layer_in, self.dropout, training=True)
        h_n_t = stack(h_n, 0)
        c_n_t = stack(c_n, 0) if lstm else None
        if packed:
            rows = Tensor._wrap(packed_rows(bs, B))
            data = layer_in.reshape(T * B, layer_in.shape[2])[rows]
            output: Any = PackedSequence(
                data, orig.batch_sizes, orig.sorted_indices, orig.unsorted_indices
            )
            if orig.unsorted_indices is not None:
                h_n_t = h_n_t[:, orig.unsorted_indices]
                if lstm:
                    c_n_t = c_n_t[:, orig.unsorted_indices]
        else:
            output = layer_in
            if not batched:
                output = output.squeeze(1)
                h_n_t = h_n_t.squeeze(1)
                c_n_t = c_n_t.squeeze(1) if lstm else None
            elif self.batch_first:
                output = output.transpose(0, 1)
        return output, ((h_n_t, c_n_t) if lstm else h_n_t)


class RNN(RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or ReLU).

    Args:
        input_size, hidden_size: features in and state width.
        num_layers: stacked layers (each reads the previous one's outputs).
        nonlinearity: ``"tanh"`` (default) or ``"relu"``.
        bias: learn ``b_ih`` and ``b_hh``.
        batch_first: inputs and outputs are ``(B, T, *)`` (states stay ``(layers, B, H)``).
        dropout: dropout on the outputs of every layer but the last, in training.
        bidirectional: a second pass from the end; outputs of both concatenated.

    Shape:
        input ``(T, B, I)`` / ``(B, T, I)`` / ``(T, I)`` or a PackedSequence; ``h_0``
        ``(D*layers, B, H)``; output ``(T, B, D*H)``; ``h_n`` ``(D*layers, B, H)``.

    Example:
        >>> import gradfit as gf
        >>> out, h = gf.nn.RNN(4, 6, nonlinearity="relu")(gf.randn(5, 2, 4))
        >>> out.shape, h.shape
        ((5, 2, 6), (1, 2, 6))
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(
                f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        super().__init__(mode, *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory: input, forget, cell and output gates (PyTorch's order i, f, g, o).

    ``c_t = f c_{t-1} + i g``, ``h_t = o tanh(c_t)``; with ``proj_size > 0`` the hidden
    state is projected, ``h_t = (o tanh(c_t)) W_hr^T`` (size ``proj_size``). Arguments as
    :class:`RNN`, plus ``proj_size``; ``hx`` and the final state are tuples ``(h, c)``.

    Example:
        >>> import gradfit as gf
        >>> out, (h, c) = gf.nn.LSTM(3, 8, proj_size=2)(gf.randn(4, 1, 3))
        >>> out.shape, h.shape, c.shape
        ((4, 1, 2), (1, 1, 2), (1, 1, 8))
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit (reset ``r``, update ``z``, new ``n``; PyTorch's equations).

    ``n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn))``, ``h_t = (1 - z) n + z h_{t-1}``.
    Arguments and shapes as :class:`RNN`.

    Example:
        >>> import gradfit as gf
        >>> out, h = gf.nn.GRU(3, 5, batch_first=True, bidirectional=True)(gf.randn(2, 6, 3))
        >>> out.shape, h.shape
        ((2, 6, 10), (2, 2, 5))
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__("GRU", *args, **kwargs)


# --------------------------------------------------------------------------- cells


class RNNCellBase(Module):
    """One step of a recurrent layer: ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``.

    Example:
        >>> import gradfit as gf
        >>> sorted(n for n, _ in gf.nn.GRUCell(2, 3).named_parameters())
        ['bias_hh', 'bias_ih', 'weight_hh', 'weight_ih']
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        who = type(self).__name__
        if device is not None and str(device) not in ("cpu", "cpu:0"):
            raise RuntimeError(f"{who}: gradfit runs on the CPU only, got device={device!r}")
        self.input_size = _positive_int(input_size, "input_size", who, allow_zero=True)
        self.hidden_size = _positive_int(hidden_size, "hidden_size", who)
        self.bias = bias
        self.mode = mode
        dt = backend.default_float if dtype is None else backend.to_dtype(dtype)
        gate = _GATES[mode] * self.hidden_size
        self.weight_ih = Parameter(Tensor._wrap(np.empty((gate, self.input_size), dt)))
        self.weight_hh = Parameter(Tensor._wrap(np.empty((gate, self.hidden_size), dt)))
        if bias:
            self.bias_ih = Parameter(Tensor._wrap(np.empty((gate,), dt)))
            self.bias_hh = Parameter(Tensor._wrap(np.empty((gate,), dt)))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias uniform in ``±1/sqrt(hidden_size)``."""
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nl = getattr(self, "nonlinearity", "tanh")
        if nl != "tanh":
            s += f", nonlinearity={nl}"
        return s

    def _step(self, input: Tensor, hx: Any) -> Any:  # noqa: A002
        name = type(self).__name__
        lstm = self.mode == "LSTM"
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if x.shape[1] != self.input_size:
            raise RuntimeError(
                f"{name}: input has inconsistent input_size: got {x.shape[1]} expected "
                f"{self.input_size}"
            )
        B = x.shape[0]
        from gradfit.creation import zeros

        if hx is None:
            h = zeros(B, self.hidden_size, dtype=x.dtype)
            c = zeros(B, self.hidden_size, dtype=x.dtype) if lstm else None
        else:
            pair = hx if lstm else (hx,)
            if lstm and (not isinstance(hx, tuple | list) or len(hx) != 2):
                raise TypeError(f"{name}: hx must be a tuple (h_0, c_0)")
            fixed = []
            for t in pair:
                if not isinstance(t, Tensor):
                    raise TypeError(f"{name}: hx must hold Tensors, got {type(t).__name__}")
                if t.ndim != input.ndim:
                    raise ValueError(
                        f"{name}: Expected hidden to be {input.ndim}D like the input, got "
                        f"{t.ndim}D instead"
                    )
                t2 = t if batched else t.unsqueeze(0)
                if tuple(t2.shape) != (B, self.hidden_size):
                    raise RuntimeError(
                        f"{name}: Input batch size {B} doesn't match hidden batch size / size: "
                        f"expected {(B, self.hidden_size)}, got {tuple(t2.shape)}"
                    )
                fixed.append(t2)
            h = fixed[0]
            c = fixed[1] if lstm else None
        _, h1, c1 = recurrent(
            self.mode,
            x.unsqueeze(0),
            h,
            c,
            self.weight_ih,
            self.weight_hh,
            self.bias_ih,
            self.bias_hh,
        )
        if not batched:
            h1 = h1.squeeze(0)
            c1 = c1.squeeze(0) if lstm else None
        return (h1, c1) if lstm else h1


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or ReLU).

    Example:
        >>> import gradfit as gf
        >>> gf.nn.RNNCell(3, 4)(gf.randn(2, 3)).shape
        (2, 4)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        return self._step(input, hx)


class LSTMCell(RNNCellBase):
    """One LSTM step; ``hx`` and the result are ``(h, c)``.

    Example:
        >>> import gradfit as gf
        >>> h, c = gf.nn.LSTMCell(3, 4)(gf.randn(2, 3))
        >>> h.shape, c.shape
        ((2, 4), (2, 4))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__("LSTM", input_size, hidden_size, bias, device, dtype)

    def forward(
        self,
        input: Tensor,  # noqa: A002
        hx: tuple[Tensor, Tensor] | None = None,
    ) -> tuple[Tensor, Tensor]:
        return self._step(input, hx)


class GRUCell(RNNCellBase):
    """One GRU step.

    Example:
        >>> import gradfit as gf
        >>> gf.nn.GRUCell(3, 4)(gf.randn(3)).shape
        (4,)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__("GRU", input_size, hidden_size, bias, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        return self._step(input, hx)
