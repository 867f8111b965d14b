"""``gf.set_printoptions``: how tensors print (precision, summarising large tensors, width).

Example:
    >>> import gradfit as gf
    >>> gf.set_printoptions(precision=2)
    >>> gf.tensor([1.23456])
    tensor([1.23])
    >>> gf.set_printoptions(profile="default")
"""

from __future__ import annotations

from typing import Any

import numpy as np

_DEFAULT: dict[str, Any] = {
    "precision": 4,
    "threshold": 1000,
    "edgeitems": 3,
    "linewidth": None,
    "sci_mode": None,
}
_PROFILES = {
    "default": _DEFAULT,
    "short": {
        "precision": 2,
        "threshold": 1000,
        "edgeitems": 2,
        "linewidth": None,
        "sci_mode": None,
    },
    "full": {
        "precision": 4,
        "threshold": float("inf"),
        "edgeitems": 3,
        "linewidth": None,
        "sci_mode": None,
    },
}
_options = dict(_DEFAULT)


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set how tensors print, as ``torch.set_printoptions``.

    Args:
        precision: digits after the decimal point (4).
        threshold: tensors with more elements than this print summarised with ``...`` (1000).
        edgeitems: items shown at each end of a summarised dimension (3).
        linewidth: characters per line (NumPy's 75 unless set; PyTorch uses 80).
        profile: ``"default"``, ``"short"`` or ``"full"`` (resets the others first).
        sci_mode: True for scientific notation, False never, None (default) to choose.

    Example:
        >>> import gradfit as gf
        >>> gf.set_printoptions(sci_mode=True, precision=1)
        >>> gf.tensor([1500.0])
        tensor([1.5e+03])
        >>> gf.set_printoptions(profile="default")
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(
                f"set_printoptions: profile must be one of {sorted(_PROFILES)}, got {profile!r}"
            )
        _options.update(_PROFILES[profile])
    for k, v in (
        ("precision", precision),
        ("threshold", threshold),
        ("edgeitems", edgeitems),
        ("linewidth", linewidth),
    ):
        if v is not None:
            _options[k] = v
    # PyTorch: sci_mode is set every call (None means choose automatically)
    _options["sci_mode"] = sci_mode


def array2string_options() -> dict[str, Any]:
    """Keyword arguments for ``np.array2string`` that apply the current print options.

    Example:
        >>> array2string_options()["precision"]
        4
    """
    o = _options
    kw: dict[str, Any] = {
        "precision": o["precision"],
        "threshold": int(min(o["threshold"], 2**62)),
        "edgeitems": o["edgeitems"],
        "suppress_small": o["sci_mode"] is False,
    }
    if o["linewidth"] is not None:
        kw["max_line_width"] = o["linewidth"]
    if o["sci_mode"]:
        p = o["precision"]
        kw["formatter"] = {
            "float_kind": lambda x: np.format_float_scientific(x, precision=p, unique=False)
        }
    return kw
