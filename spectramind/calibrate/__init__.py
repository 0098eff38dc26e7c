"""Calibration: raw frames of one visit -> binned, calibrated flux with variance and mask."""

from spectramind.calibrate.options import CalibrationOptions
from spectramind.calibrate.visit import calibrate_visit

__all__ = ["CalibrationOptions", "calibrate_visit"]
