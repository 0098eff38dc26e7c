"""Extraction: calibrated frames -> per-planet light curves in 283 channels with regressors."""

from spectramind.extract.lightcurves import extract_planet

__all__ = ["extract_planet"]
