"""Ready-made architectures, each buildable from a plain JSON-able config dict.

Every builder (``mlp``, ``cnn``, ``cnn1d``, ``logistic``, ``linear``,
``matrix_factorization``) returns a :class:`gradfit.nn.Module` that carries its
complete config as ``model.config``: a dict with the model's ``"name"`` and every
argument of the builder (defaults filled in, tuples as lists), so that
``build_model(model.config)`` rebuilds the same architecture without the user's
code. A checkpoint stores that dict as JSON beside the weights, and
``load_model(config, state_dict)`` rebuilds a model from the two safely, even
when the config comes from an untrusted file.

Example:
    >>> import gradfit as gf
    >>> model = gf.models.mlp([64, 32, 10])
    >>> model.config
    {'name': 'mlp', 'sizes': [64, 32, 10], 'activation': 'relu', 'dropout': 0.0, 'batch_norm': False}
    >>> clone = gf.models.build_model(model.config)
    >>> [k for k in clone.state_dict()] == [k for k in model.state_dict()]
    True
    >>> gf.models.list_models()
    ['char_lm', 'cnn', 'cnn1d', 'gru', 'linear', 'logistic', 'lstm', 'matrix_factorization', 'mlp']
"""

from __future__ import annotations

import copy
import functools
import inspect
import itertools
import math
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gradfit import nn
from gradfit.nn.module import Module, Parameter
from gradfit.tensor import Tensor

__all__ = [
    "CNN",
    "CNN1d",
    "MatrixFactorization",
    "build_model",
    "cnn",
    "cnn1d",
    "linear",
    "list_models",
    "load_model",
    "logistic",
    "matrix_factorization",
    "mlp",
    "model_config",
    "register_model",
    "replace_head",
]

_ACTIVATIONS: dict[str, str] = {
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "elu": "ELU",
    "gelu": "GELU",
    "silu": "SiLU",
    "sigmoid": "Sigmoid",
    "tanh": "Tanh",
    "softplus": "Softplus",
}


# ---------------------------------------------------------------------------- registry
@dataclass
class _Entry:
    builder: Callable[..., Module]  # the raw builder (no config bookkeeping)
    public: Callable[..., Module]  # the wrapped builder users call
    head_key: str | None  # config key that holds the number of outputs ("sizes" = last entry)


_REGISTRY: dict[str, _Entry] = {}


def _jsonable(value: Any, where: str) -> Any:
    """Normalise a config value to plain JSON types (tuples become lists)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, where) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, where) for k, v in value.items()}
    raise TypeError(
        f"{where}: value {value!r} of type {type(value).__name__} is not JSON-able "
        "(use numbers, strings, booleans, lists)"
    )


def _bind(name: str, fn: Callable[..., Any], args: tuple, kwargs: dict) -> dict[str, Any]:
    sig = inspect.signature(fn)
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as e:
        valid = ", ".join(sig.parameters)
        raise TypeError(f"model {name!r}: {e}; its arguments are: {valid}") from None
    bound.apply_defaults()
    return {k: _jsonable(v, f"model {name!r} argument {k!r}") for k, v in bound.arguments.items()}


def register_model(
    name: str, head_key: str | None = None
) -> Callable[[Callable[..., Module]], Callable[..., Module]]:
    """Decorator that adds a builder to the registry used by :func:`build_model`.

    The decorated builder sets ``model.config`` on what it returns. ``head_key``
    names the config argument holding the number of outputs (used by
    :func:`replace_head`); ``"sizes"`` means its last entry.

    Example:
        >>> import gradfit as gf
        >>> @gf.models.register_model("tiny_doc_example", head_key="out")
        ... def tiny(inp: int = 2, out: int = 1):
        ...     return gf.nn.Sequential(gf.nn.Linear(inp, out))
        >>> gf.models.build_model({"name": "tiny_doc_example", "out": 3}).config
        {'name': 'tiny_doc_example', 'inp': 2, 'out': 3}
        >>> _ = gf.models._REGISTRY.pop("tiny_doc_example")  # keep the registry clean
    """

    def decorate(fn: Callable[..., Module]) -> Callable[..., Module]:
        @functools.wraps(fn)
        def build(*args: Any, **kwargs: Any) -> Module:
            cfg = _bind(name, fn, args, kwargs)
            model = fn(**cfg)
            object.__setattr__(model, "config", {"name": name, **cfg})
            return model

        _REGISTRY[name] = _Entry(fn, build, head_key)
        return build

    return decorate


def list_models() -> list[str]:
    """The names :func:`build_model` accepts, sorted.

    Example:
        >>> import gradfit as gf
        >>> "mlp" in gf.models.list_models()
        True
    """
    return sorted(_REGISTRY)


def _entry(name: Any, who: str) -> tuple[str, _Entry]:
    if not isinstance(name, str):
        raise TypeError(f"{who}: the model name must be a string, got {type(name).__name__}")
    key = name.strip().lower().replace("-", "_")
    if key not in _REGISTRY:
        raise ValueError(f"{who}: unknown model {name!r}; valid models: {', '.join(list_models())}")
    return key, _REGISTRY[key]


def model_config(name: str, **kwargs: Any) -> dict[str, Any]:
    """The complete config dict of model ``name`` with these arguments (defaults filled in).

    Example:
        >>> import gradfit as gf
        >>> gf.models.model_config("logistic", in_features=64, num_classes=10)
        {'name': 'logistic', 'in_features': 64, 'num_classes': 10}
    """
    key, entry = _entry(name, "model_config")
    return {"name": key, **_bind(key, entry.builder, (), kwargs)}


def build_model(config: Mapping[str, Any]) -> Module:
    """Build a model from a config dict such as ``model.config`` or one read from JSON.

    Raises:
        ValueError: an unknown model name (the message lists the valid ones) or a bad value.
        TypeError: a config that is not a dict, or an argument the model does not take.

    Example:
        >>> import gradfit as gf
        >>> net = gf.models.build_model({"name": "mlp", "sizes": [4, 8, 3]})
        >>> net(gf.randn(2, 4)).shape
        (2, 3)
        >>> gf.models.build_model({"name": "resnet"})
        Traceback (most recent call last):
        ...
        ValueError: build_model: unknown model 'resnet'; valid models: char_lm, cnn, cnn1d, gru, linear, logistic, lstm, matrix_factorization, mlp
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"build_model: config must be a dict, got {type(config).__name__}")
    if "name" not in config:
        raise ValueError(
            f"build_model: config has no 'name' key (one of: {', '.join(list_models())})"
        )
    cfg = dict(config)
    _, entry = _entry(cfg.pop("name"), "build_model")
    return entry.public(**copy.deepcopy(cfg))


def _shape_of(value: Any) -> tuple[int, ...]:
    if isinstance(value, (Tensor, np.ndarray)):
        return tuple(int(d) for d in value.shape)
    return tuple(int(d) for d in np.shape(value))


def _short(config: Any, limit: int = 200) -> str:
    text = repr(dict(config)) if isinstance(config, Mapping) else repr(config)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first(items: list[str], n: int = 5) -> str:
    more = f" and {len(items) - n} more" if len(items) > n else ""
    return ", ".join(items[:n]) + more


def load_model(config: Mapping[str, Any], state_dict: Mapping[str, Any]) -> Module:
    """Build the model ``config`` describes and load ``state_dict`` into it, for untrusted input.

    This is :func:`build_model` followed by ``load_state_dict``, made safe for a
    config and weights read from a file (a checkpoint): whatever the config says,
    memory stays bounded by the size of ``state_dict``, and a config that does not
    fit the weights fails fast with a ``ValueError`` instead of first allocating
    and randomly initialising what it asks for (``"sizes": [100000, 100000, 10]``
    would be 40 GB).

    How: the model is built under ``gf.nn.init.no_init`` with limits taken from
    the state: at most as many elements, and as many tensors, as ``state_dict``
    holds. gradfit's layers allocate each weight with ``empty`` (address space
    only: no page is written) and then call a ``gf.nn.init`` function, which under
    ``no_init`` writes nothing, draws no random numbers, and counts the tensor; the
    first tensor over either limit stops the build. An honest config describes
    exactly the state's tensors, so it is never refused. Then the keys and shapes
    of the built model are compared with the state's, and only when they all match
    are the values copied in, the one time the model's memory is written. Counting
    at the initialisers, rather than estimating a parameter count from the config
    beforehand, needs no per-architecture formula and so covers models added with
    :func:`register_model` too, provided their layers initialise their weights
    through ``gf.nn.init`` (weights filled otherwise are built unchecked, though
    the shape comparison still rejects them before loading). The random number
    generator is left untouched.

    Raises:
        ValueError: the config cannot be built (unknown model, bad or absurd values,
            more weights than the state holds, out of memory) or its model does not
            fit the state (missing or unexpected keys, different shapes; values of another
            dtype are cast to the model's, as ``load_state_dict`` does);
            the message names the model and the config and lists the first problems.
        TypeError: ``config`` or ``state_dict`` is not a mapping.

    Example:
        >>> import gradfit as gf
        >>> net = gf.models.mlp([64, 32, 10])
        >>> clone = gf.models.load_model(net.config, net.state_dict())
        >>> bool((clone.fc1.weight == net.fc1.weight).all())
        True
        >>> gf.models.load_model({"name": "mlp", "sizes": [6400, 3200, 10]}, net.state_dict())
        Traceback (most recent call last):
        ...
        ValueError: load_model: model 'mlp' from config {'name': 'mlp', 'sizes': [6400, 3200, 10]} has more weights than the state holds (2,410 elements in 4 tensors); refused before writing any
        >>> gf.models.load_model({"name": "mlp", "sizes": [64, 16, 10]}, net.state_dict())
        Traceback (most recent call last):
        ...
        ValueError: load_model: the state does not fit model 'mlp' from config {'name': 'mlp', 'sizes': [64, 16, 10]}: shape mismatches: fc1.weight (32, 64) in the state vs (16, 64) in the model, fc1.bias (32,) in the state vs (16,) in the model, out.weight (10, 32) in the state vs (10, 16) in the model
    """
    if not isinstance(config, Mapping):
        raise TypeError(f"load_model: config must be a dict, got {type(config).__name__}")
    if not isinstance(state_dict, Mapping):
        raise TypeError(
            f"load_model: state_dict must be a mapping of names to arrays, "
            f"got {type(state_dict).__name__}"
        )
    name = config.get("name")
    where = f"model {name!r} from config {_short(config)}"
    try:
        shapes = {str(k): _shape_of(v) for k, v in state_dict.items()}
    except (TypeError, ValueError) as e:
        raise ValueError(
            f"load_model: the state_dict holds a value that is not an array: {e}"
        ) from None
    budget = sum(math.prod(s) for s in shapes.values())
    try:
        with nn.init.no_init(max_numel=budget, max_tensors=len(shapes)):
            model = build_model(config)
    except nn.init._LimitError:
        raise ValueError(
            f"load_model: {where} has more weights than the state holds ({budget:,} elements "
            f"in {len(shapes)} tensors); refused before writing any"
        ) from None
    except (MemoryError, ValueError, TypeError, OverflowError) as e:
        raise ValueError(f"load_model: cannot build {where}: {e}") from None
    targets = model.state_dict(keep_vars=True)
    missing = [repr(k) for k in targets if k not in shapes]
    unexpected = [repr(k) for k in shapes if k not in targets]
    wrong = [
        f"{k} {shapes[k]} in the state vs {tuple(t.shape)} in the model"
        for k, t in targets.items()
        if k in shapes and shapes[k] != tuple(t.shape)
    ]
    problems = [
        f"{what}: {_first(items)}"
        for what, items in (
            ("missing keys", missing),
            ("unexpected keys", unexpected),
            ("shape mismatches", wrong),
        )
        if items
    ]
    if problems:
        raise ValueError(f"load_model: the state does not fit {where}: {'; '.join(problems)}")
    try:
        model.load_state_dict(state_dict)
    except (ValueError, TypeError, RuntimeError) as e:  # e.g. a dtype that cannot be cast
        detail = ""
        for line in filter(None, (line.strip() for line in str(e).splitlines())):
            detail += ("" if not detail else " " if detail.endswith(":") else "; ") + line
        raise ValueError(f"load_model: the state does not fit {where}: {detail}") from None
    return model


# ---------------------------------------------------------------------------- checks
def _pos_int(v: Any, name: str, who: str, minimum: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < minimum:
        raise ValueError(f"{who}: {name} must be an integer >= {minimum}, got {v!r}")
    return int(v)


def _prob(v: Any, name: str, who: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v < 1.0:
        raise ValueError(f"{who}: {name} must be a number in [0, 1), got {v!r}")
    return float(v)


def _activation(name: Any, who: str) -> Module:
    if not isinstance(name, str) or name.lower() not in _ACTIVATIONS:
        raise ValueError(
            f"{who}: unknown activation {name!r}; valid activations: {', '.join(_ACTIVATIONS)}"
        )
    return getattr(nn, _ACTIVATIONS[name.lower()])()


def _layer(cls_name: str, who: str) -> Any:
    cls = getattr(nn, cls_name, None)
    if cls is None:
        raise NotImplementedError(f"{who} needs gf.nn.{cls_name}, which this gradfit lacks")
    return cls


# ---------------------------------------------------------------------------- models
@register_model("mlp", head_key="sizes")
def mlp(
    sizes: Sequence[int],
    activation: str = "relu",
    dropout: float = 0.0,
    batch_norm: bool = False,
) -> Module:
    """A multi-layer perceptron: ``sizes = [in, hidden..., out]``, e.g. ``[64, 256, 128, 10]``.

    Each hidden layer is ``Linear -> [BatchNorm1d] -> activation -> [Dropout]``; the
    output layer is a plain ``Linear`` giving logits (or values for regression). The
    input is flattened first, so images ``(N, C, H, W)`` work as well as ``(N, in)``.
    Layer names: ``flatten``, ``fc1``, ``bn1``, ``act1``, ``drop1``, ..., ``out``.

    Example:
        >>> import gradfit as gf
        >>> net = gf.models.mlp([64, 32, 10], dropout=0.1)
        >>> net(gf.randn(5, 64)).shape
        (5, 10)
        >>> [n for n, _ in net.named_children()]
        ['flatten', 'fc1', 'act1', 'drop1', 'out']
    """
    who = "mlp"
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
        raise ValueError(
            f"{who}: sizes must be a list of at least two layer sizes [in, ..., out], got {sizes!r}"
        )
    sizes = [_pos_int(s, "every size", who) for s in sizes]
    dropout = _prob(dropout, "dropout", who)
    _activation(activation, who)
    layers: OrderedDict[str, Module] = OrderedDict(flatten=nn.Flatten())
    for i, (a, b) in enumerate(itertools.pairwise(sizes[:-1]), start=1):
        layers[f"fc{i}"] = nn.Linear(a, b)
        if batch_norm:
            layers[f"bn{i}"] = _layer("BatchNorm1d", who)(b)
        layers[f"act{i}"] = _activation(activation, who)
        if dropout > 0:
            layers[f"drop{i}"] = nn.Dropout(dropout)
    layers["out"] = nn.Linear(sizes[-2], sizes[-1])
    return nn.Sequential(layers)


def _conv_out(size: int, k: int, s: int = 1, p: int = 0) -> int:
    return (size + 2 * p - k) // s + 1


class CNN(Module):
    """A 2-D convolutional classifier: ``features`` (conv blocks) then ``classifier`` (MLP head).

    Built by :func:`cnn`. It accepts ``(N, C, H, W)`` images, ``(N, H, W)`` when
    ``C == 1``, and flat ``(N, C*H*W)`` rows (reshaped), so one dataset serves an MLP
    and a CNN alike.

    Example:
        >>> import gradfit as gf
        >>> net = gf.models.cnn(image_size=8)
        >>> net(gf.randn(2, 64)).shape
        (2, 10)
    """

    def __init__(self, features: Module, classifier: Module, input_shape: Sequence[int]) -> None:
        super().__init__()
        self.features = features
        self.classifier = classifier
        self.input_shape = tuple(int(s) for s in input_shape)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"CNN: expected a gf.Tensor, got {type(x).__name__}")
        c, h, w = self.input_shape
        if x.ndim == 2 and x.shape[1] == c * h * w:
            x = x.reshape(x.shape[0], c, h, w)
        elif x.ndim == 3 and c == 1 and x.shape[1:] == (h, w):
            x = x.reshape(x.shape[0], 1, h, w)
        elif x.ndim != 4 or x.shape[1:] != self.input_shape:
            raise self.input_shape_error(f"(N, {c}, {h}, {w}) or (N, {c * h * w})", x.shape)
        return self.classifier(self.features(x))

    def extra_repr(self) -> str:
        return f"input_shape={self.input_shape}"


@register_model("cnn", head_key="num_classes")
def cnn(
    in_channels: int = 1,
    num_classes: int = 10,
    image_size: int = 8,
    arch: str = "auto",
    channels: Sequence[int] | None = None,
    hidden: Sequence[int] | None = None,
    dropout: float = 0.0,
    batch_norm: bool = False,
) -> Module:
    """A small CNN for square images: ``"small"`` for 8x8 digits, ``"lenet"`` for 28x28.

    - ``arch="small"`` (default for ``image_size <= 16``): ``conv3x3(c1, pad 1) -> ReLU ->
      conv3x3(c2, pad 1) -> ReLU -> MaxPool2d(2) -> Linear(hidden) -> ReLU -> Linear``,
      with ``channels=(16, 32)``, ``hidden=(64,)`` by default.
    - ``arch="lenet"`` (default above 16, e.g. MNIST): LeNet-5 with ReLU and max pooling:
      ``conv5x5(6, pad 2) -> ReLU -> MaxPool2d(2) -> conv5x5(16) -> ReLU -> MaxPool2d(2)
      -> Linear(120) -> ReLU -> Linear(84) -> ReLU -> Linear``.

    ``batch_norm`` adds ``BatchNorm2d`` after every convolution; ``dropout`` adds
    ``Dropout`` before the last layer. The output is logits ``(N, num_classes)``; the
    output layer is ``classifier.out``.

    Example:
        >>> import gradfit as gf
        >>> gf.models.cnn(image_size=28)(gf.randn(2, 1, 28, 28)).shape
        (2, 10)
    """
    who = "cnn"
    in_channels = _pos_int(in_channels, "in_channels", who)
    num_classes = _pos_int(num_classes, "num_classes", who)
    image_size = _pos_int(image_size, "image_size", who, minimum=4)
    dropout = _prob(dropout, "dropout", who)
    if arch == "auto":
        arch = "small" if image_size <= 16 else "lenet"
    if arch not in ("small", "lenet"):
        raise ValueError(f"{who}: unknown arch {arch!r}; valid: auto, small, lenet")
    small = arch == "small"
    chans = list(channels) if channels is not None else ([16, 32] if small else [6, 16])
    hid = list(hidden) if hidden is not None else ([64] if small else [120, 84])
    if len(chans) != 2:
        raise ValueError(f"{who}: channels must be two numbers (conv1, conv2), got {channels!r}")
    chans = [_pos_int(c, "channels", who) for c in chans]
    hid = [_pos_int(h, "hidden", who) for h in hid]
    conv2d, pool = _layer("Conv2d", who), _layer("MaxPool2d", who)
    feats: OrderedDict[str, Module] = OrderedDict()
    if small:
        feats["conv1"] = conv2d(in_channels, chans[0], 3, padding=1)
        if batch_norm:
            feats["bn1"] = _layer("BatchNorm2d", who)(chans[0])
        feats["act1"] = nn.ReLU()
        feats["conv2"] = conv2d(chans[0], chans[1], 3, padding=1)
        if batch_norm:
            feats["bn2"] = _layer("BatchNorm2d", who)(chans[1])
        feats["act2"] = nn.ReLU()
        feats["pool"] = pool(2)
        side = image_size // 2
    else:
        feats["conv1"] = conv2d(in_channels, chans[0], 5, padding=2)
        if batch_norm:
            feats["bn1"] = _layer("BatchNorm2d", who)(chans[0])
        feats["act1"] = nn.ReLU()
        feats["pool1"] = pool(2)
        feats["conv2"] = conv2d(chans[0], chans[1], 5)
        if batch_norm:
            feats["bn2"] = _layer("BatchNorm2d", who)(chans[1])
        feats["act2"] = nn.ReLU()
        feats["pool2"] = pool(2)
        side = _conv_out(image_size // 2, 5) // 2
        if side < 1:
            raise ValueError(f"{who}: image_size {image_size} is too small for arch 'lenet'")
    head: OrderedDict[str, Module] = OrderedDict(flatten=nn.Flatten())
    width = chans[1] * side * side
    for i, h in enumerate(hid, start=1):
        head[f"fc{i}"] = nn.Linear(width, h)
        head[f"act{i}"] = nn.ReLU()
        width = h
    if dropout > 0:
        head["drop"] = nn.Dropout(dropout)
    head["out"] = nn.Linear(width, num_classes)
    return CNN(nn.Sequential(feats), nn.Sequential(head), (in_channels, image_size, image_size))


_RELU = nn.ReLU()  # never hooked: only a marker for _conv_relu


def _conv_relu(conv: Module, x: Tensor) -> Tensor:
    """``conv(x).relu()``, fused into one call where the layer allows it (no hooks, a plain
    ``Conv1d``/``Conv2d``: :meth:`gradfit.nn.Conv2d._fuse_next`); the same values.

    Example:
        >>> import gradfit as gf
        >>> conv = gf.nn.Conv1d(1, 2, 3)
        >>> x = gf.randn(4, 1, 8)
        >>> bool((_conv_relu(conv, x) == conv(x).relu()).all())
        True
    """
    fuse = getattr(conv, "_fuse_next", None)  # a layer swapped for another module: no fusion
    done = None if fuse is None else fuse(x, [_RELU])
    return conv(x).relu() if done is None else done[0]


class CNN1d(Module):
    """The MNIST-1D paper's convolutional network (Greydanus, 2020, ``ConvBase``).

    ``conv1 = Conv1d(in, C, 5, stride 2, pad 1)``, ``conv2 = conv3 = Conv1d(C, C, 3,
    stride 2, pad 1)``, each followed by ReLU, then ``linear`` on the flattened features
    (for length 40 and C = 25: 25 x 5 = 125 inputs). Inputs ``(N, L)`` are read as one
    channel (as the paper's ``x.view(-1, 1, L)``); ``(N, in_channels, L)`` also works.

    Example:
        >>> import gradfit as gf
        >>> gf.models.cnn1d()(gf.randn(3, 40)).shape
        (3, 10)
    """

    def __init__(self, in_channels: int, in_length: int, channels: int, num_classes: int) -> None:
        super().__init__()
        conv1d = _layer("Conv1d", "cnn1d")
        self.in_channels, self.in_length = in_channels, in_length
        self.conv1 = conv1d(in_channels, channels, 5, stride=2, padding=1)
        self.conv2 = conv1d(channels, channels, 3, stride=2, padding=1)
        self.conv3 = conv1d(channels, channels, 3, stride=2, padding=1)
        n = _conv_out(_conv_out(_conv_out(in_length, 5, 2, 1), 3, 2, 1), 3, 2, 1)
        if n < 1:
            raise ValueError(f"cnn1d: in_length {in_length} is too short (at least 4)")
        self.linear = nn.Linear(channels * n, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"CNN1d: expected a gf.Tensor, got {type(x).__name__}")
        c, n = self.in_channels, self.in_length
        if x.ndim == 2 and c == 1 and x.shape[1] == n:
            x = x.reshape(x.shape[0], 1, n)
        elif x.ndim != 3 or x.shape[1:] != (c, n):
            raise self.input_shape_error(f"(N, {c}, {n})" + (f" or (N, {n})" if c == 1 else ""), x)
        h = _conv_relu(self.conv1, x)
        h = _conv_relu(self.conv2, h)
        h = _conv_relu(self.conv3, h)
        return self.linear(h.reshape(h.shape[0], -1))

    def extra_repr(self) -> str:
        return f"in_channels={self.in_channels}, in_length={self.in_length}"


@register_model("cnn1d", head_key="num_classes")
def cnn1d(
    in_length: int = 40, num_classes: int = 10, channels: int = 25, in_channels: int = 1
) -> Module:
    """The MNIST-1D CNN: three strided ``Conv1d`` layers of ``channels`` and a linear layer.

    Follows the MNIST-1D repository's ``ConvBase`` (checked against its source): the
    first convolution has kernel 5, the other two kernel 3, all stride 2 and padding 1.
    About 5,000 parameters for the defaults. See :class:`CNN1d`.

    Example:
        >>> import gradfit as gf
        >>> sum(p.numel() for p in gf.models.cnn1d().parameters())
        5210
    """
    who = "cnn1d"
    return CNN1d(
        _pos_int(in_channels, "in_channels", who),
        _pos_int(in_length, "in_length", who),
        _pos_int(channels, "channels", who),
        _pos_int(num_classes, "num_classes", who),
    )


@register_model("logistic", head_key="num_classes")
def logistic(in_features: int, num_classes: int) -> Module:
    """Multinomial logistic regression as a one-layer network: ``Flatten -> Linear``.

    It returns logits; the softmax lives in the loss (``F.cross_entropy``), so training
    it with cross-entropy is exactly (unregularised) logistic regression. For two
    classes use ``num_classes=2`` with cross-entropy, or ``1`` with
    ``binary_cross_entropy_with_logits``.

    Example:
        >>> import gradfit as gf
        >>> gf.models.logistic(64, 10)(gf.randn(4, 64)).shape
        (4, 10)
    """
    who = "logistic"
    layers = OrderedDict(
        flatten=nn.Flatten(),
        linear=nn.Linear(
            _pos_int(in_features, "in_features", who), _pos_int(num_classes, "num_classes", who)
        ),
    )
    return nn.Sequential(layers)


@register_model("linear", head_key="out_features")
def linear(in_features: int, out_features: int = 1) -> Module:
    """Linear (least-squares) regression as a one-layer network: ``Flatten -> Linear``.

    Trained with ``F.mse_loss`` it fits ordinary least squares. The output has shape
    ``(N, out_features)`` (``(N, 1)`` by default, as PyTorch's ``nn.Linear``): give
    targets the same shape, or the loss broadcasts ``(N, 1)`` against ``(N,)``.

    Example:
        >>> import gradfit as gf
        >>> gf.models.linear(3)(gf.randn(5, 3)).shape
        (5, 1)
    """
    who = "linear"
    layers = OrderedDict(
        flatten=nn.Flatten(),
        linear=nn.Linear(
            _pos_int(in_features, "in_features", who), _pos_int(out_features, "out_features", who)
        ),
    )
    return nn.Sequential(layers)


class MatrixFactorization(Module):
    """Collaborative filtering: ``rating = <u_user, v_item> + b_user + b_item + b``.

    ``user_factors`` and ``item_factors`` are ``Embedding(n, dim)`` tables (drawn from
    N(0, ``init_std``)), ``user_bias`` and ``item_bias`` ``Embedding(n, 1)`` tables
    (zeros) and ``global_bias`` a scalar parameter (``global_mean``). Call it with an
    integer tensor of ``(user, item)`` pairs of shape ``(N, 2)``, or with two integer
    tensors ``(users, items)`` of shape ``(N,)``; it returns predictions of shape ``(N,)``.

    Example:
        >>> import gradfit as gf
        >>> mf = gf.models.matrix_factorization(5, 7, dim=3)
        >>> mf(gf.tensor([[0, 1], [4, 6]])).shape
        (2,)
    """

    def __init__(
        self, n_users: int, n_items: int, dim: int, init_std: float, global_mean: float
    ) -> None:
        super().__init__()
        emb = _layer("Embedding", "matrix_factorization")
        self.n_users, self.n_items, self.dim = n_users, n_items, dim
        self.user_factors = emb(n_users, dim)
        self.item_factors = emb(n_items, dim)
        self.user_bias = emb(n_users, 1)
        self.item_bias = emb(n_items, 1)
        # empty + gf.nn.init (not np.full), so that skip_init writes nothing
        self.global_bias = Parameter(Tensor._wrap(np.empty((), dtype=np.float32)))
        nn.init.constant_(self.global_bias, global_mean)
        for table in (self.user_factors, self.item_factors):
            nn.init.normal_(table.weight, 0.0, init_std)
        for table in (self.user_bias, self.item_bias):
            nn.init.zeros_(table.weight)

    def _ids(self, ids: Any, what: str, limit: int) -> Tensor:
        arr = ids._data if isinstance(ids, Tensor) else np.asarray(ids)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"MatrixFactorization: {what} ids must be integers, got {arr.dtype}")
        if arr.ndim != 1:
            raise self.input_shape_error(f"{what} ids of shape (N,)", arr.shape)
        if arr.size and (arr.min() < 0 or arr.max() >= limit):
            bad = int(arr.min()) if arr.min() < 0 else int(arr.max())
            raise ValueError(f"MatrixFactorization: {what} id {bad} is out of range [0, {limit})")
        return Tensor._wrap(np.ascontiguousarray(arr))

    def forward(self, users: Any, items: Any = None) -> Tensor:
        if items is None:
            pairs = users._data if isinstance(users, Tensor) else np.asarray(users)
            if pairs.ndim != 2 or pairs.shape[1] != 2:
                raise self.input_shape_error(
                    "(N, 2) (user, item) pairs, or two (N,) tensors", pairs.shape
                )
            users, items = pairs[:, 0], pairs[:, 1]
        u = self._ids(users, "user", self.n_users)
        i = self._ids(items, "item", self.n_items)
        if u.shape != i.shape:
            raise ValueError(
                f"MatrixFactorization: users {u.shape} and items {i.shape} differ in length"
            )
        dot = (self.user_factors(u) * self.item_factors(i)).sum(-1)
        bias = (self.user_bias(u) + self.item_bias(i)).reshape(-1)
        return dot + bias + self.global_bias

    def extra_repr(self) -> str:
        return f"n_users={self.n_users}, n_items={self.n_items}, dim={self.dim}"


@register_model("matrix_factorization")
def matrix_factorization(
    n_users: int, n_items: int, dim: int = 32, init_std: float = 0.1, global_mean: float = 0.0
) -> Module:
    """Matrix factorisation with user, item and global biases (see :class:`MatrixFactorization`).

    ``global_mean`` initialises the global bias (set it to the training ratings' mean to
    start from the global-mean baseline); ``init_std`` is the factors' initial scale.

    Example:
        >>> import gradfit as gf
        >>> mf = gf.models.matrix_factorization(10, 20, dim=4, global_mean=3.5)
        >>> sorted(mf.state_dict())
        ['global_bias', 'item_bias.weight', 'item_factors.weight', 'user_bias.weight', 'user_factors.weight']
        >>> mf.global_bias
        Parameter containing:
        tensor(3.5, requires_grad=True)
    """
    who = "matrix_factorization"
    if isinstance(init_std, bool) or not isinstance(init_std, (int, float)) or init_std < 0:
        raise ValueError(f"{who}: init_std must be a non-negative number, got {init_std!r}")
    if isinstance(global_mean, bool) or not isinstance(global_mean, (int, float)):
        raise ValueError(f"{who}: global_mean must be a number, got {global_mean!r}")
    if not math.isfinite(global_mean):
        raise ValueError(f"{who}: global_mean must be finite, got {global_mean!r}")
    return MatrixFactorization(
        _pos_int(n_users, "n_users", who),
        _pos_int(n_items, "n_items", who),
        _pos_int(dim, "dim", who),
        float(init_std),
        float(global_mean),
    )


# ---------------------------------------------------------------------------- fine-tuning
def replace_head(model: Module, num_classes: int) -> Module:
    """Replace the output layer with a fresh ``Linear(in, num_classes)`` (for fine-tuning).

    The output layer is the last ``Linear`` in the model; the new one is initialised
    as any new ``Linear`` and trainable. ``model.config`` (when present) is updated so
    that ``build_model(model.config)`` builds the new architecture. Returns ``model``.

    Example:
        >>> import gradfit as gf
        >>> net = gf.models.mlp([64, 32, 10])
        >>> net = gf.models.replace_head(net, 5)
        >>> net(gf.randn(2, 64)).shape, net.config["sizes"]
        ((2, 5), [64, 32, 5])
    """
    if not isinstance(model, Module):
        raise TypeError(f"replace_head: expected a gf.nn.Module, got {type(model).__name__}")
    num_classes = _pos_int(num_classes, "num_classes", "replace_head")
    config = getattr(model, "config", None)
    if isinstance(config, dict) and "name" in config:
        _, entry = _entry(config["name"], "replace_head")
        if entry.head_key is None:
            raise ValueError(
                f"replace_head: model {config['name']!r} has no output layer to replace"
            )
    last = None
    for name, m in model.named_modules():
        if isinstance(m, nn.Linear) and name:
            last = name
    if last is None:
        raise ValueError(f"replace_head: {type(model).__name__} has no Linear output layer")
    parent_name, _, child = last.rpartition(".")
    parent = model.get_submodule(parent_name)
    old = parent._modules[child]
    new = nn.Linear(old.in_features, num_classes, bias=old.bias is not None, dtype=old.weight.dtype)
    parent._modules[child] = new  # keeps the position in Sequential
    if isinstance(config, dict) and "name" in config:
        key = _entry(config["name"], "replace_head")[1].head_key
        if key == "sizes":
            config["sizes"] = [*config["sizes"][:-1], num_classes]
        elif key is not None:
            config[key] = num_classes
    return model


# sequence models register themselves on import (they need the helpers above); their names
# are looked up lazily so that importing gradfit.models_sequence first also works
import gradfit.models_sequence  # noqa: E402

_SEQUENCE_NAMES = ("CharLM", "RecurrentClassifier", "char_lm", "gru", "lstm", "ngram_losses",
                   "sample_chars")  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _SEQUENCE_NAMES:
        return getattr(gradfit.models_sequence, name)
    raise AttributeError(f"module 'gradfit.models' has no attribute {name!r}")
