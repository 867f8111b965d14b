"""The training loop: learning, metrics, schedulers, exact resume, NaN guard, early stopping."""

from __future__ import annotations

import io
import os
import signal

import numpy as np
import pytest

import gradfit as gf
from gradfit.data import ArrayDataset, DataLoader
from gradfit.train import (
    CSVLogger,
    EarlyStopping,
    JSONLinesLogger,
    ModelCheckpoint,
    NaNGuard,
    ProgressBar,
    Trainer,
    TrainingDiverged,
    fit,
    load_checkpoint,
)


def _data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    return x, y


def _setup(seed=0, dropout=0.1, shuffle_seed=3):
    gf.manual_seed(seed)
    x, y = _data()
    loader = DataLoader(
        ArrayDataset(x, y),
        batch_size=16,
        shuffle=True,
        generator=np.random.Generator(np.random.PCG64(shuffle_seed)),
    )
    val = DataLoader(ArrayDataset(*_data(60, 1)), batch_size=64)
    model = gf.nn.Sequential(
        gf.nn.Linear(5, 16), gf.nn.ReLU(), gf.nn.Dropout(dropout), gf.nn.Linear(16, 2)
    )
    opt = gf.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = gf.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    return model, opt, sched, loader, val


def test_fit_learns_and_records_history():
    model, opt, sched, loader, val = _setup()
    hist = fit(
        model,
        loader,
        gf.nn.CrossEntropyLoss(),
        opt,
        epochs=6,
        val_loader=val,
        scheduler=sched,
        callbacks=[],
    )
    assert len(hist) == 6
    assert hist["train_loss"][-1] < hist["train_loss"][0]
    assert hist["val_accuracy"][-1] > 0.9
    assert hist["lr"] == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    assert set(hist.keys()) >= {
        "epoch",
        "train_loss",
        "train_accuracy",
        "val_loss",
        "val_accuracy",
        "lr",
        "time",
    }


def test_train_metrics_equal_a_full_pass_computation():
    model, opt, _, loader, val = _setup(dropout=0.0)
    t = Trainer(model, gf.nn.CrossEntropyLoss(), opt, callbacks=[])
    logs = t.evaluate(val)
    x, y = _data(60, 1)
    with gf.no_grad():
        out = model(gf.tensor(x))
    assert logs["accuracy"] == pytest.approx(float((out.numpy().argmax(1) == y).mean()))
    assert logs["loss"] == pytest.approx(
        gf.nn.functional.cross_entropy(out, gf.tensor(y)).item(), rel=1e-5
    )


def test_resume_reproduces_the_uninterrupted_run_exactly(tmp_path):
    model, opt, sched, loader, val = _setup()
    t = Trainer(model, gf.nn.CrossEntropyLoss(), opt, scheduler=sched, callbacks=[])
    t.fit(loader, 6, val_loader=val)
    straight = model.state_dict()

    model, opt, sched, loader, val = _setup()
    t = Trainer(
        model, gf.nn.CrossEntropyLoss(), opt, scheduler=sched, callbacks=[ModelCheckpoint(tmp_path)]
    )
    t.fit(loader, 3, val_loader=val)
    gf.manual_seed(123)  # anything in between must not matter

    model, opt, sched, loader, val = _setup(seed=99, shuffle_seed=77)  # fresh objects, other seeds
    t = Trainer(model, gf.nn.CrossEntropyLoss(), opt, scheduler=sched, callbacks=[])
    t.train_loader = loader
    t.resume(tmp_path / "checkpoint.safetensors")
    assert t.epoch == 3 and len(t.history) == 3
    t.fit(loader, 6, val_loader=val)
    for k, v in straight.items():
        np.testing.assert_array_equal(model.state_dict()[k], v, err_msg=k)
    assert len(t.history) == 6


def test_resume_refuses_an_incompatible_checkpoint_and_changes_nothing(tmp_path):
    model, opt, sched, loader, val = _setup()
    Trainer(model, gf.nn.CrossEntropyLoss(), opt, callbacks=[ModelCheckpoint(tmp_path)]).fit(
        loader, 1
    )
    other = gf.nn.Sequential(gf.nn.Linear(5, 7), gf.nn.ReLU(), gf.nn.Linear(7, 2))
    before = other.state_dict()
    t = Trainer(
        other, gf.nn.CrossEntropyLoss(), gf.optim.SGD(other.parameters(), lr=0.1), callbacks=[]
    )
    with pytest.raises(ValueError, match="does not fit this model"):
        t.resume(tmp_path / "checkpoint.safetensors")
    for k, v in before.items():
        np.testing.assert_array_equal(other.state_dict()[k], v)


def test_nan_guard_stops_before_the_bad_step_with_a_clear_message():
    model, _, _, loader, _ = _setup()
    opt = gf.optim.SGD(model.parameters(), lr=1e6)
    guard = NaNGuard()
    t = Trainer(model, gf.nn.CrossEntropyLoss(), opt, callbacks=[guard])
    with pytest.raises(
        TrainingDiverged, match=r"at epoch \d+, step \d+.*last finite loss: [0-9.e+]+"
    ):
        t.fit(loader, 20)
    assert all(np.isfinite(v).all() for v in model.state_dict().values())


def test_early_stopping_restores_best_weights():
    model, opt, _, loader, val = _setup()
    messages = []
    es = EarlyStopping("val_loss", patience=1, restore_best_weights=True)
    t = Trainer(
        model,
        gf.nn.CrossEntropyLoss(),
        gf.optim.SGD(model.parameters(), lr=2.0),
        callbacks=[es],
        log=messages.append,
    )
    t.fit(loader, 30, val_loader=val)
    assert es.stopped_epoch and es.stopped_epoch < 30
    assert any("early stopping" in m for m in messages)
    best = t.evaluate(val)["loss"]
    assert best == pytest.approx(es.best, rel=1e-5)


def test_progress_lines_and_file_loggers(tmp_path):
    model, opt, _, loader, val = _setup()
    buf = io.StringIO()
    cbs = [
        ProgressBar(stream=buf),
        CSVLogger(tmp_path / "h.csv"),
        JSONLinesLogger(tmp_path / "h.jsonl"),
    ]
    fit(model, loader, gf.nn.CrossEntropyLoss(), opt, epochs=2, val_loader=val, callbacks=cbs)
    lines = buf.getvalue().strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("epoch 1/2") and "samples/s" in lines[0]
    csv_rows = (tmp_path / "h.csv").read_text().strip().splitlines()
    assert csv_rows[0].startswith("epoch,train_loss") and len(csv_rows) == 3
    assert len((tmp_path / "h.jsonl").read_text().strip().splitlines()) == 2


def test_checkpoint_callback_writes_best_and_last(tmp_path):
    model, opt, _, loader, val = _setup()
    cb = ModelCheckpoint(tmp_path, monitor="val_accuracy")
    fit(model, loader, gf.nn.CrossEntropyLoss(), opt, epochs=3, val_loader=val, callbacks=[cb])
    last = load_checkpoint(tmp_path / "checkpoint.safetensors")
    best = load_checkpoint(tmp_path / "best.safetensors")
    assert last.meta["epoch"] == 3 and 1 <= best.meta["epoch"] <= 3


def test_float32_training_path_has_no_float64():
    model, opt, _, loader, _ = _setup()
    t = Trainer(model, gf.nn.CrossEntropyLoss(), opt, callbacks=[])
    t.fit(loader, 1)
    for p in model.parameters():
        assert p.dtype == np.float32 and p.grad.dtype == np.float32
    for st in opt.state.values():
        for v in st.values():
            if isinstance(v, np.ndarray):
                assert v.dtype == np.float32


def test_bad_epochs():
    model, opt, _, loader, _ = _setup()
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        fit(model, loader, gf.nn.CrossEntropyLoss(), opt, epochs=0, callbacks=[])


class _CtrlC(gf.train.Callback):
    """Sends this process a real SIGINT after batch ``batch`` of epoch ``epoch``."""

    def __init__(self, epoch, batch):
        self.epoch, self.batch = epoch, batch

    def on_batch_end(self, trainer, batch, loss, n):
        if trainer.epoch == self.epoch and batch == self.batch:
            os.kill(os.getpid(), signal.SIGINT)


def _augmenting_setup(seed=0, shuffle_seed=3):
    """Dropout, shuffling, a per-batch random augmentation and a per-step schedule."""
    from gradfit.data.transforms import RandomShift1d

    gf.manual_seed(seed)
    x, y = _data()
    loader = DataLoader(
        ArrayDataset(x, y),
        batch_size=16,
        shuffle=True,
        generator=np.random.Generator(np.random.PCG64(shuffle_seed)),
        transform=RandomShift1d(1),
    )
    model = gf.nn.Sequential(
        gf.nn.Linear(5, 16), gf.nn.ReLU(), gf.nn.Dropout(0.2), gf.nn.Linear(16, 2)
    )
    opt = gf.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = gf.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.2, total_steps=4 * len(loader))
    return model, opt, sched, loader


def test_ctrl_c_stops_between_batches_and_resume_matches_the_uninterrupted_run(tmp_path):
    model, opt, sched, loader = _augmenting_setup()
    first = Trainer(model, gf.nn.CrossEntropyLoss(), opt, scheduler=sched, callbacks=[])
    first.fit(loader, 4)
    straight = model.state_dict()

    model, opt, sched, loader = _augmenting_setup()
    t = Trainer(
        model,
        gf.nn.CrossEntropyLoss(),
        opt,
        scheduler=sched,
        callbacks=[ModelCheckpoint(tmp_path), _CtrlC(epoch=2, batch=5)],
    )
    with pytest.raises(KeyboardInterrupt):
        t.fit(loader, 4)
    assert t.interrupted["batches"] == 6 and t.epoch == 2  # batches 0-5 of epoch 2 are done
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
    ck = load_checkpoint(tmp_path / "checkpoint.safetensors")
    assert ck.meta["epoch"] == 1 and ck.meta["partial_epoch"]["batches"] == 6
    assert ck.meta["step"] == len(loader) + 6

    gf.manual_seed(123)  # anything in between must not matter
    model, opt, sched, loader = _augmenting_setup(seed=99, shuffle_seed=77)
    t = Trainer(model, gf.nn.CrossEntropyLoss(), opt, scheduler=sched, callbacks=[])
    t.train_loader = loader
    t.resume(tmp_path / "checkpoint.safetensors")
    t.fit(loader, 4)
    for k, v in straight.items():
        np.testing.assert_array_equal(model.state_dict()[k], v, err_msg=k)
    untimed = [{k: v for k, v in row.items() if k != "time"} for row in first.history.rows]
    assert [{k: v for k, v in row.items() if k != "time"} for row in t.history.rows] == untimed


def test_fit_again_after_ctrl_c_finishes_the_stopped_epoch():
    model, opt, sched, loader = _augmenting_setup()
    a = Trainer(model, gf.nn.CrossEntropyLoss(), opt, scheduler=sched, callbacks=[])
    a.fit(loader, 3)

    model2, opt2, sched2, loader2 = _augmenting_setup()
    b = Trainer(model2, gf.nn.CrossEntropyLoss(), opt2, scheduler=sched2, callbacks=[_CtrlC(2, 0)])
    with pytest.raises(KeyboardInterrupt):
        b.fit(loader2, 3)
    gf.manual_seed(5)
    b.callbacks = []
    b.fit(loader2, 3)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(model2.state_dict()[k], v, err_msg=k)
    # the stopped epoch's train loss and accuracy cover all its batches, as uninterrupted
    assert b.history.rows == [
        {**row, "time": r2["time"]} for row, r2 in zip(a.history.rows, b.history.rows, strict=True)
    ]


def test_early_stopping_after_resume_stops_and_restores_as_the_straight_run(tmp_path):
    def callbacks(directory):
        # "train_loss" watched in max mode never improves after epoch 1: a stop at epoch 4
        return [
            ModelCheckpoint(directory, monitor="train_loss", mode="max"),
            EarlyStopping("train_loss", patience=3, mode="max"),
        ]

    model, opt, sched, loader, val = _setup()
    t = Trainer(model, gf.nn.CrossEntropyLoss(), opt, callbacks=callbacks(tmp_path / "a"))
    t.fit(loader, 10)
    straight, straight_epochs = model.state_dict(), len(t.history)
    assert straight_epochs == 4

    model, opt, sched, loader, val = _setup()
    t = Trainer(model, gf.nn.CrossEntropyLoss(), opt, callbacks=callbacks(tmp_path / "b"))
    t.fit(loader, 2)
    model, opt, sched, loader, val = _setup(seed=9)
    t = Trainer(model, gf.nn.CrossEntropyLoss(), opt, callbacks=callbacks(tmp_path / "b"))
    t.train_loader = loader
    t.resume(tmp_path / "b" / "checkpoint.safetensors")
    t.fit(loader, 10)
    assert len(t.history) == straight_epochs
    for k, v in straight.items():  # both hold the weights of epoch 1
        np.testing.assert_array_equal(model.state_dict()[k], v, err_msg=k)


def test_a_diverged_first_epoch_is_never_saved_as_the_last_good_checkpoint(tmp_path):
    from gradfit.train import ModelCheckpoint, NaNGuard, Trainer, TrainingDiverged

    gf.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype(np.float32) * 100
    y = rng.integers(0, 3, size=32)
    model = gf.nn.Sequential(gf.nn.Linear(4, 16), gf.nn.ReLU(), gf.nn.Linear(16, 3))
    opt = gf.optim.SGD(model.parameters(), lr=1e38)  # a forced divergence: the first step overflows
    loader = gf.data.DataLoader(gf.data.ArrayDataset(x, y), batch_size=32)
    # the checkpoint callback before the guard: it must refuse the diverged weights itself
    saver = ModelCheckpoint(tmp_path)
    trainer = Trainer(model, gf.nn.CrossEntropyLoss(), opt, callbacks=[saver, NaNGuard()])
    with pytest.raises(TrainingDiverged, match="none saved"):
        trainer.fit(loader, 3)
    assert not (tmp_path / "checkpoint.safetensors").exists()
    assert saver.last_path is None


def test_collapse_warning_on_rising_loss_and_accuracy_back_at_chance(capsys):
    from gradfit.train import CollapseWarning

    cb = CollapseWarning(chance=0.2, patience=3)

    class T:
        epoch = 0

    t = T()
    logs = [(1.0, 0.90), (0.5, 0.94), (0.6, 0.60), (0.8, 0.40), (0.9, 0.20), (1.2, 0.21)]
    for i, (loss, acc) in enumerate(logs):
        t.epoch = i + 1
        cb.on_epoch_end(t, {"val_loss": loss, "val_accuracy": acc})
    assert len(cb.warnings) == 2, cb.warnings  # each sign once
    assert "chance" in cb.warnings[0] and "rose 4 epochs" in cb.warnings[1]
    assert capsys.readouterr().err.count("warning:") == 2
    calm = CollapseWarning(chance=0.2)
    # noisy, or rising 3 epochs but below twice its lowest (a small validation set's noise)
    for i, loss in enumerate([1.0, 0.8, 0.9, 0.7, 0.75, 0.6, 0.05, 0.06, 0.07, 0.09]):
        calm.on_epoch_end(t, {"val_loss": loss, "val_accuracy": 0.5 + i / 20})
    assert calm.warnings == []
