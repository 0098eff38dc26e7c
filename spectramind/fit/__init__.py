"""Physics fit: transit + drift + limb darkening -> depth and sigma per channel."""

from spectramind.fit.options import FitOptions
from spectramind.fit.planet import FitPriors, fit_planet

__all__ = ["FitOptions", "FitPriors", "fit_planet"]
