"""A DCGAN-like generator: ConvTranspose2d, BatchNorm2d, weights_init with .data.normal_."""

import json

import numpy as np
import torch
import torch.nn as nn

nz, ngf = 8, 4


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, 1, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, input):
        return self.main(input)


netG = Generator()
netG.apply(weights_init)
stds = [float(m.weight.std()) for m in netG.modules() if isinstance(m, nn.ConvTranspose2d)]
with torch.no_grad():  # the same weights in both libraries for the comparison
    for i, p in enumerate(netG.parameters()):
        p.copy_(
            torch.tensor(
                np.random.default_rng(30 + i).normal(0, 0.2, tuple(p.shape)), dtype=torch.float32
            )
        )
noise = torch.tensor(np.random.default_rng(7).standard_normal((5, nz, 1, 1)), dtype=torch.float32)
fake = netG(noise)
loss = (fake**2).mean()
loss.backward()
grad_norm = sum(float(p.grad.norm() ** 2) for p in netG.parameters()) ** 0.5
# tolerance: 1e-4 1e-5
print(
    "RESULT",
    json.dumps(
        {
            "shape": list(fake.shape),
            "loss": loss.item(),
            "grad_norm": grad_norm,
            "init_std_ok": all(0.01 < s < 0.03 for s in stds),
        }
    ),
)
