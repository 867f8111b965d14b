"""Fit a line by gradient descent with gradfit's autograd, step by step.

Run: python examples/autograd_tour.py
"""

import gradfit as gf

gf.manual_seed(0)

# data: y = 3x - 2 plus a little noise
x = gf.linspace(-1, 1, 64).reshape(64, 1)
y = 3 * x - 2 + 0.05 * gf.randn(64, 1)

# parameters: start anywhere
w = gf.zeros(1, 1, requires_grad=True)
b = gf.zeros(1, requires_grad=True)

lr = 0.5
for step in range(101):
    pred = x @ w + b  # forward: builds the graph
    loss = ((pred - y) ** 2).mean()  # mean squared error
    w.grad = b.grad = None  # gradients accumulate: clear them
    loss.backward()  # backward: chain rule to w and b
    with gf.no_grad():  # gradient descent step
        w -= lr * w.grad
        b -= lr * b.grad
    if step % 20 == 0:
        print(f"step {step:3d}  loss {loss.item():.5f}  w {w.item():+.3f}  b {b.item():+.3f}")
