"""Softmax regression from scratch, in the style of a textbook's chapter."""

import json

import numpy as np
import torch

rng = np.random.default_rng(3)
num_inputs, num_outputs, n = 20, 4, 256
X = torch.tensor(rng.standard_normal((n, num_inputs)), dtype=torch.float32)
true_W = torch.tensor(rng.standard_normal((num_inputs, num_outputs)), dtype=torch.float32)
y = (X @ true_W).argmax(dim=1)

W = torch.tensor(
    rng.normal(0, 0.01, (num_inputs, num_outputs)), dtype=torch.float32, requires_grad=True
)
b = torch.zeros(num_outputs, requires_grad=True)


def softmax(X):
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition


def net(X):
    return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)


def cross_entropy(y_hat, y):
    return -torch.log(y_hat[range(len(y_hat)), y])


def accuracy(y_hat, y):
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


lr, batch_size = 0.5, 32
for epoch in range(5):
    for i in range(0, n, batch_size):
        Xb, yb = X[i : i + batch_size], y[i : i + batch_size]
        l = cross_entropy(net(Xb), yb)
        l.sum().backward()
        sgd([W, b], lr, batch_size)
with torch.no_grad():
    acc = accuracy(net(X), y) / n
    loss = cross_entropy(net(X), y).mean().item()
# tolerance: 1e-4 1e-5
print("RESULT", json.dumps({"acc": acc, "loss": loss}))
