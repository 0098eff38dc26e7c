"""SpectraMind V50: raw Ariel frames to calibrated transit-depth spectra and a Kaggle submission."""

__version__ = "0.1.0"
