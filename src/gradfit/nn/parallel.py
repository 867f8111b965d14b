"""``DistributedDataParallel``: one model replica per process, gradients averaged over MPI.

How it works (torch's design, on :mod:`gradfit.distributed`):

- At construction every parameter and buffer is broadcast from rank 0, so all replicas
  start equal. In training mode buffers (BatchNorm statistics) are broadcast again
  before each forward (``broadcast_buffers=True``).
- The parameters that require grad are grouped, in reverse order (the order backward
  reaches them), into flat buckets of at most ``bucket_cap_mb`` (25 MB like torch; the
  first bucket at most 1 MB, also like torch), one per dtype run. A gradient hook
  (``Tensor.register_hook``) on every parameter copies its
  complete gradient into its bucket; as soon as a bucket is full its non-blocking
  ``MPI_Iallreduce`` starts, while backward goes on with the earlier layers (each later
  hook also polls the pending reductions so MPI makes progress). The hook of the last
  parameter backward reaches waits for every bucket and writes the averaged gradients
  into ``.grad``, so when ``loss.backward()`` returns the gradients are the mean over
  all ranks: ``optimizer.step()`` needs no change.
- Inside :meth:`no_sync` nothing is reduced and gradients accumulate locally; the first
  backward outside it reduces the accumulated sum (gradient accumulation).

Every parameter that requires grad must get a gradient in each synchronised backward
(torch's default ``find_unused_parameters=False``); otherwise the next forward raises.

Example:
    >>> import gradfit as gf
    >>> DistributedDataParallel(gf.nn.Linear(2, 1))
    Traceback (most recent call last):
    ...
    RuntimeError: DistributedDataParallel: Default process group has not been initialized, please make sure to call init_process_group.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from gradfit.nn.module import Module

#: torch's ``dist._DEFAULT_FIRST_BUCKET_BYTES``: the first bucket holds at most 1 MB.
FIRST_BUCKET_MB = 1.0


class _Bucket:
    __slots__ = ("flat", "offsets", "out", "params", "ready", "request")

    def __init__(self, params: list[Any]) -> None:
        self.params = params
        sizes = [int(p._data.size) for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        dtype = params[0]._data.dtype
        self.flat = np.empty(self.offsets[-1], dtype=dtype)  # local gradients
        self.out = np.empty_like(self.flat)  # their sum over ranks
        self.ready = 0
        self.request: Any = None

    def view(self, buf: np.ndarray, i: int) -> np.ndarray:
        p = self.params[i]
        return buf[self.offsets[i] : self.offsets[i + 1]].reshape(p._data.shape)


class DistributedDataParallel(Module):
    """Data parallelism over the ranks of :mod:`gradfit.distributed` (torch's class).

    Args:
        module: the model; every rank builds the same architecture.
        broadcast_buffers: broadcast rank 0's buffers before each training forward.
        bucket_cap_mb: bucket size in megabytes (default 25, as in torch).
        find_unused_parameters: only ``False`` is supported (every parameter that
            requires grad must take part in the loss).
        gradient_as_bucket_view: each ``.grad`` after the reduction is a view of its bucket
            instead of a copy (torch's option: saves a copy of every gradient each step; a
            gradient kept past the next backward is overwritten by it). The parameter that
            backward reaches last still gets a copy: the engine copies what a gradient hook
            returns before a leaf adopts it.
        device_ids, output_device, dim, process_group, static_graph: accepted for torch's
            signature; they change nothing here.

    Attributes:
        module: the wrapped model (``state_dict`` keys start with ``module.`` as in torch).

    Example:
        >>> # under mpiexec, after gf.distributed.init_process_group("mpi"):
        >>> # model = gf.nn.parallel.DistributedDataParallel(model)
        >>> # loss_fn(model(x), y).backward()  # .grad now holds the mean over ranks
        >>> DistributedDataParallel.no_sync.__doc__.split("\\n")[0]
        'Reduce nothing inside this block: gradients accumulate locally.'
    """

    def __init__(
        self,
        module: Module,
        device_ids: Any = None,
        output_device: Any = None,
        dim: int = 0,
        broadcast_buffers: bool = True,
        process_group: Any = None,
        bucket_cap_mb: float | None = None,
        find_unused_parameters: bool = False,
        check_reduction: bool = False,
        gradient_as_bucket_view: bool = False,
        static_graph: bool = False,
    ) -> None:
        from gradfit import distributed as dist

        if not dist.is_initialized():
            raise RuntimeError(
                "DistributedDataParallel: Default process group has not been initialized, "
                "please make sure to call init_process_group."
            )
        if not isinstance(module, Module):
            raise TypeError(
                f"DistributedDataParallel: module must be a gf.nn.Module, got {type(module).__name__}"
            )
        if find_unused_parameters:
            raise ValueError(
                "DistributedDataParallel: find_unused_parameters=True is not supported; make "
                "every parameter that requires grad take part in the loss, or freeze the "
                "others with requires_grad_(False) before wrapping"
            )
        cap = 25.0 if bucket_cap_mb is None else float(bucket_cap_mb)
        if not cap > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got {cap}")
        super().__init__()
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.bucket_cap_mb = cap
        self.require_backward_grad_sync = True
        self.world_size = dist.get_world_size()
        self.gradient_as_bucket_view = bool(gradient_as_bucket_view)
        self._last: Any = None  # the parameter the last backward reached last
        self._sync_module_states()
        params = [p for p in module.parameters() if p.requires_grad]
        object.__setattr__(self, "_buckets", self._make_buckets(params[::-1], cap))
        object.__setattr__(self, "_total", len(params))
        self._ready = 0
        self._handles = [
            p.register_hook(self._make_hook(b, i))
            for b in self._buckets
            for i, p in enumerate(b.params)
        ]

    # ----------------------------------------------------------------- set-up
    def _sync_module_states(self) -> None:
        """Rank 0's parameters and buffers everywhere (one broadcast per tensor)."""
        from gradfit import distributed as dist

        for t in [*self.module.parameters(), *self.module.buffers()]:
            dist.broadcast(t, src=0)

    @staticmethod
    def _make_buckets(params: list[Any], cap_mb: float) -> list[_Bucket]:
        buckets: list[_Bucket] = []
        cur: list[Any] = []
        size = 0
        for p in params:
            nbytes = p._data.nbytes
            # like torch, the first bucket is small (1 MB) so its reduction starts early
            cap = min(cap_mb, FIRST_BUCKET_MB if not buckets else cap_mb) * 1024 * 1024
            if cur and (size + nbytes > cap or p._data.dtype != cur[0]._data.dtype):
                buckets.append(_Bucket(cur))
                cur, size = [], 0
            cur.append(p)
            size += nbytes
        if cur:
            buckets.append(_Bucket(cur))
        return buckets

    # ----------------------------------------------------------------- backward
    def _make_hook(self, bucket: _Bucket, i: int) -> Any:
        def hook(grad: Any) -> Any:
            if not self.require_backward_grad_sync:
                return None
            return self._grad_ready(bucket, i, grad)

        return hook

    def _grad_ready(self, bucket: _Bucket, i: int, grad: Any) -> Any:
        from gradfit import distributed as dist

        p = bucket.params[i]
        dst = bucket.view(bucket.flat, i)
        if p.grad is None:  # the complete local gradient: what .grad would hold
            dst[...] = grad._data
        else:  # accumulated under no_sync, plus this pass
            np.add(p.grad._data, grad._data, out=dst)
        bucket.ready += 1
        self._ready += 1
        g = dist.process_group._need("DistributedDataParallel")
        if bucket.ready == len(bucket.params):  # the bucket is full: start its reduction
            bucket.request = g.comm.Iallreduce(bucket.flat, bucket.out, op=g.MPI.SUM)
        for b in self._buckets:  # let MPI progress the reductions already started
            if b.request is not None and b is not bucket:
                b.request.Test()
        if self._ready < self._total:
            return None
        return self._finish(p)

    def _finish(self, last: Any) -> Any:
        """All buckets launched: wait, average, write ``.grad``; return ``last``'s gradient."""
        from gradfit import distributed as dist
        from gradfit.tensor import Tensor

        self._ready = 0
        self._last = last
        result = None
        for b in self._buckets:
            dist.process_group.wait(b.request, "DistributedDataParallel gradient all_reduce")
            b.request = None
            b.ready = 0
            b.out /= self.world_size
            for i, p in enumerate(b.params):
                avg = b.view(b.out, i)
                if not self.gradient_as_bucket_view:
                    avg = avg.copy()
                if p is last:  # the engine stores what its hook returns
                    p.grad = None
                    result = Tensor._wrap(avg)
                else:
                    p.grad = Tensor._wrap(avg)
        return result

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Reduce nothing inside this block: gradients accumulate locally.

        The first backward after the block reduces the accumulated gradients.

        Example:
            >>> callable(DistributedDataParallel.no_sync)
            True
        """
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    # ----------------------------------------------------------------- forward
    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        """Run the wrapped module (after checking the last reduction finished)."""
        if self._ready:
            done = self._ready
            self._ready = 0
            for b in self._buckets:
                if b.request is not None:
                    from gradfit import distributed as dist

                    dist.process_group.wait(
                        b.request, "DistributedDataParallel gradient all_reduce"
                    )
                b.request, b.ready = None, 0
            raise RuntimeError(
                "DistributedDataParallel: Expected to have finished reduction in the prior "
                f"iteration before starting a new one: only {done} of {self._total} parameters "
                "received a gradient. Every parameter that requires grad must take part in "
                "the loss (find_unused_parameters=True is not supported)"
            )
        if self.broadcast_buffers and self.training:
            bufs = list(self.module.buffers())
            if bufs:
                from gradfit import distributed as dist

                for t in bufs:
                    dist.broadcast(t, src=0)
        return self.module(*inputs, **kwargs)
