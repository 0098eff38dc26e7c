"""Data layer: read an ADC 2025 raw root (real Kaggle download or simulator output).

Every reader checks what it reads and raises ``RawDataError`` naming the file and the
problem. Nothing here writes.
"""

from spectramind.io.calibration import CalibrationFrames, read_calibration
from spectramind.io.errors import RawDataError
from spectramind.io.frames import iter_signal_chunks, read_signal
from spectramind.io.layout import (
    INSTRUMENTS,
    SPLITS,
    calibration_dir,
    discover_planets,
    discover_visits,
    frame_shape,
    planet_dir,
    signal_path,
)
from spectramind.io.tables import (
    AdcSetting,
    AxisInfo,
    list_planets,
    read_adc_info,
    read_axis_info,
    read_labels,
    read_sample_submission,
    read_star_info,
    read_train_labels,
    read_wavelengths,
    sigma_columns,
    target_columns,
)

__all__ = [
    "INSTRUMENTS",
    "SPLITS",
    "AdcSetting",
    "AxisInfo",
    "CalibrationFrames",
    "RawDataError",
    "calibration_dir",
    "discover_planets",
    "discover_visits",
    "frame_shape",
    "iter_signal_chunks",
    "list_planets",
    "planet_dir",
    "read_adc_info",
    "read_axis_info",
    "read_calibration",
    "read_labels",
    "read_sample_submission",
    "read_signal",
    "read_star_info",
    "read_train_labels",
    "read_wavelengths",
    "sigma_columns",
    "signal_path",
    "target_columns",
]
