"""Figures of one planet's visit before and after calibration: the raw frames as stored (ADU)
and the calibrated, time-binned frames (e-), each with the white light (sum of all pixels)
over the visit, for the report's "Data" and "Calibration" sections.

Built as ``figures`` builds its figures: a ``Figure`` out, written with ``save_figure``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.colors import AsinhNorm, LogNorm, Normalize
from matplotlib.figure import Figure

from spectramind.diagnostics.figures import AIRS, COLOURS, FGS1, _figure, wavelength_ticks
from spectramind.io import (
    INSTRUMENTS,
    AdcSetting,
    iter_signal_chunks,
    read_adc_info,
    read_axis_info,
    signal_path,
)
from spectramind.io.frames import DEFAULT_CHUNK_FRAMES
from spectramind.io.layout import AIRS_SCIENCE_COLUMNS

# Frames read per instrument by default: a real AIRS-CH0 visit whole (11250), the first
# 0.9 h of a real FGS1 one (135000 frames in 7.5 h). Read a chunk at a time.
RAW_FRAMES = 4 * DEFAULT_CHUNK_FRAMES
IMAGE_FRAME = 1  # the raw frame shown: the long read of the first CDS pair
MASK_STYLES = (  # one per flag bit of the calibrated mask, in its flag_masks order
    {"marker": "x", "color": "red"},
    {"marker": "+", "color": "magenta"},
    {"marker": ".", "color": "cyan"},
)
GRID = {"width_ratios": [1, 2.6], "height_ratios": [1.2, 1]}  # images on top, FGS1 left


@dataclass(frozen=True)
class RawSignal:
    """The start of one instrument's raw signal of a visit, as stored: frame ``IMAGE_FRAME``
    (rows, columns) and the sum of all pixels of each frame read (ADU), those frames' times
    (h, from axis_info), the visit's frame count and the instrument's ADC setting."""

    image: np.ndarray
    white_adu: np.ndarray
    time_h: np.ndarray
    n_frames: int
    adc: AdcSetting


@dataclass(frozen=True)
class RawVisit:
    """Raw signals of both instruments of one visit, by instrument (FGS1 first)."""

    split: str
    planet_id: int
    visit: int
    signals: dict[str, RawSignal]


def read_raw_visit(
    root: str | Path,
    split: str,
    planet_id: int,
    visit: int = 0,
    max_frames: int | None = RAW_FRAMES,
) -> RawVisit:
    """Read the first ``max_frames`` frames (None: all) of each instrument's signal of one
    visit with ``iter_signal_chunks``, keeping one frame and each frame's pixel sum: memory
    stays at one chunk. The stream stops after the parquet row groups holding those frames
    (a file written as one row group is still decoded whole)."""
    if max_frames is not None and max_frames <= IMAGE_FRAME:
        raise ValueError(f"max_frames must exceed {IMAGE_FRAME}, got {max_frames}")
    axis, adc = read_axis_info(root), read_adc_info(root)
    signals = {}
    for instrument in INSTRUMENTS:
        total = axis.n_frames(instrument)
        wanted = total if max_frames is None else min(max_frames, total)
        path = signal_path(root, split, planet_id, instrument, visit)
        white = np.empty(wanted)
        for start, frames in iter_signal_chunks(path, instrument, total):
            if start >= wanted:
                break
            frames = frames[: wanted - start]
            if start == 0:
                image = frames[IMAGE_FRAME].copy()
            white[start : start + len(frames)] = frames.reshape(len(frames), -1).sum(axis=1)
        signals[instrument] = RawSignal(
            image, white, axis.time_h(instrument)[:wanted], total, adc[instrument]
        )
    return RawVisit(split, int(planet_id), visit, signals)


def _image(
    fig: Figure, ax: Axes, image: np.ndarray, instrument: str, norm: Normalize, label: str
) -> None:
    """One detector image with its colour bar: FGS1 square pixels, AIRS-CH0 stretched."""
    aspect = "equal" if instrument == FGS1 else "auto"
    shown = ax.imshow(image, norm=norm, aspect=aspect, interpolation="nearest", cmap="viridis")
    fig.colorbar(shown, ax=ax, label=label)
    ax.set_ylabel("detector row")


def raw_frames(raw: RawVisit) -> Figure:
    """One raw frame per instrument (ADU, log colour scale; AIRS-CH0 with the science columns
    that calibration keeps marked) above its white light per frame read: short reads (even
    frames) and long reads (odd frames) alternate and are drawn apart."""
    fig = _figure(12.0, 7.0)
    axes = fig.subplots(2, 2, **GRID)
    for column, (instrument, signal) in enumerate(raw.signals.items()):
        image_ax, white_ax = axes[:, column]
        norm = LogNorm(vmin=max(float(signal.image.min()), 1.0), vmax=float(signal.image.max()))
        _image(fig, image_ax, signal.image, instrument, norm, "ADU (log scale)")
        gain, offset = signal.adc.gain, signal.adc.offset
        adc = f"ADC: ADU / {gain:g} {'+' if offset >= 0 else '-'} {abs(offset):g}"
        image_ax.set_title(f"{instrument} frame {IMAGE_FRAME} (first long read)\n{adc}")
        image_ax.set_xlabel("detector column")
        if instrument == AIRS:
            edges = (AIRS_SCIENCE_COLUMNS.start - 0.5, AIRS_SCIENCE_COLUMNS.stop - 0.5)
            for edge in edges:
                image_ax.axvline(edge, color="w", linestyle="--", linewidth=1)
            image_ax.text(np.mean(edges), 0.5, f"science columns {AIRS_SCIENCE_COLUMNS.start}"
                          f"..{AIRS_SCIENCE_COLUMNS.stop - 1}", ha="center", va="top",
                          color="w", fontsize="small")  # fmt: skip
        for parity, (reads, colour) in enumerate((("short", "0.4"), ("long", COLOURS[instrument]))):
            white_ax.plot(signal.time_h[parity::2], signal.white_adu[parity::2], ".",
                          markersize=2, color=colour, label=f"{reads} reads",
                          rasterized=True)  # fmt: skip
        shown = len(signal.white_adu)
        span = f"all {shown}" if shown == signal.n_frames else f"first {shown} of {signal.n_frames}"
        white_ax.set(xlabel="time (h)", ylabel="sum of all pixels (ADU)",
                     title=f"{instrument} raw white light, {span} frames")  # fmt: skip
        white_ax.legend(fontsize="small", markerscale=4, loc="center right")
    fig.suptitle(f"Raw frames: {raw.split} planet {raw.planet_id}, visit {raw.visit}")
    return fig


def _mark_masked(ax: Axes, mask: xr.DataArray) -> None:
    """Mark the pixels carrying each flag of the mask in any time bin, named and counted
    from the mask's own flag_masks / flag_meanings."""
    flags = mask.to_numpy()
    meanings = mask.attrs["flag_meanings"].split()
    for bit, meaning, style in zip(mask.attrs["flag_masks"], meanings, MASK_STYLES, strict=True):
        rows, columns = np.nonzero((flags & bit).any(axis=0))
        ax.scatter(columns, rows, s=18, linewidths=1,
                   label=f"{meaning.replace('_', ' ')} ({rows.size} px)", **style)  # fmt: skip


def calibrated_frames(fgs1: xr.Dataset, airs: xr.Dataset) -> Figure:
    """The calibrated FGS1 and AIRS-CH0 files of one visit (as ``calibrate_visit`` writes
    them): the flux averaged over time bins (asinh colour scale, linear below the median
    pixel) with masked pixels marked, above the white light per time bin."""
    datasets = {FGS1: fgs1, AIRS: airs}
    found = tuple(data.attrs["instrument"] for data in datasets.values())
    if found != INSTRUMENTS:
        raise ValueError(f"expected the {FGS1} then the {AIRS} dataset, got {found}")
    fig = _figure(12.0, 7.0)
    axes = fig.subplots(2, 2, **GRID)
    for column, (instrument, data) in enumerate(datasets.items()):
        image_ax, white_ax = axes[:, column]
        flux = data["flux"]
        units = flux.attrs.get("units", "unknown units")
        mean = flux.mean("time").to_numpy()
        norm = AsinhNorm(linear_width=max(float(np.median(np.abs(mean))), 1e-6))
        _image(fig, image_ax, mean, instrument, norm, f"mean per time bin ({units})")
        _mark_masked(image_ax, data["mask"])
        image_ax.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.22),
                        ncols=3 if instrument == AIRS else 1)  # fmt: skip
        bins, pairs = data.sizes["time"], data.attrs["pairs_per_bin"]
        image_ax.set_title(f"{instrument}: mean of {bins} time bins\n({pairs} CDS pairs each)")
        if instrument == AIRS:
            wavelength_ticks(image_ax, data["wavelength"].to_numpy())
            image_ax.set_xlabel("wavelength (um)")
        else:
            image_ax.set_xlabel("detector column")
        white = flux.sum(("row", "column")).to_numpy()
        white_ax.plot(data["time"].to_numpy(), white, ".", markersize=3, color=COLOURS[instrument])
        white_ax.set(xlabel="time (h)", ylabel=f"sum of all pixels ({units} per bin)",
                     title=f"{instrument} calibrated white light, {bins} time bins")  # fmt: skip
    attrs = fgs1.attrs
    fig.suptitle(f"Calibrated frames: {attrs['split']} planet {attrs['planet_id']}, "
                 f"visit {attrs['visit']}\nsteps: {attrs['steps_order']}")  # fmt: skip
    return fig
