"""Heteroscedastic decoder: a depth correction and a sigma for each of the 283 bins, on top
of the physics fit. It starts as the identity (mu = physics mu, sigma = physics sigma), so
training begins from the fit and only learns what the fit leaves."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional

ONE_AFTER_SOFTPLUS = math.log(math.e - 1.0)  # softplus(this) = 1


class HeteroscedasticDecoder(nn.Module):
    """AIRS node states (batch, 282, hidden) and an FGS1 summary (batch, hidden) ->
    mu, sigma (batch, 283), bin 0 FGS1.

    mu = physics_mu + physics_sigma * r + physics_sigma[FGS1] * l and sigma = physics_sigma *
    softplus(s) + sigma_floor, with (r, s) from a small MLP per bin and l, one level shift of
    the whole spectrum, from the FGS1 summary. The residual is in units of the fit's own
    sigma, so one network serves deep and shallow transits alike; the level shift has its
    own head because the fit's error is mostly a common level (the white light's), which in
    per-bin units would be a different number in every bin.
    """

    def __init__(self, hidden: int, sigma_floor: float = 1e-6) -> None:
        super().__init__()
        self.sigma_floor = sigma_floor
        self.airs = self._head(hidden)
        self.fgs1 = self._head(hidden)
        self.level = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, 1))
        nn.init.zeros_(self.level[-1].weight)
        nn.init.zeros_(self.level[-1].bias)

    @staticmethod
    def _head(hidden: int) -> nn.Sequential:
        head = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, 2))
        nn.init.zeros_(head[-1].weight)
        with torch.no_grad():
            head[-1].bias.copy_(torch.tensor([0.0, ONE_AFTER_SOFTPLUS]))
        return head

    def forward(
        self,
        nodes: torch.Tensor,
        fgs1: torch.Tensor,
        physics_mu: torch.Tensor,
        physics_sigma: torch.Tensor,
        level_shift: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``level_shift`` (B, 1), in FGS1 sigmas, adds to the level head's."""
        raw = torch.cat([self.fgs1(fgs1)[:, None, :], self.airs(nodes)], dim=1)  # (B, 283, 2)
        shift = self.level(fgs1) if level_shift is None else self.level(fgs1) + level_shift
        level = physics_sigma[:, :1] * shift
        mu = physics_mu + physics_sigma * raw[..., 0] + level
        sigma = physics_sigma * functional.softplus(raw[..., 1]) + self.sigma_floor
        return mu, sigma
