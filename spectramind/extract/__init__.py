"""Extraction: calibrated frames -> per-planet light curves in 283 channels with regressors.

``lightcurves.extract_planet`` is the entry point. Submodules are imported where they are
used: the fit needs the regressor vocabulary (``regressors``, ``options``) without pulling
in the calibration kernels (numba) and photometry (astropy) that extraction runs on.
"""
