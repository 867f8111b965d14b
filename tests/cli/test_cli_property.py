"""Property: whatever the arguments and files, every command exits 0, 2 or 130, never
prints a traceback, and a failed command leaves no output behind (issue 16).

Runs the CLI in-process (tests/inproc.py) over argument lists drawn from valid and invalid
values and crafted files; matplotlib's rendering is stubbed (the figure is still built and
written atomically) so that 500 examples take seconds. A few real subprocess runs follow.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.numpy import save

from clirun import gradfit
from inproc import run_cli

# values every numeric option draws from: valid ones (small: each run stays cheap) and bad ones
INTS = ["1", "2", "0", "-1", "abc", "1.5", "nan", "", "99999999999999999999"]
FLOATS = ["0.1", "0", "-5", "nan", "inf", "-inf", "1e39", "abc", "1e-300", ""]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A folder of inputs: a real run, and files crafted to break each reader."""
    w = tmp_path_factory.mktemp("world")
    run = w / "run"
    r = run_cli("train", "--data", "xor", "--epochs", "1", "--hidden", "4", "--no-baselines",
                "--quiet", "--out", str(run))  # fmt: skip
    assert r.returncode == 0, r.stderr
    (w / "good.csv").write_text("a,b\n0,1\n1,0\n")
    (w / "nan.csv").write_text("0,nan\n1,0\n")
    (w / "big.csv").write_text("1e39,0\n")
    (w / "ragged.csv").write_text("1,2\n3\n")
    (w / "binary.csv").write_bytes(b"\xff\xfe\x00\x01" * 10)
    np.save(w / "good.npy", np.zeros((3, 2), np.float32))
    np.save(w / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    from numpy.lib import format as npformat

    with open(w / "huge.npy", "wb") as f:
        npformat.write_array_header_1_0(f, {"descr": "<f4", "fortran_order": False,
                                            "shape": (10**11, 64)})  # fmt: skip
    (w / "garbage.safetensors").write_bytes(os.urandom(200))
    (w / "trunc.safetensors").write_bytes((run / "checkpoint.safetensors").read_bytes()[:300])
    deep = "[" * 100_000 + "]" * 100_000
    (w / "deep.safetensors").write_bytes(save({"model.w": np.zeros(1, np.float32)},
                                              metadata={"gradfit": deep}))  # fmt: skip
    h = json.dumps({"model.w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}).encode()
    (w / "bf16.safetensors").write_bytes(len(h).to_bytes(8, "little") + h + b"\0" * 4)
    (w / "good.toml").write_text("epochs = 1\nhidden = [4]\n")
    (w / "bad.toml").write_text("epochs = 'many'\n")
    (w / "junk.toml").write_text("[[[")
    (w / "adir").mkdir()
    return w


def _paths(w: Path) -> list[str]:
    names = ["run", "run/checkpoint.safetensors", "good.csv", "nan.csv", "big.csv", "ragged.csv",
             "binary.csv", "good.npy", "obj.npy", "huge.npy", "garbage.safetensors",
             "trunc.safetensors", "deep.safetensors", "bf16.safetensors", "adir", "missing.csv",
             "good.toml", "bad.toml", "junk.toml"]  # fmt: skip
    return [str(w / n) for n in names]


def _outs(out: Path, w: Path) -> list[str]:
    return [str(out / "o.png"), str(out / "o.csv"), str(out / "run"), str(out / "o.svg"),
            str(out), str(out / "missing" / "o.png"), str(w / "good.csv" / "o.png"),
            str(out / "o.txt"), str(out / "g.dot")]  # fmt: skip


def _options(w: Path, out: Path) -> dict[str, dict[str, list[str]]]:
    paths = _paths(w)
    outs = _outs(out, w)
    data = ["xor", "moons", "sine", "mnsit", "csv", "synthetic-ratings", ""]
    models = ["mlp", "logistic", "linear", "cnn", "cnn1d", "matrix_factorization", "mpl"]
    train = {
        "--data": data, "--model": models,
        "--hidden": ["4", "2,2", "0", "-1", "1000000000000", "a,b", "", "4,", "100000000"],
        "--optimizer": ["sgd", "adam", "adamw", "rmsprop", "adagrad", "adm"],
        "--schedule": ["none", "cosine", "onecycle", "plateau", "cosin"],
        "--lr": FLOATS, "--momentum": FLOATS, "--weight-decay": FLOATS, "--l1": FLOATS,
        "--dropout": FLOATS, "--val-fraction": FLOATS, "--epochs": ["1", "0", "-2", "x", "nan"],
        "--batch-size": INTS, "--seed": INTS, "--embedding-dim": ["2", "0", "100000000"],
        "--classes": ["0-1", "0", "1-0", "0-100000000", "a"], "--train-per-class": INTS,
        "--shift": INTS, "--out": outs, "--config": paths, "--resume": paths,
        "--init-from": paths, "--path": paths, "--target": ["a", "b", "zz"],
        "--freeze": ["0", "layers", ""], "--early-stopping": INTS, "--track-curvature": INTS,
    }  # fmt: skip
    return {
        "train": train,
        "predict": {"": [str(w / "run"), *paths], " ": paths, "--out": outs},
        "evaluate": {"": [str(w / "run"), *paths], "--split": ["test", "val", "train", "x"]},
        "summary": {"": [str(w / "run"), *paths], "--data": data, "--model": models,
                    "--hidden": train["--hidden"], "--path": paths, "--target": ["a", "b"]},
        "lr-find": {"--data": data, "--model": models, "--hidden": train["--hidden"],
                    "--num-iter": ["5", "6", "0", "1000000000", "x"], "--start-lr": FLOATS,
                    "--end-lr": FLOATS, "--batch-size": INTS, "--plot": outs,
                    "--optimizer": train["--optimizer"], "--momentum": FLOATS},
        "viz descent": {"--function": ["bowl", "rosenbrock", "beale", "rosenbrok"],
                        "--steps": ["3", "0", "100000000", "-1", "x"], "--lr": FLOATS,
                        "--optimizers": ["sgd", "adam,sgd", "nope", ""], "--out": outs},
        "viz explain": {"": ["x * y", "x * 9**9**9", "(x - 3).log()", "x.relu() + y**2",
                             "__import__('os')", "x.__class__", "x +", "'a' * 3", "x @ y",
                             "x ** 1e308", "y / 0"],
                        "--values": ["x=3,y=2", "x=nan", "x=1", "y", "x=1e400,y=1"]},
        "viz landscape": {"": [str(w / "run"), *paths], "--steps": ["2", "3", "1", "100000"],
                          "--span": FLOATS, "--samples": ["1", "8", "0"], "--out": outs},
        "viz landscape --newton": {"": [str(w / "run"), *paths], "--lr": FLOATS,
                                   "--damping": FLOATS, "--steps": ["2", "3", "1"],
                                   "--samples": ["1", "8", "0"], "--out": outs},
        "viz curvature": {"": [str(w / "run"), *paths], "--samples": ["1", "8", "0", "100001"],
                          "--iters": ["1", "3", "0", "x"], "--out": outs},
        "viz curves": {"": [str(w / "run"), *paths], "--out": outs,
                       "--metrics": ["loss", "nope", ""]},
        "viz graph": {"--model": models, "--data": data, "--hidden": ["4", "0", "x"],
                      "--batch-size": ["1", "0", "100000"], "--out": outs},
        "datasets": {},
    }  # fmt: skip


def _valid(w: Path, out: Path) -> dict[str, list[str]]:
    """Values that work, drawn half of the time so that successful runs are exercised too."""
    return {
        "": [str(w / "run")], " ": [str(w / "good.csv"), str(w / "good.npy")],
        "--out": [str(out / "o.png"), str(out / "o.csv"), str(out / "run"), str(out / "g.dot")],
        "--plot": [str(out / "o.png")], "--data": ["xor", "moons", "sine"], "--model": ["mlp"],
        "--steps": ["3"], "--span": ["0.5"], "--samples": ["8"], "--lr": ["0.1", "0.01"],
        "--values": ["x=3,y=2"], "--function": ["bowl", "beale"], "--hidden": ["4", "2,2"],
        "--optimizers": ["sgd,adam"], "--split": ["test", "val"], "--metrics": ["loss"],
        "--iters": ["3"], "--damping": ["0.1"], "--track-curvature": ["1"],
    }  # fmt: skip


@st.composite
def argv_for(
    draw, options: dict[str, dict[str, list[str]]], valid: dict[str, list[str]]
) -> list[str]:
    command = draw(st.sampled_from(sorted(options)))
    flags = options[command]
    argv = command.split()
    # cheap defaults first; a drawn flag given later wins (argparse keeps the last)
    argv += {"train": ["--data", "xor", "--epochs", "1", "--hidden", "4", "--no-baselines",
                       "--quiet"],
             "lr-find": ["--data", "xor", "--num-iter", "5"]}.get(command, [])  # fmt: skip
    positional = [k for k in flags if not k.strip()]

    def value(flag: str) -> str:
        choices = st.sampled_from(flags[flag])
        if valid.get(flag) and not (command == "viz explain" and flag == ""):
            choices = st.sampled_from(valid[flag]) | choices
        return draw(choices)

    for k in positional:
        argv.append(value(k))
    named = [k for k in flags if k.strip()]
    for flag in draw(st.lists(st.sampled_from(named), max_size=5, unique=True) if named
                     else st.just([])):  # fmt: skip
        argv += [flag, value(flag)]
    if draw(st.integers(0, 19)) == 7:  # now and then a stray token
        argv.insert(draw(st.integers(0, len(argv))), draw(st.sampled_from(["--x", "-", "--"])))
    return argv


@pytest.fixture
def fast_figures(monkeypatch):
    """Figures are built as usual but written as a stub (rendering is not what this tests)."""
    from matplotlib.figure import Figure

    def savefig(self, fname, *args, **kwargs):
        if hasattr(fname, "write"):
            fname.write(b"stub")
        else:
            Path(fname).write_bytes(b"stub")

    monkeypatch.setattr(Figure, "savefig", savefig)


_counter = itertools.count()
TIMES: dict[str, list[tuple[float, int]]] = {}


def test_every_command_exits_0_2_or_130_without_traceback(
    world, fast_figures, tmp_path, monkeypatch
):
    base = tmp_path

    @settings(max_examples=int(os.environ.get("GRADFIT_CLI_EXAMPLES", "500")), deadline=None,
              derandomize=not os.environ.get("GRADFIT_CLI_RANDOM"),
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(data=st.data())
    def check(data):
        out = Path(tempfile.mkdtemp(dir=base, prefix=f"ex{next(_counter)}-"))
        argv = data.draw(argv_for(_options(world, out), _valid(world, out)), label="argv")
        # a train without --out writes runs/<timestamp> in the working directory: here, out,
        # never the repository; and a failed one must leave nothing there either
        monkeypatch.chdir(out)
        before = sorted(p.name for p in world.rglob("*"))
        t0 = time.perf_counter()
        r = run_cli(*argv)
        TIMES.setdefault(" ".join(argv[:2] if argv[0] == "viz" else argv[:1]), []).append(
            (time.perf_counter() - t0, r.returncode)
        )
        assert r.returncode in (0, 2, 130), (argv, r.stderr)
        assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, (argv, r.stderr)
        if r.returncode != 0:
            left = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
            assert not left, (argv, r.stderr, left)  # nothing half done
        assert not [p for p in world.rglob("*.tmp")], argv
        assert sorted(p.name for p in world.rglob("*")) == before, argv  # inputs untouched

    check()
    if os.environ.get("GRADFIT_CLI_TIMES"):
        for k, v in sorted(TIMES.items()):
            print(k, len(v), round(sum(t for t, _ in v), 2), sum(rc == 0 for _, rc in v))


@pytest.mark.parametrize(
    "argv",
    [
        ["viz", "explain", "x * 9**9**9", "--values", "x=2"],
        ["lr-find", "--end-lr", "inf"],
        ["train", "--l1", "nan"],
        ["summary", "--hidden", "100000000"],
    ],
)
def test_real_subprocess_runs_are_one_line(argv):
    r = gradfit(*argv, timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
