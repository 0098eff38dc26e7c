"""The V50 loss against the score's own implementation, and each physics term on inputs
whose value is known."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spectramind.evaluation.metrics import competition_score
from spectramind.models.loss import (
    LossWeights,
    V50Loss,
    band_incoherence,
    high_frequency_power,
    negativity,
    score_per_planet,
    smoothness,
)
from spectramind.models.rules import parse_rules

NAIVE = (0.012, 0.009)


def _planets(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.uniform(0.002, 0.03, (n, 1))[:, [0] * 283] + rng.normal(0, 1e-4, (n, 283))
    sigma = rng.uniform(2e-5, 5e-4, (n, 283))
    mu = truth + rng.normal(size=(n, 283)) * sigma * rng.uniform(0.5, 2.0)
    return truth, mu, sigma


def test_score_per_planet_is_the_competition_score():
    """Mean over planets = metrics.competition_score before the clip (every planet weighs
    the same), to 1e-12 in float64; one planet alone too."""
    truth, mu, sigma = _planets(7)
    ours = score_per_planet(*(torch.from_numpy(a) for a in (truth, mu, sigma)), *NAIVE)
    theirs = competition_score(truth, mu, sigma, *NAIVE, clip=False)
    assert ours.mean().item() == pytest.approx(theirs, abs=1e-12)
    one = competition_score(truth[:1], mu[:1], sigma[:1], *NAIVE, clip=False)
    assert ours[0].item() == pytest.approx(one, abs=1e-12)


def test_the_loss_falls_as_the_prediction_improves():
    truth, mu, sigma = (torch.from_numpy(a) for a in _planets(4, seed=1))
    loss = V50Loss(*NAIVE, torch.linspace(0.7, 3.9, 283, dtype=torch.float64), LossWeights())
    worse, _ = loss(truth, mu, sigma, mu)
    better, terms = loss(truth, 0.5 * (mu + truth), sigma, mu)
    assert better < worse and terms["score"] == pytest.approx(-better.item())


def test_physics_terms_on_known_inputs():
    wavelength = torch.linspace(1.95, 3.9, 282, dtype=torch.float64)
    line = torch.cat([torch.tensor([0.01], dtype=torch.float64), 0.01 + 1e-4 * wavelength])[None]
    assert smoothness(line).item() == pytest.approx(0.0, abs=1e-6)
    alternating = torch.tensor([0.0] + [1e-6, -1e-6] * 141, dtype=torch.float64)
    assert smoothness(line + alternating).item() == pytest.approx(
        16.0, rel=1e-3
    )  # second difference of +-1 ppm alternation: 4 ppm
    assert negativity(line).item() == 0.0
    assert negativity(-line).item() > 0
    bins = torch.arange(282, dtype=torch.float64)
    slow = torch.cat([torch.zeros(1), torch.sin(2 * torch.pi * bins / 282)])[None]
    fast = torch.cat([torch.zeros(1), (-1.0) ** bins])[None]
    assert high_frequency_power(slow, 0.5).item() < 1e-3
    assert high_frequency_power(fast, 0.5).item() == pytest.approx(1.0, abs=1e-6)
    band = torch.arange(10, 20)
    flat_in_band = torch.zeros(1, 283, dtype=torch.float64)
    flat_in_band[0, band] = 3e-6
    assert band_incoherence(flat_in_band, [band]).item() == pytest.approx(0.0, abs=1e-9)
    flat_in_band[0, band[0]] = 0.0
    assert band_incoherence(flat_in_band, [band]).item() > 0


def test_weighted_terms_and_rules_add_up():
    truth, mu, sigma = (torch.from_numpy(a) for a in _planets(3, seed=2))
    rules = parse_rules([
        {"name": "nonneg", "target": "mu", "expr": "x >= 0", "weight": 2.0},
        {"name": "sigma_cap", "target": "sigma", "expr": "x <= 1e-4", "weight": 3.0},
    ])  # fmt: skip
    weights = LossWeights(smoothness=0.5, negativity=1.0, high_frequency=0.1, band_coherence=0.2)
    wavelength = torch.linspace(0.7, 3.9, 283, dtype=torch.float64)
    loss = V50Loss(*NAIVE, wavelength, weights, rules, [torch.arange(5, 40)])
    total, terms = loss(truth, mu, sigma, truth)
    expected = (
        -terms["score"] + 0.5 * terms["smoothness"] + 1.0 * terms["negativity"]
        + 0.1 * terms["high_frequency"] + 0.2 * terms["band_coherence"]
        + 2.0 * terms["rule:nonneg"] + 3.0 * terms["rule:sigma_cap"]
    )  # fmt: skip
    assert total.item() == pytest.approx(expected, rel=1e-12)
    assert terms["rule:sigma_cap"] > 0 and terms["rule:nonneg"] == 0.0
