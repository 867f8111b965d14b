"""The official MNIST example's structure: Conv2d net, Adadelta + StepLR, train/test loops."""

import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.conv2 = nn.Conv2d(4, 8, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.fc1 = nn.Linear(8 * 5 * 5, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def train(model, device, train_loader, optimizer):
    model.train()
    for data, target in train_loader:
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()


def test(model, device, test_loader):
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    return test_loss / len(test_loader.dataset), correct


use_cuda = torch.cuda.is_available()
device = torch.device("cuda" if use_cuda else "cpu")
rng = np.random.default_rng(4)
images = torch.tensor(rng.random((96, 1, 14, 14)), dtype=torch.float32)
labels = torch.tensor(rng.integers(0, 10, 96))
train_loader = DataLoader(TensorDataset(images, labels), batch_size=32, shuffle=False)
test_loader = DataLoader(TensorDataset(images, labels), batch_size=48)
model = Net().to(device)
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(
            torch.tensor(
                np.random.default_rng(20 + i).uniform(-0.2, 0.2, tuple(p.shape)),
                dtype=torch.float32,
            )
        )
model.dropout1.p = 0.0  # identical runs in both libraries (dropout draws differ)
optimizer = optim.Adadelta(model.parameters(), lr=1.0)
scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
for epoch in range(1, 4):
    train(model, device, train_loader, optimizer)
    loss, correct = test(model, device, test_loader)
    scheduler.step()
# tolerance: 1e-3 1e-4
print("RESULT", json.dumps({"loss": loss, "correct": correct, "lr": scheduler.get_last_lr()[0]}))
