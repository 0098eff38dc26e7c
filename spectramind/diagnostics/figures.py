"""Diagnostic figures: data in, a ``matplotlib.figure.Figure`` out, ``save_figure`` to write it.

Figures are built as ``Figure`` objects, never through pyplot, so they render headless with
no backend switch and no global state. Arrays of predictions are (planets, 283): bin 0 is
the FGS1 white light, bins 1..282 the AIRS-CH0 columns; depths are fractions, shown in ppm.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from scipy.special import ndtr

from spectramind.core.atomic import atomic_output
from spectramind.diagnostics.summary import (
    INSTRUMENT_BINS,
    PPM,
    interval_half_width,
    normalised_residual,
    observed_coverage,
)
from spectramind.evaluation.metrics import competition_score
from spectramind.fit.model import Geometry, TransitCurve, fitted_baseline, systematics_design
from spectramind.fit.options import FitOptions
from spectramind.fit.planet import visit_curves
from spectramind.io.layout import INSTRUMENTS

FGS1, AIRS = INSTRUMENTS
COLOURS = {FGS1: "tab:orange", AIRS: "tab:blue"}
NOMINAL_LEVELS = np.linspace(0.05, 0.99, 48)  # nominal coverage of the reliability curves
Z_LIMIT = 4.0  # colour scale of the residual heat map: |z| beyond it saturates
DPI = 110
BINS_OF = {name: INSTRUMENT_BINS[name] for name in INSTRUMENTS}  # FGS1, AIRS-CH0 (no "all")


def _figure(width: float, height: float) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def save_figure(fig: Figure, stem: Path) -> list[Path]:
    """Write ``stem.png`` (110 dpi) and ``stem.svg``, each atomically (a temporary sibling
    renamed on success), and clear the figure to free its artists. The SVG carries no date
    and fixed element ids, so the same figure gives the same bytes."""
    paths = [Path(stem).with_suffix(".png"), Path(stem).with_suffix(".svg")]
    with matplotlib.rc_context({"svg.hashsalt": "spectramind"}):
        for path in paths:
            fmt = path.suffix[1:]
            with atomic_output(path) as tmp:
                metadata = {"Date": None} if fmt == "svg" else None
                fig.savefig(tmp, format=fmt, dpi=DPI, metadata=metadata)
    fig.clear()
    return paths


def failure_figure(title: str, reason: str) -> Figure:
    """In place of a planet's figure when the planet failed in calibrate or extract (its
    file a failure record, spectramind.core.failure): the title and why, nothing drawn."""
    fig = _figure(10.0, 2.5)
    fig.suptitle(title)
    fig.text(0.5, 0.45, textwrap.fill(reason, 110), ha="center", va="center", fontsize="small")
    return fig


def wavelength_ticks(ax: Axes, wavelength_um: np.ndarray) -> None:
    """Label the x axis of an image whose columns have these (ascending) wavelengths every
    0.25 um, at the fractional column of each label."""
    labels = np.arange(np.ceil(wavelength_um[0] * 4) / 4, wavelength_um[-1], 0.25)
    ax.set_xticks(
        np.interp(labels, wavelength_um, np.arange(wavelength_um.size)),
        map("{:.2f}".format, labels),
    )


def _diagonal(ax: Axes) -> None:
    """The ideal reliability curve, axes from 0 to 1 and their labels."""
    ax.plot([0, 1], [0, 1], color="0.5", linestyle="--", linewidth=1, label="ideal")
    ax.set(xlim=(0, 1), ylim=(0, 1), aspect="equal",
           xlabel="nominal coverage of mu +/- z sigma", ylabel="observed coverage")  # fmt: skip


def reliability_diagram(truth: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> Figure:
    """Observed against nominal coverage of the central Gaussian intervals (0.05..0.99), one
    line per instrument: below the diagonal the sigmas are too small, above too large."""
    z = normalised_residual(truth, mu, sigma)
    fig = _figure(5.0, 5.0)
    ax = fig.subplots()
    _diagonal(ax)
    for instrument, bins in BINS_OF.items():
        coverage = observed_coverage(z[:, bins], NOMINAL_LEVELS)
        ax.plot(NOMINAL_LEVELS, coverage, marker=".", color=COLOURS[instrument], label=instrument)
    ax.legend(loc="upper left")
    ax.set_title(f"Reliability ({z.shape[0]} planets)")
    return fig


def _pit_bins(n_values: int) -> np.ndarray:
    """Histogram edges on [0, 1]: about sqrt(n) bins, 5 to 20."""
    return np.linspace(0.0, 1.0, int(np.clip(np.sqrt(n_values), 5, 20)) + 1)


def pit_histogram(truth: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> Figure:
    """Histograms (density) of the PIT Phi((truth - mu) / sigma), FGS1 and AIRS-CH0 side by
    side: flat when calibrated, U-shaped when over-confident, peaked when the sigmas are too
    large, tilted when biased."""
    pit = ndtr(-normalised_residual(truth, mu, sigma))
    fig = _figure(9.0, 3.8)
    for ax, (instrument, bins) in zip(fig.subplots(1, 2, sharey=True), BINS_OF.items(),
                                      strict=True):  # fmt: skip
        values = pit[:, bins].ravel()
        ax.hist(values, bins=_pit_bins(values.size), density=True, color=COLOURS[instrument],
                alpha=0.8, label=instrument)  # fmt: skip
        ax.axhline(1.0, color="k", linestyle="--", linewidth=1, label="uniform")
        ax.set(xlim=(0, 1), xlabel="PIT = Phi((truth - mu) / sigma)",
               title=f"{instrument} ({values.size} values)")  # fmt: skip
        ax.legend(loc="upper center")
    fig.axes[0].set_ylabel("density")
    return fig


def sigma_vs_error(truth: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> Figure:
    """Predicted sigma against the absolute error (ppm, log-log), with the lines |error| =
    sigma and 1.96 sigma (about 32 % and 5 % of points above them when calibrated); FGS1
    points drawn large on top. Points with zero error have no place on the log axis."""
    error, sigma = np.abs(np.asarray(mu) - truth) * PPM, np.asarray(sigma) * PPM
    fig = _figure(6.0, 5.0)
    ax = fig.subplots()
    ax.scatter(sigma[:, 1:], error[:, 1:], s=5, alpha=0.35, linewidths=0, color=COLOURS[AIRS],
               label=AIRS)  # fmt: skip
    ax.scatter(sigma[:, 0], error[:, 0], s=40, marker="D", color=COLOURS[FGS1], edgecolors="k",
               zorder=3, label=FGS1)  # fmt: skip
    span = np.geomspace(sigma.min(), sigma.max(), 50)
    for factor, style in ((1.0, "-"), (interval_half_width(0.95), "--")):
        above = np.mean(error > factor * sigma)
        ax.plot(span, factor * span, color="k", linestyle=style, linewidth=1,
                label=f"|error| = {factor:.2f} sigma ({above:.0%} above)")  # fmt: skip
    ax.set(xscale="log", yscale="log", xlabel="predicted sigma (ppm)",
           ylabel="|mu - truth| (ppm)", title="Predicted sigma vs error")  # fmt: skip
    ax.legend(loc="lower right", fontsize="small")
    return fig


def per_bin_rmse(
    wavelength_um: np.ndarray,
    rmse_ppm: np.ndarray,
    mean_sigma_ppm: np.ndarray,
    depth_only_floor_ppm: np.ndarray | None = None,
    marginalised_floor_ppm: np.ndarray | None = None,
) -> Figure:
    """Per-bin RMSE and mean predicted sigma against wavelength (ppm, log scale), with the
    Cramer-Rao floors (depth only, and with the fit's nuisances marginalised) when given:
    AIRS bins as lines, FGS1 (bin 0) as diamonds at its own wavelength."""
    curves = {
        "RMSE": (rmse_ppm, {"color": "tab:red"}),
        "mean predicted sigma": (mean_sigma_ppm, {"color": "tab:blue"}),
        "depth-only floor": (depth_only_floor_ppm, {"color": "0.35", "linestyle": "--"}),
        "marginalised floor": (marginalised_floor_ppm, {"color": "tab:purple", "linestyle": ":"}),
    }
    wavelength_um = np.asarray(wavelength_um)
    fig = _figure(8.0, 4.5)
    ax = fig.subplots()
    for label, (values, style) in curves.items():
        if values is None:
            continue
        values = np.asarray(values)
        ax.plot(wavelength_um[1:], values[1:], label=label, **style)
        ax.plot(wavelength_um[:1], values[:1], marker="D", markeredgecolor="k", linestyle="",
                color=style["color"])  # fmt: skip
    handles, _ = ax.get_legend_handles_labels()
    fgs1 = Line2D([], [], marker="D", color="white", markeredgecolor="k", linestyle="",
                  label=f"{FGS1} (bin 0)")  # fmt: skip
    ax.legend(handles=[*handles, fgs1], fontsize="small")
    ax.set(yscale="log", xlabel="wavelength (um)", ylabel="ppm", title="Error per bin")
    return fig


def spectra_examples(
    wavelength_um: np.ndarray,
    mu: np.ndarray,
    sigma: np.ndarray,
    planet_ids: Sequence[int],
    truth: np.ndarray | None = None,
    n: int = 4,
) -> Figure:
    """The first ``n`` planets' predicted spectra (ppm) with 1- and 2-sigma bands, and the
    true spectrum when given; one panel each, FGS1 as an error bar at its wavelength."""
    wavelength_um = np.asarray(wavelength_um)
    shown = min(n, len(planet_ids))
    fig = _figure(8.0, 2.3 * shown + 0.5)
    axes = np.atleast_1d(fig.subplots(shown, 1, sharex=True))
    for k, ax in enumerate(axes):
        depth, error = mu[k] * PPM, sigma[k] * PPM
        for width, alpha in ((2, 0.2), (1, 0.4)):
            ax.fill_between(wavelength_um[1:], depth[1:] - width * error[1:],
                            depth[1:] + width * error[1:], color=COLOURS[AIRS], alpha=alpha,
                            linewidth=0, label=f"{width} sigma")  # fmt: skip
            ax.errorbar(wavelength_um[0], depth[0], yerr=width * error[0], color=COLOURS[FGS1],
                        alpha=alpha + 0.4, capsize=3)  # fmt: skip
        ax.plot(wavelength_um[1:], depth[1:], color=COLOURS[AIRS], label="predicted mu")
        ax.plot(wavelength_um[0], depth[0], "D", color=COLOURS[FGS1], label=f"{FGS1} mu")
        if truth is not None:
            ax.plot(wavelength_um[1:], truth[k, 1:] * PPM, color="k", linewidth=1, label="truth")
            ax.plot(wavelength_um[0], truth[k, 0] * PPM, "kx", markersize=8, label=f"{FGS1} truth")
        ax.set(ylabel="depth (ppm)", title=f"planet {planet_ids[k]}")
    fig.legend(handles=axes[0].get_legend_handles_labels()[0], loc="outside upper center",
               ncols=6, fontsize="small")  # fmt: skip
    axes[-1].set_xlabel("wavelength (um)")
    return fig


def residual_heatmap(
    truth: np.ndarray,
    mu: np.ndarray,
    sigma: np.ndarray,
    planet_ids: Sequence[int],
    wavelength_um: np.ndarray,
) -> Figure:
    """Planet x bin image of z = (mu - truth) / sigma on a diverging scale saturating at
    |z| = 4: stripes down a column are a bin's bias, rows a planet's miss. FGS1 (bin 0) has
    its own, wider column on the left."""
    z = normalised_residual(truth, mu, sigma)
    airs_um = np.asarray(wavelength_um)[1:]
    fig = _figure(9.0, 1.5 + min(0.25 * z.shape[0], 6.0))
    fgs1_ax, airs_ax = fig.subplots(1, 2, sharey=True, width_ratios=[1, 14])
    scale = {"cmap": "RdBu_r", "vmin": -Z_LIMIT, "vmax": Z_LIMIT, "aspect": "auto",
             "interpolation": "nearest"}  # fmt: skip
    fgs1_ax.imshow(z[:, :1], **scale)
    image = airs_ax.imshow(z[:, 1:], **scale)
    fig.colorbar(image, ax=[fgs1_ax, airs_ax], extend="both", label="z = (mu - truth) / sigma")
    fgs1_ax.set_xticks([0], [FGS1])
    wavelength_ticks(airs_ax, airs_um)
    if len(planet_ids) <= 40:
        fgs1_ax.set_yticks(np.arange(len(planet_ids)), [str(p) for p in planet_ids],
                           fontsize="small")  # fmt: skip
    fgs1_ax.set_ylabel("planet")
    airs_ax.set(xlabel=f"{AIRS} wavelength (um)", title="Normalised residuals")
    return fig


@dataclass
class FittedWhiteLight:
    """One instrument's white light of one visit: bin times (h), normalised flux, and the
    fit's model of it (transit x the systematics baseline)."""

    time_h: np.ndarray
    flux: np.ndarray
    model: np.ndarray


def _white_light_fits(
    lightcurves: xr.Dataset, fit: xr.Dataset, period_d: float, visit: int
) -> dict[str, FittedWhiteLight]:
    """The white light of each instrument and the model the fit found for it: the fitted
    transit (geometry, white depth, limb darkening from the fit file) times the systematics
    baseline solved for that transit, as the fit solves it, with the fit's own options."""
    options = FitOptions.from_config(json.loads(fit.attrs["options"]))
    curves = visit_curves(lightcurves, visit, options.regressors)
    t0_h = np.array(json.loads(fit.attrs["t0_h"]))
    geometry = Geometry(t0_h, float(fit.attrs["sma"]), float(fit.attrs["inclination"]), period_d)
    depth = json.loads(fit.attrs["white_depth"])
    limb_darkening = json.loads(fit.attrs["limb_darkening_white"])
    out = {}
    for instrument in INSTRUMENTS:
        time, flux = curves.time_h[instrument], curves.flux[instrument]
        curve = TransitCurve(time, t0_h[visit], geometry)
        transit = curve.flux(depth[instrument], *limb_darkening[instrument])
        design = systematics_design(time, curves.regressors[instrument], options)
        model = transit * fitted_baseline(flux, curves.sigma[instrument], transit, design)
        out[instrument] = FittedWhiteLight(time, flux, model)
    return out


def light_curve_fit(
    lightcurve: xr.Dataset, fit: xr.Dataset, star_period_days: float, visit: int = 0
) -> Figure:
    """The FGS1 and AIRS-CH0 white light of one visit (flux over its median against time in
    hours) with the physics fit's model, transit x systematics baseline (drift, ramp, jitter
    surface), and below each the residuals in ppm. ``lightcurve`` and ``fit`` are one
    planet's light-curve and fit files, ``star_period_days`` its orbital period."""
    fits = _white_light_fits(lightcurve, fit, star_period_days, visit)
    depth = json.loads(fit.attrs["white_depth"])
    fig = _figure(10.0, 5.5)
    axes = fig.subplots(2, 2, sharex="col", height_ratios=[3, 1])
    for column, (instrument, curve) in enumerate(fits.items()):
        top, bottom = axes[:, column]
        residual = (curve.flux - curve.model) * PPM
        top.plot(curve.time_h, curve.flux, ".", markersize=3, color=COLOURS[instrument],
                 label="white light")  # fmt: skip
        top.plot(curve.time_h, curve.model, color="k", linewidth=1.2,
                 label="fit: transit x systematics")  # fmt: skip
        top.set(ylabel="flux / median",
                title=f"{instrument} (white depth {depth[instrument] * PPM:.0f} ppm)")  # fmt: skip
        top.legend(fontsize="small", loc="best")
        bottom.plot(curve.time_h, residual, ".", markersize=3, color=COLOURS[instrument])
        bottom.axhline(0.0, color="k", linewidth=1)
        bottom.set(xlabel="time (h)", ylabel="residual (ppm)")
        bottom.text(0.01, 0.95, f"rms {np.std(residual):.0f} ppm", transform=bottom.transAxes,
                    va="top", fontsize="small")  # fmt: skip
    fig.suptitle(f"White-light fit, visit {visit}")
    return fig


def sigma_calibration_comparison(
    truth: np.ndarray,
    mu: np.ndarray,
    sigma_by_method: Mapping[str, np.ndarray],
    naive: tuple[float, float],
) -> Figure:
    """Sigmas of several calibrations of the same mu (e.g. uncalibrated, temperature,
    conformal): their reliability curves over all bins, and bars of the competition score
    and the 68 % / 95 % coverage of each (black ticks: the nominal coverage)."""
    fig = _figure(11.0, 4.6)
    reliability, bars = fig.subplots(1, 2, width_ratios=[1, 1.3])
    _diagonal(reliability)
    groups = ("score", "coverage 68 %", "coverage 95 %")
    width = 0.8 / len(sigma_by_method)
    for k, (method, sigma) in enumerate(sigma_by_method.items()):
        z = normalised_residual(truth, mu, sigma)
        colour = f"C{k}"
        reliability.plot(NOMINAL_LEVELS, observed_coverage(z, NOMINAL_LEVELS), color=colour,
                         label=method)  # fmt: skip
        values = [competition_score(truth, mu, sigma, *naive),
                  *observed_coverage(z, [0.68, 0.95])]  # fmt: skip
        container = bars.bar(np.arange(len(groups)) + (k + 0.5) * width - 0.4, values, width,
                             color=colour, label=method)  # fmt: skip
        bars.bar_label(container, fmt="%.2f", fontsize="x-small")
    coverage_groups = np.arange(1, len(groups))
    bars.hlines([0.68, 0.95], coverage_groups - 0.4, coverage_groups + 0.4, color="k",
                linewidth=2, label="nominal")  # fmt: skip
    bars.set_xticks(np.arange(len(groups)), groups)
    bars.set(ylim=(0, 1.08), ylabel="score / coverage", title="Score and coverage")
    bars.legend(fontsize="small", loc="upper left")
    reliability.legend(fontsize="small", loc="upper left")
    reliability.set_title("Reliability, all bins")
    return fig


def training_curves(
    history: Sequence[Mapping[str, float]],
    best_epoch: int | None = None,
    best_validation_score: float | None = None,
) -> Figure:
    """Train loss and validation score per epoch of one model (a member's ``history`` in
    train_metrics.json), the best epoch marked. Epoch 0 is the closed-form start, which the
    history does not list: pass the member's ``best_epoch`` and ``best_validation_score`` to
    mark it; by default the best is the history's highest validation score."""
    epochs = [row["epoch"] for row in history]
    scores = [row["validation_score"] for row in history]
    if best_epoch is None:
        best = int(np.argmax(scores))
        best_epoch, best_validation_score = epochs[best], scores[best]
    fig = _figure(7.0, 5.0)
    loss_ax, score_ax = fig.subplots(2, 1, sharex=True)
    loss_ax.plot(epochs, [row["train_loss"] for row in history], marker="o", color="tab:red")
    loss_ax.set(ylabel="train loss", title="Training")
    score_ax.plot(epochs, scores, marker="o", color="tab:blue", label="validation score")
    if best_validation_score is not None:
        score_ax.plot(best_epoch, best_validation_score, "*", markersize=14, color="k",
                      label=f"best: epoch {best_epoch}, {best_validation_score:.4f}")  # fmt: skip
    for ax in (loss_ax, score_ax):
        ax.axvline(best_epoch, color="0.5", linestyle="--", linewidth=1)
    score_ax.set(xlabel="epoch", ylabel="validation score")
    score_ax.legend(fontsize="small")
    return fig


def injection_figure(result: Mapping[str, Any]) -> Figure:
    """Inject and recover (``evaluation.injection.inject_recover``'s record), two panels:
    recovered vs injected CO2 amplitude (error bars, 1:1 line) and the FGS1 and mean-AIRS
    depth bias vs ramp amplitude, for each of the fit's estimates."""
    figure = _figure(10.0, 4.2)
    co2_axes, ramp_axes = figure.subplots(1, 2)
    labels = {"depth": "depth (submitted)", "fit_depth": "fit_depth (data alone)"}
    for k, estimate in enumerate(result["co2"]):
        rows = result["co2"][estimate]
        injected = np.array([r["injected_ppm"] for r in rows])
        offset = (k - 0.5) * 0.01 * max(np.ptp(injected), 1.0)  # keep the error bars apart
        co2_axes.errorbar(
            injected + offset,
            [r["recovered_ppm"] for r in rows],
            yerr=[r["sigma_ppm"] for r in rows],
            fmt="o",
            capsize=3,
            label=labels[estimate],
        )
        ramps = [r["ramp_ppm"] for r in result["ramp"][estimate]]
        for instrument, marker in (("fgs1", "o"), ("airs", "s")):
            bias = [r[f"{instrument}_bias_ppm"] for r in result["ramp"][estimate]]
            name = "FGS1" if instrument == "fgs1" else "AIRS mean"
            ramp_axes.plot(ramps, bias, marker=marker, label=f"{name}, {labels[estimate]}")
    limits = co2_axes.get_xlim()
    co2_axes.plot(limits, limits, color="grey", linestyle="--", linewidth=1, label="1:1")
    co2_axes.set_xlabel("injected CO2 amplitude (ppm)")
    co2_axes.set_ylabel("recovered amplitude (ppm)")
    co2_axes.set_title(f"CO2 feature, planet {result['planet_id']}")
    co2_axes.legend()
    ramp_axes.axhline(0.0, color="grey", linestyle="--", linewidth=1)
    ramp_axes.set_xlabel("injected white-light ramp (ppm over the visit)")
    ramp_axes.set_ylabel("depth bias vs uninjected (ppm)")
    ramp_axes.set_title("Drift ramp")
    ramp_axes.legend(fontsize="small")
    return figure
