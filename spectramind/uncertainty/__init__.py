"""Sigma calibration: maps fitted on validation planets (truth known, never trained on) and
applied to test predictions, on top of either predictor (physics fit or V50).

Each method is a small object with ``fit`` on validation (truth, mu, sigma) and ``apply`` on
predictions; ``state`` / ``from_state`` keep it as a JSON artifact the inference path reads.
Every method changes sigma only: mu is the predictor's.
"""

from spectramind.uncertainty.sigma_calibration import (
    METHODS,
    SigmaCalibrationOptions,
    fit_sigma_calibration,
    identity_sigma_calibration,
    load_sigma_calibration,
    save_sigma_calibration,
)

__all__ = [
    "METHODS",
    "SigmaCalibrationOptions",
    "fit_sigma_calibration",
    "identity_sigma_calibration",
    "load_sigma_calibration",
    "save_sigma_calibration",
]
