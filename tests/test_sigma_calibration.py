"""Sigma calibration methods: each is checked against what it must do on residuals whose
true scale is known (sigma under-stated by a known factor), and round-trips as an artifact."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spectramind.evaluation.artifacts import ArtifactError
from spectramind.uncertainty import (
    METHODS,
    SigmaCalibrationOptions,
    fit_sigma_calibration,
    identity_sigma_calibration,
    load_sigma_calibration,
    save_sigma_calibration,
)
from spectramind.uncertainty.conformal import conformal_threshold, min_planets

N_BINS = 283
WAVELENGTH = np.r_[0.7, np.linspace(1.95, 3.9, N_BINS - 1)]
NAIVE = (0.01, 0.002)


def no_prior(method: str, **options) -> SigmaCalibrationOptions:
    """Options of ``method`` without shrinkage, to test what the method itself fits."""
    return SigmaCalibrationOptions(method=method, prior_planets=0.0, **options)


def predictions(n: int, seed: int, understated=(1.5, 2.0)) -> tuple[np.ndarray, ...]:
    """truth, mu, sigma: sigma understates the error by understated[0] for FGS1 and [1] for
    AIRS."""
    rng = np.random.default_rng(seed)
    truth = 0.01 + 0.001 * rng.normal(size=(n, 1)) + np.zeros((n, N_BINS))
    sigma = np.full((n, N_BINS), 2e-4)
    sigma[:, 0] = 5e-5
    factor = np.r_[understated[0], np.full(N_BINS - 1, understated[1])]
    mu = truth + factor * sigma * rng.normal(size=(n, N_BINS))
    return truth, mu, sigma


@pytest.mark.parametrize("method", ["temperature_instrument", "temperature_bin", "metric"])
def test_scale_methods_recover_the_understated_factor(method):
    truth, mu, sigma = predictions(400, 0)
    fitted = fit_sigma_calibration(no_prior(method), truth, mu, sigma, WAVELENGTH,
                                   NAIVE)  # fmt: skip
    scale = fitted.apply(mu, sigma) / sigma
    assert abs(np.median(scale[:, 1:]) - 2.0) < 0.1
    assert abs(np.median(scale[:, 0]) - 1.5) < (0.15 if method == "metric" else 0.12)
    assert fitted.report["after"]["score"] > fitted.report["before"]["score"] + 0.02
    assert abs(fitted.report["after"]["coverage_68"] - 0.683) < 0.02


def test_global_temperature_is_one_factor_and_the_likelihood_optimum():
    truth, mu, sigma = predictions(200, 1, understated=(2.0, 2.0))
    fitted = fit_sigma_calibration(no_prior("temperature_global"), truth, mu,
                                   sigma, WAVELENGTH, NAIVE)  # fmt: skip
    scale = fitted.apply(mu, sigma) / sigma
    assert np.ptp(scale) == 0
    z = (truth - mu) / sigma
    assert scale[0, 0] == pytest.approx(np.sqrt(np.mean(z**2)))


def test_conformal_meets_its_coverage_on_new_planets():
    truth, mu, sigma = predictions(100, 2)
    fitted = fit_sigma_calibration(SigmaCalibrationOptions(method="conformal", conformal_level=0.9),
                                   truth, mu, sigma, WAVELENGTH, NAIVE)  # fmt: skip
    new_truth, new_mu, new_sigma = predictions(2000, 3)
    z = np.abs(new_truth - new_mu) / fitted.apply(new_mu, new_sigma)
    assert np.mean(z[:, 1:] <= 1.6448536) >= 0.89
    assert np.mean(z[:, 0] <= 1.6448536) >= 0.88  # FGS1: 100 planets, one bin each


def test_conformal_threshold_counts_planets_not_bins():
    # 19 planets, 2 bins each: at level 0.95 the threshold must cover 0.95 * 20 = 19
    # planets' worth, i.e. every residual: the largest one.
    abs_z = np.arange(38, dtype=float).reshape(19, 2)
    assert conformal_threshold(abs_z, 0.95) == 37.0
    assert min_planets(0.95) == 19 and min_planets(0.9) == 9
    with pytest.raises(ValueError, match="at least 19 validation planets"):
        conformal_threshold(abs_z[:18], 0.95)


def test_relational_calibration_learns_sigma_from_a_rough_spectrum():
    """Where the predicted spectrum is rough (a bin far from its neighbours), the error is
    large: the graph network must widen sigma there and beat one global factor."""
    rng = np.random.default_rng(4)
    n = 120
    truth, _, sigma = predictions(n, 5)
    noisy = rng.random((n, N_BINS)) < 0.1  # a tenth of the bins are 5x noisier than stated
    mu = truth + sigma * rng.normal(size=(n, N_BINS)) * np.where(noisy, 5.0, 1.0)
    options = {m: no_prior(m) for m in ("temperature_global", "relational")}
    fitted = {m: fit_sigma_calibration(o, truth[:80], mu[:80], sigma[:80], WAVELENGTH, NAIVE)
              for m, o in options.items()}  # fmt: skip
    from spectramind.evaluation.metrics import competition_score

    held_out = {m: competition_score(truth[80:], mu[80:], f.apply(mu[80:], sigma[80:]), *NAIVE)
                for m, f in fitted.items()}  # fmt: skip
    assert held_out["relational"] > held_out["temperature_global"] + 0.01
    scale = fitted["relational"].apply(mu[80:], sigma[80:]) / sigma[80:]
    assert np.median(scale[noisy[80:]]) > 1.5 * np.median(scale[~noisy[80:]])


@pytest.mark.parametrize("method", METHODS)
def test_every_method_round_trips_as_an_artifact(method, tmp_path):
    truth, mu, sigma = predictions(30, 6)
    fitted = fit_sigma_calibration(SigmaCalibrationOptions(method=method, conformal_level=0.9),
                                   truth, mu, sigma, WAVELENGTH, NAIVE)  # fmt: skip
    path = tmp_path / "sigma_calibration.json"
    save_sigma_calibration(path, fitted)
    loaded = load_sigma_calibration(path)
    new_truth, new_mu, new_sigma = predictions(5, 7)
    np.testing.assert_allclose(loaded.apply(new_mu, new_sigma), fitted.apply(new_mu, new_sigma),
                               rtol=1e-12)  # fmt: skip
    assert loaded.method == method and loaded.report == json.loads(path.read_text())["validation"]


def test_few_validation_planets_move_sigma_little():
    """One validation planet with errors twice its sigma: the fitted factor 2 is kept only to
    the share 1 / (1 + prior_planets) of its logarithm."""
    truth, mu, sigma = predictions(1, 11, understated=(2.0, 2.0))
    options = SigmaCalibrationOptions(method="temperature_global", prior_planets=5.0)
    fitted = fit_sigma_calibration(options, truth, mu, sigma, WAVELENGTH, NAIVE)
    raw = fit_sigma_calibration(no_prior("temperature_global"), truth, mu, sigma, WAVELENGTH,
                                NAIVE)  # fmt: skip
    expected = (raw.apply(mu, sigma) / sigma) ** (1 / 6)
    np.testing.assert_allclose(fitted.apply(mu, sigma) / sigma, expected)
    assert fitted.shrinkage == pytest.approx(1 / 6)


def test_widen_only_keeps_sigma_where_the_validation_planets_ask_for_less():
    """Validation residuals at half their sigma: by default sigma is left as it is (a scale
    below 1 is not applied), and with widen_only off it is halved; a planet whose errors are
    twice its sigma is widened either way, and the artifact keeps the switch."""
    truth, mu, sigma = predictions(200, 12, understated=(0.5, 0.5))
    widen = fit_sigma_calibration(no_prior("temperature_instrument"), truth, mu, sigma,
                                  WAVELENGTH, NAIVE)  # fmt: skip
    both = fit_sigma_calibration(no_prior("temperature_instrument", widen_only=False), truth,
                                 mu, sigma, WAVELENGTH, NAIVE)  # fmt: skip
    np.testing.assert_array_equal(widen.apply(mu, sigma), sigma)
    assert abs(np.median(both.apply(mu, sigma) / sigma) - 0.5) < 0.05
    truth, mu, sigma = predictions(200, 13, understated=(2.0, 2.0))
    widened = fit_sigma_calibration(no_prior("temperature_instrument"), truth, mu, sigma,
                                    WAVELENGTH, NAIVE)  # fmt: skip
    assert abs(np.median(widened.apply(mu, sigma) / sigma) - 2.0) < 0.1


def test_widen_only_round_trips_through_the_artifact(tmp_path):
    truth, mu, sigma = predictions(50, 14, understated=(0.5, 0.5))
    for widen_only in (True, False):
        fitted = fit_sigma_calibration(no_prior("temperature_global", widen_only=widen_only),
                                       truth, mu, sigma, WAVELENGTH, NAIVE)  # fmt: skip
        save_sigma_calibration(tmp_path / "calibration.json", fitted)
        loaded = load_sigma_calibration(tmp_path / "calibration.json")
        assert loaded.widen_only is widen_only
        np.testing.assert_array_equal(loaded.apply(mu, sigma), fitted.apply(mu, sigma))


def test_same_seed_same_calibration():
    truth, mu, sigma = predictions(40, 8)
    options = SigmaCalibrationOptions(method="relational")
    first, second = (fit_sigma_calibration(options, truth, mu, sigma, WAVELENGTH, NAIVE, seed=3)
                     for _ in range(2))  # fmt: skip
    np.testing.assert_array_equal(first.apply(mu, sigma), second.apply(mu, sigma))


def test_identity_needs_no_data_and_changes_nothing():
    _, mu, sigma = predictions(3, 9)
    np.testing.assert_array_equal(identity_sigma_calibration().apply(mu, sigma), sigma)


def test_bad_inputs_are_clear_errors(tmp_path):
    truth, mu, sigma = predictions(5, 10)
    with pytest.raises(ValueError, match="sigma_calibration.method must be one of"):
        SigmaCalibrationOptions(method="platt")
    with pytest.raises(ValueError, match="conformal_level"):
        SigmaCalibrationOptions(conformal_level=1.5)
    bad = mu.copy()
    bad[1, 4] = np.nan
    with pytest.raises(ValueError, match="validation mu has NaN"):
        fit_sigma_calibration(SigmaCalibrationOptions(), truth, bad, sigma, WAVELENGTH, NAIVE)
    with pytest.raises(ValueError, match="differ in shape"):
        fit_sigma_calibration(
            SigmaCalibrationOptions(), truth, mu[:, :10], sigma, WAVELENGTH, NAIVE
        )
    with pytest.raises(ValueError, match="conformal at level 0.95 needs at least 19"):
        fit_sigma_calibration(SigmaCalibrationOptions(method="conformal"), truth, mu, sigma,
                              WAVELENGTH, NAIVE)  # fmt: skip
    broken = tmp_path / "sigma_calibration.json"
    broken.write_text('{"method": "metric"}')
    with pytest.raises(ArtifactError, match="sigma_calibration.json: not a readable"):
        load_sigma_calibration(broken)
