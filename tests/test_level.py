"""The level readout: fitted in closed form it recovers a linear level hidden in the white-
light residuals, ignores the fitted transit itself, and picks its ridge on held-out planets."""

from __future__ import annotations

import pytest
import torch

from spectramind.models.dataset import LIGHT_CURVE_FEATURES
from spectramind.models.level import LevelReadout, choose_ridge, level_targets, residual_features

STEPS = 16


def _planets(n: int, seed: int, noise: float = 0.3) -> tuple[torch.Tensor, torch.Tensor]:
    """Light curves whose level target is a fixed contrast of the AIRS white-light residual
    (in transit minus out of it) plus noise; the transit channels vary freely."""
    g = torch.Generator().manual_seed(seed)
    fgs1 = torch.randn(n, STEPS, LIGHT_CURVE_FEATURES, generator=g, dtype=torch.float64)
    contrast = torch.zeros(STEPS, dtype=torch.float64)
    contrast[6:10], contrast[:3], contrast[-3:] = 1.0, -2.0 / 3, -2.0 / 3
    residual = fgs1[..., 4] - fgs1[..., 5]
    target = 0.5 * residual @ contrast + noise * torch.randn(n, generator=g, dtype=torch.float64)
    return fgs1.float(), target.float()


def test_residual_features_are_each_white_light_minus_its_transit():
    fgs1 = torch.arange(2 * 3 * LIGHT_CURVE_FEATURES, dtype=torch.float32).reshape(2, 3, -1)
    features = residual_features(fgs1)
    assert features.shape == (2, 6)
    torch.testing.assert_close(features[:, :3], fgs1[..., 0] - fgs1[..., 1])
    torch.testing.assert_close(features[:, 3:], fgs1[..., 4] - fgs1[..., 5])


def test_readout_starts_at_zero_and_recovers_a_linear_level():
    readout = LevelReadout(STEPS)
    train, test = _planets(400, seed=1), _planets(200, seed=2)
    assert torch.equal(readout(test[0]), torch.zeros(200, 1))
    before = test[1].pow(2).mean().sqrt()
    readout.fit(*train, ridge=1.0)
    after = (readout(test[0])[:, 0] - test[1]).pow(2).mean().sqrt()
    assert after < 0.4 < 0.8 < before, (float(before), float(after))  # noise rms 0.3


def test_ridge_is_chosen_on_validation_planets():
    readout = LevelReadout(STEPS)
    few = _planets(40, seed=3, noise=1.0)  # few noisy planets: strong shrinkage pays
    assert choose_ridge(readout, few, _planets(400, seed=4, noise=1.0)) >= 10.0
    many = _planets(2000, seed=5, noise=0.05)
    assert choose_ridge(readout, many, _planets(400, seed=6, noise=0.05)) <= 10.0


def test_level_target_is_the_mean_offset_in_fgs1_sigmas():
    truth = torch.full((2, 283), 0.010, dtype=torch.float64)
    mu = truth - torch.tensor([[2e-4], [-1e-4]], dtype=torch.float64)
    sigma = torch.full((2, 283), 1e-4, dtype=torch.float64)
    assert level_targets(truth, mu, sigma).tolist() == pytest.approx([2.0, -1.0])


def test_no_readout_where_it_does_not_help():
    """Pure-noise targets: no ridge beats the physics level on validation, so none is kept;
    one train planet is too few to fit at all."""
    readout = LevelReadout(STEPS)
    g = torch.Generator().manual_seed(7)
    noise = _planets(30, seed=8)[0], torch.randn(30, generator=g)
    held_out = _planets(300, seed=9)[0], torch.randn(300, generator=g)
    assert choose_ridge(readout, noise, held_out) == float("inf")
    assert torch.equal(readout(held_out[0]), torch.zeros(300, 1))
    one = _planets(1, seed=10)
    assert choose_ridge(readout, one, held_out) == float("inf")
    assert torch.equal(readout(held_out[0]), torch.zeros(300, 1))  # nothing was fitted
