"""Calibrate one visit of one instrument: raw parquet -> binned, calibrated xarray Dataset."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import xarray as xr

from spectramind import __version__
from spectramind.calibrate.kernels import accumulate_bins, pair_signals
from spectramind.calibrate.options import CalibrationOptions
from spectramind.calibrate.pixels import (
    FLAG_COSMIC,
    FLAG_DEAD,
    FLAG_HOT,
    FLAG_MEANINGS,
    fill_masked_along_columns,
    hot_pixels,
)
from spectramind.core.provenance import sha256_outputs
from spectramind.io import (
    AxisInfo,
    RawDataError,
    calibration_dir,
    iter_signal_chunks,
    read_adc_info,
    read_axis_info,
    read_calibration,
    signal_path,
)
from spectramind.io.layout import AIRS_SCIENCE_COLUMNS, INTEGRATION_S, PAIR_PERIOD_S, SHORT_READ_S

log = logging.getLogger(__name__)

JITTER_TOLERANCE = 1.2
NOISE_SAMPLE_PAIRS = 256
TRIM_FRACTION = 0.02
TRIMMED_RMS_OF_UNIT_NORMAL = 0.93  # rms of |x| < 2.33 for x ~ N(0, 1)


def detect_cadence(axis: AxisInfo, instrument: str) -> int:
    """How many real pair periods separate consecutive pairs (1 for real data)."""
    starts = axis.time_h(instrument)[0::2] * 3600.0
    if len(starts) < 2:
        return 1
    spacing = float(np.median(np.diff(starts)))
    return max(1, round(spacing / PAIR_PERIOD_S[instrument]))


def read_times(axis: AxisInfo, instrument: str, path: Path) -> tuple[float, float]:
    """Dark-current exposure (s) of the short and long read: 0.1 / 0.1 + integration."""
    if instrument == "FGS1":
        return SHORT_READ_S, SHORT_READ_S + INTEGRATION_S["FGS1"]
    integration = axis.airs_integration_s
    short, long = np.unique(integration[0::2]), np.unique(integration[1::2])
    if len(short) != 1 or len(long) != 1:
        raise RawDataError(path, "AIRS-CH0-integration_time is not a constant short/long pattern")
    return float(short[0]), float(long[0] + short[0])


def white_noise_pixels(
    frames: np.ndarray, pixel_model: tuple, read_variance: np.ndarray
) -> np.ndarray:
    """Pixels whose pair-to-pair scatter is what photon + read noise predict (within 50 %).

    Only there does a spike mean a cosmic ray; where pointing jitter dominates (the FGS1
    PSF, the AIRS trace edges) a jump is real signal moving, and a cosmic ray's few hundred
    e- are small next to the pixel's own variation anyway. The scatter is the rms of the
    differences of up to ``NOISE_SAMPLE_PAIRS`` consecutive pairs with the largest
    ``TRIM_FRACTION`` left out: a few cosmic rays among them do not hide themselves, while
    jitter, which moves many pairs, still shows.
    """
    n_pairs = min(frames.shape[0] // 2, NOISE_SAMPLE_PAIRS)
    if n_pairs < 3:
        return np.zeros(read_variance.shape, dtype=np.bool_)
    signals = np.empty((n_pairs, *read_variance.shape))
    pair_signals(frames, pixel_model, signals)
    differences = np.sort(np.abs(np.diff(signals, axis=0)), axis=0)
    kept = differences[: len(differences) - max(1, int(TRIM_FRACTION * len(differences)))]
    # A normal variable's rms below its (1 - TRIM_FRACTION) quantile, relative to sigma.
    trimmed_sigma = np.sqrt(np.mean(kept**2, axis=0)) / TRIMMED_RMS_OF_UNIT_NORMAL
    level = np.clip(np.median(signals, axis=0), 0.0, None)
    model = np.sqrt(2.0 * (level + read_variance))
    return trimmed_sigma < JITTER_TOLERANCE * model


def _bin_times_h(axis: AxisInfo, instrument: str, n_bins: int, pairs_per_bin: int) -> np.ndarray:
    times = axis.time_h(instrument)[: 2 * n_bins * pairs_per_bin]
    return times.reshape(n_bins, 2 * pairs_per_bin).mean(axis=1)


def calibrate_visit(
    root: str | Path,
    split: str,
    planet_id: int,
    instrument: str,
    visit: int,
    options: CalibrationOptions | None = None,
) -> xr.Dataset:
    """Run the calibration chain on one visit, streaming the raw frames chunk by chunk.

    Returns a Dataset with dims (time, row, column): ``flux`` and ``variance`` (e-, e-^2 per
    bin, float32) and ``mask`` (bit flags: 1 dead, 2 hot, 4 a cosmic ray was replaced in the
    bin). Dead pixels (and hot ones if ``fill_hot``) are filled by interpolation along
    their row (see ``fill_masked_along_columns``); hot pixels otherwise keep their
    dark-subtracted data. AIRS keeps the science columns 39..320, flipped to
    ascending wavelength, with a ``wavelength`` coordinate.
    """
    options = options or CalibrationOptions()
    root = Path(root)
    path = signal_path(root, split, planet_id, instrument, visit)
    axis = read_axis_info(root)
    adc = read_adc_info(root)[instrument]
    folder = calibration_dir(root, split, planet_id, instrument, visit)
    calib = read_calibration(folder, instrument)
    columns = AIRS_SCIENCE_COLUMNS if instrument == "AIRS-CH0" else slice(0, calib.dark.shape[1])

    cadence = detect_cadence(axis, instrument)
    pairs_per_bin = options.pairs_per_bin(instrument, cadence)
    n_pairs = axis.n_frames(instrument) // 2
    n_bins = n_pairs // pairs_per_bin
    if n_bins == 0:
        raise RawDataError(
            path, f"visit has {n_pairs} CDS pairs, fewer than one time bin of {pairs_per_bin}"
        )
    dt_short, dt_long = read_times(axis, instrument, path)

    dark = calib.dark[:, columns] if options.dark else np.zeros_like(calib.dark[:, columns])
    short_weight = 1.0 if options.cds else 0.0
    if options.linearity:
        coeffs = np.ascontiguousarray(calib.linear_corr[:, :, columns])
    else:
        coeffs = np.zeros((6, *dark.shape))
        coeffs[1] = 1.0
    read_variance = (1.0 + short_weight) * calib.read[:, columns] ** 2
    shape = (n_bins, *dark.shape)
    flux, variance = np.zeros(shape), np.zeros(shape)
    cosmics = np.zeros(shape, dtype=np.int32)
    history = np.zeros((3, *dark.shape))
    used_frames = 2 * n_bins * pairs_per_bin
    inv_gain, offset = (1.0 / adc.gain, adc.offset) if options.adc else (1.0, 0.0)
    pixel_model = (
        inv_gain, offset, coeffs, np.ascontiguousarray(dark * dt_short),
        np.ascontiguousarray(dark * dt_long), short_weight,
    )  # fmt: skip
    cosmic_sigma = options.cosmic_sigma if options.cosmic[instrument] else 0.0
    read_variance = np.ascontiguousarray(read_variance)
    testable = np.zeros(dark.shape, dtype=np.bool_)
    chunks = iter_signal_chunks(
        path, instrument, axis.n_frames(instrument), detector_columns=columns
    )
    for start, frames in chunks:
        if start >= used_frames:
            break
        frames = frames[: used_frames - start]
        if start == 0 and options.cosmic[instrument]:
            testable = white_noise_pixels(frames, pixel_model, read_variance)
        accumulate_bins(
            frames, pixel_model, read_variance, pairs_per_bin, start // 2, cosmic_sigma,
            testable, history, flux, variance, cosmics,
        )  # fmt: skip

    static_flags = np.zeros(dark.shape, dtype=np.uint8)
    if options.mask_dead:
        static_flags[calib.dead[:, columns]] |= FLAG_DEAD
    if options.mask_hot:
        static_flags[hot_pixels(calib.dark, options.hot_sigma)[:, columns]] |= FLAG_HOT
    if options.flat:
        flat = calib.flat[:, columns]
        safe = np.where(static_flags & FLAG_DEAD, 1.0, flat)
        flux /= safe
        variance /= safe**2
    fill = np.zeros(dark.shape, dtype=bool)
    if options.fill_dead:
        fill |= (static_flags & FLAG_DEAD) > 0
    if options.fill_hot:
        fill |= (static_flags & FLAG_HOT) > 0
    if fill.any():
        fill_masked_along_columns(flux, variance, fill)
    mask = np.where(cosmics > 0, FLAG_COSMIC, 0).astype(np.uint8) | static_flags

    column_index = np.arange(calib.dark.shape[1])[columns]
    coords = {"time": _bin_times_h(axis, instrument, n_bins, pairs_per_bin), "row": np.arange(32)}
    if instrument == "AIRS-CH0":
        flux, variance, mask = (a[:, :, ::-1] for a in (flux, variance, mask))
        column_index = column_index[::-1]
        coords["wavelength"] = ("column", axis.airs_wavelength_um[column_index])
    coords["column"] = column_index
    log.info(
        "%s visit %d: %d bins of %d pairs, %d cosmic rays replaced, %d masked pixels",
        instrument, visit, n_bins, pairs_per_bin, int(cosmics.sum()), int((static_flags > 0).sum()),
    )  # fmt: skip
    attrs = {
        "title": f"SpectraMind V50 calibrated {instrument} visit",
        "instrument": instrument,
        "split": split,
        "planet_id": int(planet_id),
        "visit": int(visit),
        "cadence": cadence,
        "pairs_per_bin": pairs_per_bin,
        "dt_short_s": dt_short,
        "dt_long_s": dt_long,
        "adc_gain": adc.gain,
        "adc_offset": adc.offset,
        "steps": json.dumps(options.as_dict(), sort_keys=True),
        "steps_order": "adc, mask_dead/mask_hot, linearity, dark, cds, cosmic, time_bin, flat, "
        "fill_dead/fill_hot",
        "source_sha256": json.dumps(sha256_outputs([path, folder]), sort_keys=True),
        "software": f"spectramind {__version__}",
    }
    return _dataset(flux, variance, mask, coords, attrs)


def _dataset(
    flux: np.ndarray, variance: np.ndarray, mask: np.ndarray, coords: dict, attrs: dict
) -> xr.Dataset:
    dims = ("time", "row", "column")
    flags = np.array([FLAG_DEAD, FLAG_HOT, FLAG_COSMIC], np.uint8)
    flux_attrs = {"units": "e-", "long_name": "CDS signal summed over the time bin"}
    variance_attrs = {"units": "e-2", "long_name": "shot + read + dark variance of flux"}
    mask_attrs = {"flag_masks": flags, "flag_meanings": FLAG_MEANINGS}
    dataset = xr.Dataset(
        {
            "flux": (dims, flux.astype(np.float32), flux_attrs),
            "variance": (dims, variance.astype(np.float32), variance_attrs),
            "mask": (dims, mask, mask_attrs),
        },
        coords=coords,
        attrs=attrs,
    )
    dataset["time"].attrs = {"units": "h", "long_name": "bin centre since visit start"}
    if "wavelength" in dataset.coords:
        dataset["wavelength"].attrs = {"units": "um"}
    return dataset
