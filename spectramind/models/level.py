"""Linear readout of the spectrum's level from the white-light residuals.

The physics fit's error is almost all one level shared by the 283 bins (the white light's
depth), and what the light curves say about it is a small signal spread over many strongly
correlated time steps: the residual (flux minus the fitted transit, drift included) of FGS1
and of the AIRS white light. Gradient descent on such a readout converges slowly, so it is
fitted in closed form (ridge regression on standardised inputs) on the training planets
before the network trains, then fine-tuned with it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from spectramind.models.dataset import WHITE_LIGHT_PAIRS


def residual_features(fgs1: torch.Tensor) -> torch.Tensor:
    """(B, steps, LIGHT_CURVE_FEATURES) -> (B, 2 steps): each white light minus its transit."""
    return torch.cat([fgs1[..., flux] - fgs1[..., transit] for flux, transit in WHITE_LIGHT_PAIRS],
                     dim=1)  # fmt: skip


class LevelReadout(nn.Module):
    """Residual light curves -> level shift (B, 1) in units of the FGS1 physics sigma; starts
    at zero (the physics fit's level) until ``fit``."""

    def __init__(self, steps: int) -> None:
        super().__init__()
        n_features = len(WHITE_LIGHT_PAIRS) * steps
        self.linear = nn.Linear(n_features, 1)
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))
        self.reset()

    def forward(self, fgs1: torch.Tensor) -> torch.Tensor:
        return self.linear((residual_features(fgs1) - self.mean) / self.scale)

    @torch.no_grad()
    def reset(self) -> None:
        """Back to the start: no level shift."""
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        self.mean.zero_()
        self.scale.fill_(1.0)

    @torch.no_grad()
    def fit(self, fgs1: torch.Tensor, target: torch.Tensor, ridge: float) -> None:
        """Ridge regression of ``target`` (B,) on the standardised residuals of ``fgs1``
        (B, steps, features); the intercept is not penalised."""
        x = residual_features(fgs1).double()
        mean, scale = x.mean(dim=0), x.std(dim=0, correction=0).clamp_min(1e-9)
        z = (x - mean) / scale
        y = target.double() - target.double().mean()
        gram = z.T @ z + ridge * torch.eye(z.shape[1], dtype=z.dtype)
        weight = torch.linalg.solve(gram, z.T @ y)
        self.mean.copy_(mean)
        self.scale.copy_(scale)
        self.linear.weight.copy_(weight[None, :])
        self.linear.bias.fill_(float(target.double().mean()))


def level_targets(truth: torch.Tensor, physics_mu: torch.Tensor,
                  physics_sigma: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """What the readout learns: the mean over bins of truth - physics mu, in FGS1 sigmas."""
    return ((truth - physics_mu).mean(dim=1) / physics_sigma[:, 0]).float()


def choose_ridge(
    readout: LevelReadout,
    train: tuple[torch.Tensor, torch.Tensor],
    validation: tuple[torch.Tensor, torch.Tensor],
    grid: Sequence[float] = (0.1, 1.0, 10.0, 100.0, 1000.0),
) -> float:
    """Fit the readout on ``train`` (fgs1, target) for each ridge in ``grid`` and keep the one
    with the smallest validation error; returns it, or inf where none beats no readout at
    all (the physics fit's level; always so with fewer than 2 train planets)."""
    if len(train[1]) < 2:
        return math.inf
    errors = {math.inf: float(validation[1].pow(2).mean())}
    for ridge in grid:
        readout.fit(*train, ridge)
        with torch.no_grad():
            errors[ridge] = float((readout(validation[0])[:, 0] - validation[1]).pow(2).mean())
    best = min(errors, key=errors.__getitem__)
    if math.isinf(best):
        readout.reset()
    else:
        readout.fit(*train, best)
    return best
