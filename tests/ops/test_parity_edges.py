"""Edge cases of the new ops (0-d, empty, integer and bool dtypes, mixed arguments), each run
in PyTorch and in gradfit: same value, dtype and shape, or the same exception type."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gradfit as gf

s = np.array(2.0, np.float32)
CASES = {
    "scatter0d": lambda m: m.tensor(s).scatter(0, m.tensor(0), m.tensor(5.0)),
    "scatter_add0d": lambda m: m.tensor(s).scatter_add(0, m.tensor(0), m.tensor(5.0)),
    "index_add0d": lambda m: m.tensor(s).index_add(0, m.tensor([0]), m.tensor(5.0)),
    "index_copy0d": lambda m: m.tensor(s).index_copy(0, m.tensor([0]), m.tensor(5.0)),
    "index_fill0d": lambda m: m.tensor(s).index_fill(0, m.tensor([0]), 5.0),
    "masked_select0d": lambda m: m.tensor(s).masked_select(m.tensor(True)),
    "take0d": lambda m: m.tensor(s).take(m.tensor([0, 0])),
    "sort_empty1d": lambda m: m.zeros(0).sort().values,
    "topk_neg": lambda m: m.tensor([1.0, 2.0]).topk(1, largest=False).values,
    "cumsum_bool": lambda m: m.tensor([True, True]).cumsum(0),
    "cumprod_int32": lambda m: m.tensor([2, 3], dtype=m.int32).cumprod(0),
    "unique_empty": lambda m: m.zeros(0).unique(),
    "unique_bool": lambda m: m.tensor([True, False, True]).unique(),
    "median_int": lambda m: m.tensor([3, 1, 2, 4]).median(),
    "trace_int32": lambda m: m.ones(2, 2, dtype=m.int32).trace(),
    "diag_int_k": lambda m: m.diag(m.tensor([1, 2]), -1),
    "einsum_scalar": lambda m: m.einsum("i,i", m.tensor([1.0, 2.0]), m.tensor([3.0, 4.0])),
    "einsum_0d": lambda m: m.einsum(",->", m.tensor(2.0), m.tensor(3.0)),
    "outer_int_float": lambda m: m.outer(m.tensor([1, 2]), m.tensor([0.5])),
    "all_float": lambda m: m.all(m.tensor([1.0, 0.0])),
    "any_dim_tuple": lambda m: m.any(m.ones(2, 3, 4), dim=(0, 2)),
    "count_nonzero_tuple": lambda m: m.count_nonzero(m.ones(2, 3, 4), dim=(0, 2)),
    "logical_and_scalar": lambda m: m.logical_and(m.tensor([1, 0]), m.tensor(True)),
    "nan_to_num_int": lambda m: m.nan_to_num(m.tensor([1, 2])),
    "isclose_int": lambda m: m.isclose(m.tensor([1, 2]), m.tensor([1, 3])),
    "lerp_tensor_weight": lambda m: m.lerp(m.zeros(2), m.ones(2), m.tensor(0.5)),
    "repeat_interleave_tensor_1": lambda m: m.tensor([1, 2, 3]).repeat_interleave(m.tensor([2])),
    "roll_multi": lambda m: m.arange(6).reshape(2, 3).roll((1, -1), (0, 1)),
    "narrow_tensor_start": lambda m: m.arange(5).narrow(0, m.tensor(1), 2),
    "log10_int": lambda m: m.log10(m.tensor([10, 100])),
    "erf_f64": lambda m: m.erf(m.tensor([0.5], dtype=m.float64)),
    "round_int": lambda m: m.round(m.tensor([1, 2])),
    "floor_int": lambda m: m.floor(m.tensor([1, 2])),
    "remainder_scalar_first": lambda m: m.remainder(5.0, m.tensor([2.0, 3.0])),
    "fmod_int_float": lambda m: m.fmod(m.tensor([5, 7]), 2.5),
    "atan2_int": lambda m: m.atan2(m.tensor([1]), m.tensor([2])),
    "kthvalue_keep": lambda m: m.arange(6.0).reshape(2, 3).kthvalue(2, 0, True).values,
    "argsort_stable_kw": lambda m: m.tensor([2, 1, 2]).argsort(stable=True),
    "masked_fill_int": lambda m: m.tensor([1, 2]).masked_fill(m.tensor([True, False]), 3.7),
    "scatter_bool": lambda m: m.zeros(3, dtype=m.bool).scatter(0, m.tensor([1]), m.tensor([True])),
    "meshgrid_default": lambda m: m.meshgrid(m.tensor([1, 2]), m.tensor([3, 4, 5]))[0],
    "new_full_float_on_int": lambda m: m.tensor([1]).new_full((2,), 2.5),
    "sort_bool": lambda m: m.tensor([True, False]).sort().values,
    "cummax_int": lambda m: m.tensor([1, 3, 2]).cummax(0).values,
    "bincount_int32_weights": lambda m: m.bincount(
        m.tensor([0, 1], dtype=m.int32), m.tensor([1, 2], dtype=m.int32)
    ),
    "histc_f64": lambda m: m.histc(m.tensor([1.0, 2.0], dtype=m.float64), 2),
    "dot_int": lambda m: m.dot(m.tensor([1, 2]), m.tensor([3, 4])),
    "addmm_int": lambda m: m.addmm(
        m.ones(2, 2, dtype=m.int64), m.ones(2, 2, dtype=m.int64), m.ones(2, 2, dtype=m.int64)
    ),
    "where1_0d": lambda m: m.where(m.tensor(True))[0],
    "nonzero_bool": lambda m: m.tensor([[True, False]]).nonzero(),
    "tril_empty": lambda m: m.zeros(0, 3).tril(),
    "diagonal_neg_big": lambda m: m.ones(2, 3).diagonal(-5),
    "frac_f32": lambda m: m.frac(m.tensor([-1.5])),
    "expm1_int": lambda m: m.expm1(m.tensor([1])),
    "var_mean_int": lambda m: m.var_mean(m.tensor([1.0, 2.0]), 0),
    "cross_default_dim": lambda m: m.cross(m.ones(3, 3), m.ones(3, 3) * 2),
    "median_empty": lambda m: m.zeros(0).median(),
    "unique_unsorted": lambda m: m.tensor([3, 1, 3, 2]).unique(sorted=False),
    "topk_int": lambda m: m.tensor([3, 1, 2]).topk(2).values,
    "sort_int_desc": lambda m: m.tensor([3, 1, 2]).sort(descending=True).indices,
    "gather_neg_index": lambda m: m.zeros(3).gather(0, m.tensor([-1])),
    "scatter_value_kw": lambda m: m.zeros(3).scatter(0, m.tensor([1]), value=2.0),
    "index_select_int32": lambda m: m.arange(3).index_select(0, m.tensor([2], dtype=m.int32)),
    "masked_fill_broadcast_up": lambda m: m.zeros(3).masked_fill(m.ones(2, 3, dtype=m.bool), 1.0),
    "einsum_list": lambda m: m.einsum("ij->j", [m.ones(2, 3)]),
    "einsum_spaces": lambda m: m.einsum("i j , j k -> i k", m.ones(2, 3), m.ones(3, 1)),
    "cumsum_dtype": lambda m: m.tensor([1, 2]).cumsum(0, dtype=m.float32),
    "logcumsumexp_inf": lambda m: m.tensor([float("-inf"), 0.0]).logcumsumexp(0),
    "nan_to_num_f32_default": lambda m: m.nan_to_num(m.tensor([float("inf")])),
    "all_uint8": lambda m: m.tensor([1, 0], dtype=m.uint8).all(),
    "tile_empty_dims": lambda m: m.ones(2).tile(()),
    "repeat_interleave_0d": lambda m: m.tensor(3).repeat_interleave(2),
    "meshgrid_xy3": lambda m: m.meshgrid(m.ones(2), m.ones(3), m.ones(4), indexing="xy")[2],
    "unbind_empty": lambda m: m.zeros(0, 2).unbind(0),
    "diag_embed_3d": lambda m: m.diag_embed(m.ones(2, 3), 1),
}


def _run(f, m):
    try:
        return f(m)
    except Exception as e:
        return e


@pytest.mark.parametrize("name", list(CASES))
def test_same_as_torch(name):
    f = CASES[name]
    t, g = _run(f, torch), _run(f, gf)
    if isinstance(t, Exception):
        assert isinstance(g, type(t)), f"torch raised {type(t).__name__}: {t}; gradfit gave {g!r}"
        return
    assert not isinstance(g, Exception), f"gradfit raised {g!r}, torch gave {t}"
    tn = t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    gn = g.numpy() if isinstance(g, gf.Tensor) else np.asarray(g)
    assert gn.dtype == tn.dtype and gn.shape == tn.shape, (gn.dtype, tn.dtype, gn.shape, tn.shape)
    np.testing.assert_allclose(gn.astype(float), tn.astype(float), rtol=1e-6, equal_nan=True)
