"""The V50 training loss: minus the competition score (its Gaussian log-likelihood per bin,
normalised between the naive and the ideal prediction, FGS1 weighted as the score weighs
it), plus physics terms and the user's config rules, each with its own weight."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from spectramind.evaluation.metrics import (
    FGS1_WEIGHT,
    IDEAL_SIGMA_AIRS,
    IDEAL_SIGMA_FGS1,
    SIGMA_FLOOR,
)
from spectramind.models.rules import Rule


def gaussian_log_likelihood(
    truth: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor
) -> torch.Tensor:
    """Per-bin log N(truth; mu, sigma), as the score computes it."""
    return -0.5 * (math.log(2 * math.pi) + 2 * torch.log(sigma) + ((truth - mu) / sigma) ** 2)


def score_per_planet(
    truth: torch.Tensor,
    mu: torch.Tensor,
    sigma: torch.Tensor,
    naive_mean: float,
    naive_sigma: float,
) -> torch.Tensor:
    """The competition score of each planet (batch,), before the final clip: the same
    numbers as ``evaluation.metrics.competition_score`` on one planet, differentiable."""
    ideal = torch.full_like(truth, IDEAL_SIGMA_AIRS)
    ideal[..., 0] = IDEAL_SIGMA_FGS1
    l_pred = gaussian_log_likelihood(truth, mu, sigma.clamp_min(SIGMA_FLOOR))
    l_ideal = gaussian_log_likelihood(truth, truth, ideal)
    l_ref = gaussian_log_likelihood(truth, torch.full_like(truth, naive_mean),
                                    torch.full_like(truth, naive_sigma))  # fmt: skip
    weights = torch.ones(truth.shape[-1], dtype=truth.dtype, device=truth.device)
    weights[0] = FGS1_WEIGHT
    per_bin = (l_pred - l_ref) / (l_ideal - l_ref)
    return (per_bin * weights).sum(dim=-1) / weights.sum()


def smoothness(mu: torch.Tensor) -> torch.Tensor:
    """Mean squared second difference of the AIRS depths (ppm^2 scale: depths x 1e6)."""
    return (torch.diff(mu[..., 1:] * 1e6, n=2, dim=-1) ** 2).mean()


def negativity(mu: torch.Tensor) -> torch.Tensor:
    """Mean squared negative part of the depths (ppm^2): a depth cannot be below zero."""
    return (torch.relu(-mu * 1e6) ** 2).mean()


def high_frequency_power(residual: torch.Tensor, cutoff: float) -> torch.Tensor:
    """Share of the AIRS residual's power (model minus physics fit) above ``cutoff`` of the
    Nyquist frequency: spectra vary over bands, not from bin to bin."""
    power = torch.fft.rfft(residual[..., 1:], dim=-1).abs() ** 2
    first = int(math.ceil(cutoff * (power.shape[-1] - 1)))
    return (power[..., first:].sum(dim=-1) / power.sum(dim=-1).clamp_min(1e-30)).mean()


def band_incoherence(residual: torch.Tensor, bands: Sequence[torch.Tensor]) -> torch.Tensor:
    """Mean variance (ppm^2) of the residual inside each molecular band (bin index tensors):
    a molecule moves its whole band together, not single bins."""
    if not bands:
        return residual.new_zeros(())
    return torch.stack([(residual[..., idx] * 1e6).var(dim=-1).mean() for idx in bands]).mean()


@dataclass(frozen=True)
class LossWeights:
    """Weight of each physics term (0 switches it off) and the high-frequency cutoff."""

    smoothness: float = 0.0
    negativity: float = 0.0
    high_frequency: float = 0.0
    band_coherence: float = 0.0
    high_frequency_cutoff: float = 0.5


class V50Loss(nn.Module):
    """Minus the mean score over the batch, plus the weighted physics terms and rules.

    ``forward`` returns the total and each term's value (detached) for the training log.
    """

    def __init__(
        self,
        naive_mean: float,
        naive_sigma: float,
        wavelength: torch.Tensor,
        weights: LossWeights,
        rules: Sequence[Rule] = (),
        bands: Sequence[torch.Tensor] = (),
    ) -> None:
        super().__init__()
        self.naive = (naive_mean, naive_sigma)
        self.register_buffer("wavelength", wavelength)
        self.weights = weights
        self.rules = list(rules)
        self.bands = list(bands)

    def forward(
        self, truth: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor, physics_mu: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, float]]:
        w = self.weights
        residual = mu - physics_mu
        terms = {"score": score_per_planet(truth, mu, sigma, *self.naive).mean()}
        total = -terms["score"]
        physics = {
            "smoothness": (w.smoothness, lambda: smoothness(mu)),
            "negativity": (w.negativity, lambda: negativity(mu)),
            "high_frequency": (
                w.high_frequency, lambda: high_frequency_power(residual, w.high_frequency_cutoff)
            ),
            "band_coherence": (w.band_coherence, lambda: band_incoherence(residual, self.bands)),
        }  # fmt: skip
        for name, (weight, term) in physics.items():
            if weight:
                terms[name] = term()
                total = total + weight * terms[name]
        outputs = {"mu": mu, "sigma": sigma}
        for rule in self.rules:
            terms[f"rule:{rule.name}"] = rule.penalty(outputs[rule.target], self.wavelength)
            total = total + rule.weight * terms[f"rule:{rule.name}"]
        return total, {name: float(value.detach()) for name, value in terms.items()}
