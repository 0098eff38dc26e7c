"""Frame times of a visit, laid out exactly as axis_info.parquet does."""

from __future__ import annotations

import numpy as np
import pandas as pd

from spectramind.io.layout import INTEGRATION_S, PAIR_PERIOD_S, SHORT_READ_S
from spectramind.simulate.config import SimulationConfig
from spectramind.simulate.wavelengths import airs_column_wavelengths


def pair_start_s(instrument: str, n_pairs: int, cadence: int) -> np.ndarray:
    """Time (s) of the short read of every CDS pair: 0.1, 0.1 + period * cadence, ..."""
    return SHORT_READ_S + PAIR_PERIOD_S[instrument] * cadence * np.arange(n_pairs)


def pair_mid_exposure_h(instrument: str, n_pairs: int, cadence: int) -> np.ndarray:
    """Mid time (h) of the charge a CDS pair measures (between its short and long read)."""
    start = pair_start_s(instrument, n_pairs, cadence)
    return (start + 0.5 * INTEGRATION_S[instrument]) / 3600.0


def frame_times_s(instrument: str, n_pairs: int, cadence: int) -> np.ndarray:
    """Frame time stamps (s) as the real axis_info lists them: short read, then +0.1 s."""
    start = pair_start_s(instrument, n_pairs, cadence)
    return np.stack([start, start + SHORT_READ_S], axis=1).ravel()


def axis_info_table(config: SimulationConfig) -> pd.DataFrame:
    """The axis_info.parquet table: four float64 columns, shorter ones padded with NaN."""
    fgs1 = frame_times_s("FGS1", config.n_pairs("FGS1"), config.cadence) / 3600.0
    airs = frame_times_s("AIRS-CH0", config.n_pairs("AIRS-CH0"), config.cadence) / 3600.0
    integration = np.tile([SHORT_READ_S, INTEGRATION_S["AIRS-CH0"]], len(airs) // 2)
    n_rows = max(len(fgs1), len(airs), 356)

    def padded(values: np.ndarray) -> np.ndarray:
        out = np.full(n_rows, np.nan)
        out[: len(values)] = values
        return out

    return pd.DataFrame(
        {
            "FGS1-axis0-h": padded(fgs1),
            "AIRS-CH0-axis0-h": padded(airs),
            "AIRS-CH0-axis2-um": padded(airs_column_wavelengths()),
            "AIRS-CH0-integration_time": padded(integration),
        }
    )
