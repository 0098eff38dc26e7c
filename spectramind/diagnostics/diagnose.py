"""Everything rule ``diagnose`` writes, from arrays: the error tables and the figures of the
predictions before and after sigma calibration, on planets whose true depths are known."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from spectramind.core.atomic import write_csv_atomic, write_json_atomic
from spectramind.core.failure import failure_of
from spectramind.diagnostics import FIGURES, figures
from spectramind.diagnostics.summary import PPM, error_summary_table, per_bin_table


@dataclass(frozen=True)
class EvaluatedPredictions:
    """Predictions of planets with known truth (planets, 283), before and after sigma
    calibration; ``described`` says which planets they are (held-out test planets of a
    simulation, or the validation planets the calibration was fitted on)."""

    planet_ids: Sequence[int]
    truth: np.ndarray
    mu: np.ndarray
    sigma_uncalibrated: np.ndarray
    sigma: np.ndarray
    described: str
    depth_only_floor: np.ndarray | None = None
    marginalised_floor: np.ndarray | None = None


@dataclass(frozen=True)
class LightCurveExample:
    """One planet's light curves and physics fit, for the white-light fit figure."""

    lightcurve: xr.Dataset
    fit: xr.Dataset
    period_days: float


def example_figure(example: LightCurveExample) -> Figure:
    """The example planet's white-light fit, or, when the planet failed in calibrate or
    extract (its light curves a failure record), a figure saying so."""
    failure = failure_of(example.lightcurve.attrs)
    if failure is not None:
        return figures.failure_figure("White-light fit: the example planet failed", failure.reason)
    return figures.light_curve_fit(example.lightcurve, example.fit, example.period_days)


def write_diagnostics(
    out: Path,
    evaluated: EvaluatedPredictions,
    wavelength_um: np.ndarray,
    naive: tuple[float, float],
    method: str,
    example: LightCurveExample,
) -> dict[str, Any]:
    """Write error_summary.json, per_bin.csv and figures/<stem>.png|svg under ``out``;
    return the error summary."""
    e = evaluated
    floors = (e.depth_only_floor, e.marginalised_floor)
    summary = {
        "evaluated_on": e.described,
        "sigma_calibration": method,
        "calibrated": error_summary_table(e.truth, e.mu, e.sigma, naive, *floors),
        "uncalibrated": error_summary_table(e.truth, e.mu, e.sigma_uncalibrated, naive, *floors),
    }
    per_bin = per_bin_table(e.truth, e.mu, e.sigma, wavelength_um, *floors)
    ppm = {name: None if f is None else np.sqrt(np.mean(np.square(f), axis=0)) * PPM
           for name, f in zip(("depth_only", "marginalised"), floors, strict=True)}  # fmt: skip
    drawn = {
        "reliability": figures.reliability_diagram(e.truth, e.mu, e.sigma),
        "pit": figures.pit_histogram(e.truth, e.mu, e.sigma),
        "sigma_vs_error": figures.sigma_vs_error(e.truth, e.mu, e.sigma),
        "per_bin_rmse": figures.per_bin_rmse(
            wavelength_um,
            per_bin["rmse_ppm"].to_numpy(),
            per_bin["mean_sigma_ppm"].to_numpy(),
            ppm["depth_only"],
            ppm["marginalised"],
        ),  # fmt: skip
        "spectra": figures.spectra_examples(wavelength_um, e.mu, e.sigma, e.planet_ids, e.truth),
        "residual_heatmap": figures.residual_heatmap(
            e.truth, e.mu, e.sigma, e.planet_ids, wavelength_um
        ),  # fmt: skip
        "calibration": figures.sigma_calibration_comparison(
            e.truth, e.mu, {"uncalibrated": e.sigma_uncalibrated, method: e.sigma}, naive
        ),
        "light_curve_fit": example_figure(example),
    }
    for stem in FIGURES:  # the rule declares these outputs
        figures.save_figure(drawn[stem], out / "figures" / stem)
    write_csv_atomic(out / "per_bin.csv", per_bin)
    write_json_atomic(out / "error_summary.json", summary)
    return summary


def write_training_figure(path_stem: Path, metrics: Mapping[str, Any]) -> None:
    """The first member's training curves (train_metrics.json), its best epoch marked."""
    member = metrics["members"][0]
    figure = figures.training_curves(member["history"], member["best_epoch"],
                                     member["best_validation_score"])  # fmt: skip
    figures.save_figure(figure, path_stem)
