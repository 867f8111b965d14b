"""draw_graph: the DOT text holds the graph's ops, shapes, parameter names and gradient norms."""

import re
import shutil

import numpy as np
import pytest

import gradfit as gf
from gradfit import nn
from gradfit.viz.graph import GraphvizNotFoundError, draw_graph


def _labels(dot):
    return dict(re.findall(r'(n\d+|m\d+) \[label="([^"]*)"', dot))


def _edges(dot):
    return re.findall(r"^  (\w+) -> (\w+);$", dot, flags=re.M)


def test_ops_shapes_and_edges_of_a_small_expression():
    a = gf.tensor([[1.0, 2.0, 3.0]], requires_grad=True)  # (1, 3)
    w = gf.randn(3, 2, requires_grad=True)
    out = (a @ w).tanh().sum()
    g = draw_graph(out, params={"a": a, "w": w})
    labels = _labels(g.dot)
    by_first = {v.split("\\n")[0]: (k, v) for k, v in labels.items()}
    assert set(by_first) == {"Sum", "Tanh", "MatMul", "a", "w"}
    assert "\\n(1, 2)\\n" in by_first["MatMul"][1] and "\\n(1, 2)\\n" in by_first["Tanh"][1]
    assert by_first["Sum"][1].startswith("Sum\\n()")
    assert by_first["w"][1].startswith("w\\n(3, 2)")
    ids = {name: k for name, (k, _) in by_first.items()}
    edges = set(_edges(g.dot))
    assert edges == {
        (ids["a"], ids["MatMul"]),
        (ids["w"], ids["MatMul"]),
        (ids["MatMul"], ids["Tanh"]),
        (ids["Tanh"], ids["Sum"]),
    }
    assert "grad norm" not in g.dot  # no backward yet


def test_gradient_norms_after_backward_match_grad():
    x = gf.tensor([3.0, 4.0], requires_grad=True)
    y = gf.tensor(2.0, requires_grad=True)
    out = (x * y).sum()
    out.backward()
    dot = draw_graph(out, params={"x": x, "y": y}).dot
    labels = [v for v in _labels(dot).values()]
    xl = next(v for v in labels if v.startswith("x\\n"))
    yl = next(v for v in labels if v.startswith("y\\n"))
    assert float(xl.split("grad norm ")[1]) == pytest.approx(np.linalg.norm(x.grad._data), rel=1e-3)
    assert float(yl.split("grad norm ")[1]) == pytest.approx(7.0)


def test_model_parameters_get_their_module_names():
    model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2))
    loss = model(gf.randn(3, 4)).sum()
    loss.backward()
    dot = draw_graph(loss, params=model).dot
    for name, shape in [("0.weight", "(5, 4)"), ("0.bias", "(5,)"), ("2.weight", "(2, 5)")]:
        assert f'label="{name}\\n{shape}\\ngrad norm' in dot
    assert "input" not in dot  # the data does not require grad: not a leaf of the graph
    assert dot.count("ReLU") == 1


def test_unnamed_leaves_are_inputs_and_shared_nodes_appear_once():
    x = gf.tensor(2.0, requires_grad=True)
    h = x * x
    out = h + h  # h's node is used twice
    g = draw_graph(out)
    assert [n.label[0] for n in g.nodes] == ["Add", "Mul", "input"]
    assert len(g.edges) == 4  # Mul->Add twice, input->Mul twice
    assert g.nodes[0].is_output


def test_large_graph_collapses_by_module():
    layers = []
    for _ in range(8):
        layers += [nn.Linear(6, 6), nn.Tanh()]
    model = nn.Sequential(*layers)
    loss = model(gf.randn(2, 6)).sum()
    full = draw_graph(loss, params=model, collapse=False)
    assert len(full.nodes) == 8 * 4 + 1
    g = draw_graph(loss, params=model, max_nodes=20)
    assert g.collapsed and len(g.nodes) < 20
    modules = [n for n in g.nodes if n.kind == "module"]
    assert [n.label[0] for n in modules] == [f"module {i}" for i in range(14, -1, -2)]
    assert all("weight (6, 6)" in "\n".join(n.label) for n in modules)
    # Tanh runs between modules stay visible as ops, the graph stays connected
    assert sum(n.ops.count("Tanh") for n in g.nodes) == 8
    ids = {n.id for n in g.nodes}
    assert all(a in ids and b in ids for a, b in g.edges)
    assert len(g.edges) == len(g.nodes) - 1  # a chain


def test_deep_graph_is_walked_without_recursion():
    x = gf.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0
    g = draw_graph(y, collapse=False)
    assert len(g.nodes) == 3001


def test_save_dot_and_svg(tmp_path):
    x = gf.tensor([1.0, 2.0], requires_grad=True)
    g = draw_graph((x * 2).sum(), params={"x": x})
    p = g.save(tmp_path / "g.dot")
    assert p.read_text() == g.dot
    with pytest.raises(ValueError, match=r"\.dot"):
        g.save(tmp_path / "g.txt")
    if shutil.which("dot") is None:
        with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
            g.save(tmp_path / "g.svg")
    else:
        svg = g.save(tmp_path / "g.svg").read_text()
        assert "<svg" in svg and "Mul" in svg


def test_missing_dot_program_gives_install_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    x = gf.tensor(1.0, requires_grad=True)
    with pytest.raises(GraphvizNotFoundError, match="pip install graphviz"):
        draw_graph(x * x).save(tmp_path / "g.png")
    assert not (tmp_path / "g.png").exists()


def test_bad_arguments():
    with pytest.raises(TypeError, match="draw_graph"):
        draw_graph(np.ones(2))
    x = gf.tensor(1.0, requires_grad=True)
    with pytest.raises(TypeError, match="params"):
        draw_graph(x * x, params=3)
    with pytest.raises(ValueError, match="collapse"):
        draw_graph(x * x, collapse="maybe")
