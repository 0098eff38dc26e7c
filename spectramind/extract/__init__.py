"""Extraction: calibrated frames -> per-planet light curves in 283 channels with regressors."""

from spectramind.extract.lightcurves import extract_planet
from spectramind.extract.options import ExtractionOptions

__all__ = ["ExtractionOptions", "extract_planet"]
