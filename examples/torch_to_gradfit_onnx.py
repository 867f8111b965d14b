"""From PyTorch to gradfit to ONNX Runtime: train in torch, fine-tune here, serve anywhere.

Run: python examples/torch_to_gradfit_onnx.py   (needs torch and the onnx extra:
pip install torch -e ".[onnx]")

The data are the 8x8 ``digits`` bundled with scikit-learn (``gf.data.load_dataset``).

1. PyTorch: train a small CNN on the digits 0-4 and save its weights with
   ``safetensors.torch.save_file``, as any torch project would.
2. gradfit: build the same layers (one ``build(nn)`` function serves both frameworks,
   as the layer names and weight layouts are the same), load the torch file, freeze
   the convolutional body and train a new output layer for the digits 5-9.
3. Export the fine-tuned model to ONNX with a dynamic batch axis and check that ONNX
   Runtime gives gradfit's outputs.

What it printed (seed 0, 2-core CPU, about 8 s of CPU time):

    torch    : digits 0-4, test accuracy 0.989 (4 epochs)
    gradfit  : loaded 6 tensors from torch's safetensors; outputs match torch (max diff 3.8e-06)
    gradfit  : digits 5-9 with a frozen body, test accuracy 0.944 (new head only)
    onnx     : model.onnx, ONNX Runtime vs gradfit max abs diff 2.9e-06 on 179 images

(The differences are float32 rounding on logits of size ~10-50: relative 1e-7.)
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np

import gradfit as gf


# ---------------------------------------------------------------- one architecture, two frameworks
def build(nn, num_classes: int = 5):
    """The same CNN in torch (``build(torch.nn)``) and in gradfit (``build(gf.nn)``)."""
    body = nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),  # (N, 64) rows -> (N, 1, 8, 8) images
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (N, 8, 4, 4)
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (N, 16, 2, 2)
        nn.Flatten(),
    )  # fmt: skip
    return nn.Sequential(body, nn.Linear(16 * 2 * 2, num_classes))


def subset(x, y, classes):
    keep = np.isin(y, classes)
    return x[keep], (y[keep] - classes[0]).astype(np.int64)


def accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    return float((logits.argmax(1) == y).mean())


def main(out_dir: str | None = None, seed: int = 0) -> dict[str, float]:
    import onnxruntime as ort
    import torch
    from safetensors.torch import save_file

    start = time.perf_counter()
    out_dir = out_dir or tempfile.mkdtemp()
    data = gf.data.load_dataset("digits")
    x_tr, y_tr, x_te, y_te = data.train.x, data.train.y, data.test.x, data.test.y
    old, new = [0, 1, 2, 3, 4], [5, 6, 7, 8, 9]

    # ------------------------------------------------------------ 1. PyTorch: train, save
    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a network this small runs fastest on one thread
    tnet = build(torch.nn)
    opt = torch.optim.Adam(tnet.parameters(), lr=1e-2)
    xa, ya = (torch.from_numpy(a) for a in subset(x_tr, y_tr, old))
    epochs = 4
    for _ in range(epochs):
        for idx in torch.randperm(len(xa)).split(32):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(tnet(xa[idx]), ya[idx]).backward()
            opt.step()
    tnet.eval()
    xo, yo = subset(x_te, y_te, old)
    with torch.no_grad():
        torch_acc = accuracy(tnet(torch.from_numpy(xo)).numpy(), yo)
        torch_out = tnet(torch.from_numpy(x_te)).numpy()
    weights = os.path.join(out_dir, "cnn-0-4.safetensors")
    save_file(tnet.state_dict(), weights)
    torch.set_num_threads(threads)
    print(f"torch    : digits 0-4, test accuracy {torch_acc:.3f} ({epochs} epochs)")

    # ------------------------------------------------------------ 2. gradfit: load, freeze, new head
    gf.manual_seed(seed)
    net = gf.interop.load_torch_safetensors(build(gf.nn), weights).eval()
    same = float(np.abs(net(gf.tensor(x_te)).numpy() - torch_out).max())
    print(
        f"gradfit  : loaded {len(net.state_dict())} tensors from torch's safetensors; "
        f"outputs match torch (max diff {same:.1e})"
    )
    body = net[0]
    body.requires_grad_(False)  # frozen features
    net[1] = gf.nn.Linear(16 * 2 * 2, len(new))  # a new head for the new classes
    opt = gf.optim.Adam(net[1].parameters(), lr=3e-2)
    xb, yb = subset(x_tr, y_tr, new)
    rng = np.random.default_rng(seed)
    net.train()
    for _ in range(15):
        for idx in np.array_split(rng.permutation(len(xb)), max(1, len(xb) // 64)):
            opt.zero_grad()
            loss = gf.nn.functional.cross_entropy(net(gf.tensor(xb[idx])), gf.tensor(yb[idx]))
            loss.backward()
            opt.step()
    net.eval()
    xn, yn = subset(x_te, y_te, new)
    with gf.no_grad():
        ours = net(gf.tensor(xn)).numpy()
    gf_acc = accuracy(ours, yn)
    print(f"gradfit  : digits 5-9 with a frozen body, test accuracy {gf_acc:.3f} (new head only)")

    # ------------------------------------------------------------ 3. ONNX: export, serve, compare
    path = os.path.join(out_dir, "model.onnx")
    gf.onnx.export(
        net, gf.tensor(xn[:1]), path, input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
    )  # fmt: skip
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    (served,) = session.run(["logits"], {"input": xn})
    diff = float(np.abs(served - ours).max())
    print(
        f"onnx     : model.onnx, ONNX Runtime vs gradfit max abs diff {diff:.1e} on {len(xn)} images"
    )
    return {
        "torch_acc": torch_acc,
        "same": same,
        "gf_acc": gf_acc,
        "onnx_diff": diff,
        "seconds": time.perf_counter() - start,
    }


if __name__ == "__main__":
    main()
