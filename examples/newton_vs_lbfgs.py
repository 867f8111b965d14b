"""Gradient descent, Newton's method and L-BFGS on one problem: how many steps each needs.

The problem is L2-regularised logistic regression on 200 points with 6 features of very
different scales, in float64. Its loss is smooth and strictly convex, so all three reach
the same minimum; what differs is how much they know about the curvature:

- gradient descent knows only the slope and must take steps of 1 / (largest curvature),
  which crawl along the flat directions (the ratio of the largest to the smallest
  curvature, the condition number, sets how many steps);
- Newton's method solves H s = -g with the exact Hessian H (from
  ``gf.autograd.functional.hessian``, a gradient of the gradient) and converges
  quadratically once close: the number of correct digits doubles each step;
- L-BFGS (``gf.optim.LBFGS``) builds an approximation of H^-1 from the last gradients
  it saw, without ever forming H: between the two.

Run: python examples/newton_vs_lbfgs.py
"""

import numpy as np

import gradfit as gf
from gradfit.autograd.functional import hessian

TOL = 1e-8  # converged when the gradient's norm is below this
MAX_STEPS = 20_000
LAMBDA = 1e-2  # L2 penalty: makes the minimum unique and the problem strictly convex

# ---------------------------------------------------------------- the problem (float64)
rng = np.random.default_rng(0)
scales = np.array([4.0, 2.0, 1.0, 0.5, 0.25, 0.1])
X = gf.tensor(rng.standard_normal((200, 6)) * scales)  # (N, D)
true_w = rng.standard_normal(6)
y = gf.tensor((X.numpy() @ true_w + 0.5 * rng.standard_normal(200) > 0).astype(np.float64))


def loss_fn(w):
    """Mean logistic loss plus (LAMBDA / 2) |w|^2."""
    logits = X @ w  # (N,)
    data = gf.nn.functional.binary_cross_entropy_with_logits(logits, y)
    return data + 0.5 * LAMBDA * (w * w).sum()


def gradient(w):
    (g,) = gf.autograd.grad(loss_fn(w), [w])
    return g


# ---------------------------------------------------------------- the three methods
def gradient_descent(w0):
    """w <- w - lr * g with lr = 1 / (largest Hessian eigenvalue at the start)."""
    top = np.linalg.eigvalsh(hessian(loss_fn, w0).numpy()).max()
    lr = 1.0 / top  # stable below 2 / top; the logistic curvature is largest at w = 0
    w = w0.clone().requires_grad_(True)
    for step in range(MAX_STEPS):
        g = gradient(w)
        if g.norm().item() < TOL:
            return step, w
        with gf.no_grad():
            w -= lr * g
    return MAX_STEPS, w


def newton(w0):
    """w <- w - H^-1 g, with H the exact Hessian (a gradient of the gradient)."""
    w = w0.clone().requires_grad_(True)
    for step in range(MAX_STEPS):
        g = gradient(w)
        if g.norm().item() < TOL:
            return step, w
        H = hessian(loss_fn, w)  # (D, D)
        s = np.linalg.solve(H.numpy(), g.numpy())
        with gf.no_grad():
            w -= gf.tensor(s)
    return MAX_STEPS, w


def lbfgs(w0):
    """One L-BFGS iteration per ``step`` (max_iter=1) with a strong-Wolfe line search."""
    w = w0.clone().requires_grad_(True)
    opt = gf.optim.LBFGS(
        [w], lr=1, max_iter=1, line_search_fn="strong_wolfe", tolerance_grad=0.0,
        tolerance_change=0.0, history_size=10,
    )  # fmt: skip

    def closure():
        opt.zero_grad()
        loss = loss_fn(w)
        loss.backward()
        return loss

    for step in range(MAX_STEPS):
        if gradient(w).norm().item() < TOL:
            return step, w
        opt.step(closure)
    return MAX_STEPS, w


def compare():
    """Steps to convergence and the final loss of each method, from w = 0."""
    w0 = gf.zeros(6, dtype=gf.float64)
    results = {}
    for name, method in (("gradient descent", gradient_descent), ("L-BFGS", lbfgs),
                         ("Newton", newton)):  # fmt: skip
        steps, w = method(w0)
        results[name] = {"steps": steps, "loss": loss_fn(w).item(), "w": w.detach().numpy()}
    return results


if __name__ == "__main__":
    H0 = np.linalg.eigvalsh(hessian(loss_fn, gf.zeros(6, dtype=gf.float64)).numpy())
    print(
        f"Hessian eigenvalues at w = 0: {np.round(H0, 4)} (condition number {H0[-1] / H0[0]:.0f})"
    )
    for name, r in compare().items():
        print(f"{name:17s} {r['steps']:6d} steps to |grad| < {TOL:g}   loss {r['loss']:.10f}")
