"""gradfit: learning in neural networks from first principles, on NumPy.

The public surface mirrors PyTorch's names: ``gf.tensor``, ``Tensor.backward()``,
``gf.no_grad()``, ``gf.nn``, ``gf.optim``. ``import gradfit`` needs only NumPy.

Example:
    >>> import gradfit as gf
    >>> w = gf.tensor([0.5, -1.0], requires_grad=True)
    >>> loss = ((w * 2 - 1) ** 2).sum()
    >>> loss.backward()
    >>> w.grad
    tensor([  0., -12.])
"""

from __future__ import annotations

# torch parity: devices, dtypes, printing, sampling (device.py, dtypes.py, printing.py, sampling.py)
from gradfit import accelerator, backend, backends, cuda
from gradfit import random as _random
from gradfit.autograd import Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from gradfit.backend import bool_ as bool
from gradfit.backend import float16, float32, float64, int8, int16, int32, int64, uint8
from gradfit.creation import (
    arange,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from gradfit.device import device, get_default_device, set_default_device
from gradfit.dtypes import finfo, get_default_dtype, iinfo, set_default_dtype
from gradfit.gradcheck import GradcheckError, gradcheck
from gradfit.inference import inference_mode, is_inference_mode_enabled
from gradfit.ops import *  # noqa: F403 - the op functions are gf.exp, gf.matmul, ...
from gradfit.ops import __all__ as _ops_all
from gradfit.printing import set_printoptions
from gradfit.random import Generator, get_rng_state, manual_seed, set_rng_state
from gradfit.sampling import bernoulli, initial_seed, multinomial, normal, poisson, randperm, seed
from gradfit.tensor import Tensor

default_generator = _random._generator
half = float16
int = int32  # noqa: A001
short = int16

float = float32  # noqa: A001
double = float64
long = int64

__version__ = "0.1.0"

__all__ = [
    "Function",
    "Generator",
    "GradcheckError",
    "bool",
    "double",
    "float",
    "float16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "long",
    "uint8",
    "Tensor",
    "arange",
    "backend",
    "empty",
    "enable_grad",
    "eye",
    "from_numpy",
    "full",
    "full_like",
    "get_rng_state",
    "gradcheck",
    "is_grad_enabled",
    "linspace",
    "manual_seed",
    "no_grad",
    "ones",
    "ones_like",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "set_grad_enabled",
    "set_rng_state",
    "tensor",
    "zeros",
    "zeros_like",
    *_ops_all,
    # torch parity
    "accelerator", "backends", "bernoulli", "cuda", "default_generator", "device", "finfo",
    "get_default_device", "get_default_dtype", "half", "iinfo", "inference_mode", "initial_seed",
    "int", "is_inference_mode_enabled", "multinomial", "normal", "poisson", "randperm", "seed",
    "set_default_device", "set_default_dtype", "set_printoptions", "short",
]  # fmt: skip

# flush-to-zero of subnormal floats, PyTorch's torch.set_flush_denormal
from gradfit.denormal import set_flush_denormal  # noqa: E402

__all__ += ["set_flush_denormal"]

# torch.Size: what Tensor.size() returns
from gradfit.size import Size  # noqa: E402

__all__ += ["Size"]

# serialization (torch.save / torch.load without pickle)
from gradfit.serialization import load, save  # noqa: E402

__all__ += ["load", "save"]

# gradients of gradients (create_graph=True): second-derivative check
from gradfit.gradcheck import gradgradcheck  # noqa: E402

__all__ += ["gradgradcheck"]

# threads of intra-op parallelism and BLAS, PyTorch's torch.set_num_threads and friends
from gradfit.threads import (  # noqa: E402
    get_num_interop_threads,
    get_num_threads,
    set_num_interop_threads,
    set_num_threads,
)

__all__ += [
    "get_num_interop_threads",
    "get_num_threads",
    "set_num_interop_threads",
    "set_num_threads",
]


# keep freed memory mapped for the next step (glibc malloc thresholds; GRADFIT_MALLOC_TUNE=0: off)
from gradfit import allocator  # noqa: E402

allocator.tune()


def __getattr__(name: str) -> object:
    """Load the heavier subpackages on first use (``gf.nn``, ``gf.optim``, ``gf.data``, ...)."""
    import importlib

    if name in ("nn", "optim", "data", "train", "models", "viz", "cli", "utils", "onnx", "interop"):
        return importlib.import_module(f"gradfit.{name}")
    if name == "bfloat16":
        raise AttributeError(
            "gradfit has no bfloat16: NumPy, which holds gradfit's arrays, has no bfloat16 type; "
            "use gf.float32 (or gf.float16 to save memory)"
        )
    raise AttributeError(f"module 'gradfit' has no attribute {name!r}")
