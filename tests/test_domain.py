"""The per-planet domain test of V50: the training planets themselves are inside; a planet
whose star, fit summary or white-light residual lies beyond the training range, whose V50
level departs from the physics fit's by more than their joint sigma allows, or whose V50
sigma is far below the fit's, is out, with a reason naming what; the ranges travel in the
checkpoint, and older checkpoints have none."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from test_v50 import OPTIONS, WAVELENGTH

from spectramind.models.dataset import PlanetSample, synthetic_samples
from spectramind.models.domain import (
    DOMAIN_FEATURES,
    TrainRanges,
    domain_features,
    level_pull,
    out_of_domain,
)
from spectramind.models.training import TrainingResult, load_domain, save_checkpoint
from spectramind.models.v50 import V50Model

STEPS = 24


def _physics(samples: list[PlanetSample]) -> tuple[np.ndarray, np.ndarray]:
    return (torch.stack([s.physics_mu for s in samples]).numpy(),
            torch.stack([s.physics_sigma for s in samples]).numpy())  # fmt: skip


@pytest.fixture(scope="module")
def train() -> list[PlanetSample]:
    return synthetic_samples(30, seed=1, steps=STEPS)


def test_features_are_what_the_model_reads(train):
    features = domain_features(train[:2])
    assert features.shape == (2, len(DOMAIN_FEATURES))
    np.testing.assert_allclose(features[:, :7], torch.stack([s.star for s in train[:2]]))
    assert features[0, DOMAIN_FEATURES.index("fgs1_depth")] == float(train[0].physics_mu[0])
    residual = train[0].fgs1[4] - train[0].fgs1[5]  # AIRS white light minus its transit
    assert features[0, -1] == pytest.approx(float(residual.double().pow(2).mean().sqrt()))


def test_training_planets_agreeing_with_the_physics_fit_are_inside(train):
    mu, sigma = _physics(train)
    verdicts = out_of_domain(train, mu + 0.5 * sigma, sigma, TrainRanges.of(train))
    assert [v.planet_id for v in verdicts] == [s.planet_id for s in train]
    assert not any(v.out or v.reason for v in verdicts)


def test_a_planet_beyond_the_train_range_is_out_and_named(train):
    ranges = TrainRanges.of(train)
    planet = train[0]
    hot = dataclasses.replace(planet, star=planet.star.clone())
    hot.star[2] = ranges.high[2] + 0.5 * (ranges.high[2] - ranges.low[2])  # ln Ts
    drifting = dataclasses.replace(planet, fgs1=planet.fgs1.clone())
    drifting.fgs1[0] += 50.0 * torch.linspace(-1, 1, STEPS)  # an FGS1 drift none had
    inside = dataclasses.replace(planet, star=planet.star.clone())
    inside.star[2] = ranges.high[2] + 0.1 * (ranges.high[2] - ranges.low[2])  # within margin
    samples = [hot, drifting, inside]
    verdicts = out_of_domain(samples, *_physics(samples), ranges)
    assert [v.out for v in verdicts] == [True, True, False]
    assert (
        verdicts[0].reason.startswith("star_Ts ")
        and "outside the train range" in verdicts[0].reason
    )
    assert verdicts[1].reason.startswith("fgs1_residual_rms ")
    assert out_of_domain(samples, *_physics(samples), None)[0].out is False  # old checkpoint


def test_a_level_far_from_the_physics_fit_is_out(train):
    """V50 moved every bin by 5 joint sigmas (sqrt(sigma_v50^2 + sigma_phys^2)): out; by 3
    sigmas, or by 5 in alternate directions (no common level): in; a NaN prediction: out."""
    samples = train[:4]
    mu, sigma = _physics(samples)
    joint = np.sqrt(2) * sigma
    alternate = np.where(np.arange(283) % 2, 1.0, -1.0)
    moved = (
        mu
        + np.array([[5.0], [-5.0], [3.0], [0.0]]) * joint
        + np.array([0, 0, 0, 5])[:, None] * alternate * joint
    )
    np.testing.assert_allclose(level_pull(moved, sigma, mu, sigma), [5, -5, 3, -5 / 283], atol=1e-9)
    verdicts = out_of_domain(samples, moved, sigma, TrainRanges.of(train))
    assert [v.out for v in verdicts] == [True, True, False, False]
    assert verdicts[1].reason == "V50 level -5.0 joint sigmas from the physics fit's"
    moved[2, 7] = np.nan
    assert out_of_domain(samples, moved, sigma, TrainRanges.of(train))[2].out


def test_a_sigma_far_below_the_physics_fits_is_out(train):
    """V50 claiming a third of the physics sigma (what a 30-planet model did while its
    coverage fell to 27 %): out; two thirds: in."""
    samples = train[:2]
    mu, sigma = _physics(samples)
    verdicts = out_of_domain(samples, mu, sigma * np.array([[0.33], [0.67]]), None)
    assert [v.out for v in verdicts] == [True, False]
    assert verdicts[0].reason == "V50 sigma 0.33 of the physics fit's"


def test_ranges_travel_in_the_checkpoint_and_old_ones_have_none(train, tmp_path):
    ranges = TrainRanges.of(train)
    assert TrainRanges.from_dict(ranges.as_dict()) == ranges
    with pytest.raises(ValueError, match="retrain with this version"):
        TrainRanges.from_dict({**ranges.as_dict(), "names": ["x"]})
    state = V50Model(OPTIONS, WAVELENGTH).state_dict()
    result = TrainingResult(state, [], 0, 0.5, [0], ranges)
    save_checkpoint(tmp_path / "new.pt", [result, result], OPTIONS, "h", {}, WAVELENGTH)
    assert load_domain(tmp_path / "new.pt") == ranges
    saved = torch.load(tmp_path / "new.pt", weights_only=True)
    del saved["domain"]
    torch.save(saved, tmp_path / "old.pt")
    assert load_domain(tmp_path / "old.pt") is None
