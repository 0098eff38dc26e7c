"""Known signals injected into a simulated planet, to test what the chain recovers.

An ``Injection`` adds (a) a CO2 feature to the planet's true depth spectrum, before the
light curves and frames are made, so the truth includes it; and (b) a white-light drift
ramp, a flux trend linear in time, the same in every wavelength and both instruments.

The injected run shares the uninjected run's noise realisation: the photon and read noise
are drawn on the uninjected scene and the injection's expected extra charge is added to
them (planet.raw_frames). Drawing Poisson counts on the injected rates would not do: numpy's
Poisson sampler draws a varying number of random numbers per value, so a changed rate shifts
every later draw of the stream. The injected charge carries no shot noise of its own, a
relative change of the variance of the order of the injected fraction (< 1e-3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spectramind.simulate.systematics import VISIT_MID_H

# CO2's absorption bands inside AIRS-CH0 (~1.95-3.9 um) as Gaussians in depth: (centre um,
# width um (1 sigma), peak relative to the 2.7 um band). Centres and widths are those of the
# simulator's own CO2 opacity bands (spectrum.BANDS), relative peaks as there too.
# The 2.0 um band (the 2v1+v3 and v1+2v2+v3 combination bands, ~1.96-2.06 um) sits at AIRS's
# blue edge: its blue wing falls below the first channel (1.952 um). The 2.7 um band (the
# v1+v3 / 2v2+v3 Fermi dyad, ~2.69-2.77 um) sits on water's 2.7 um band.
CO2_BAND_2_0_UM = (2.03, 0.04, 0.4)
CO2_BAND_2_7_UM = (2.70, 0.05, 1.0)
CO2_BANDS = (CO2_BAND_2_0_UM, CO2_BAND_2_7_UM)


def co2_template(wavelength_um: np.ndarray) -> np.ndarray:
    """The CO2 feature's shape at each wavelength: peak 1 at the 2.7 um band, ~0 far off."""
    wl = np.asarray(wavelength_um, dtype=np.float64)
    template = np.zeros_like(wl)
    for centre, width, peak in CO2_BANDS:
        template += peak * np.exp(-0.5 * ((wl - centre) / width) ** 2)
    return template


@dataclass(frozen=True)
class Injection:
    """What to inject: co2_amplitude_ppm, the CO2 feature's peak depth (ppm of (Rp/Rs)^2;
    co2_template times it is added to the depth); ramp_amplitude_ppm, the white-light flux
    change over the 7.5 h visit (ppm; linear in time, zero at mid-visit, rising if > 0)."""

    co2_amplitude_ppm: float = 0.0
    ramp_amplitude_ppm: float = 0.0

    @property
    def active(self) -> bool:
        """Whether anything is injected (an inactive injection leaves every byte alone)."""
        return self.co2_amplitude_ppm != 0.0 or self.ramp_amplitude_ppm != 0.0

    def depth(self, wavelength_um: np.ndarray) -> np.ndarray:
        """The depth added at each wavelength ((Rp/Rs)^2)."""
        return self.co2_amplitude_ppm * 1e-6 * co2_template(wavelength_um)

    def flux_factor(self, time_h: np.ndarray) -> np.ndarray:
        """The ramp's multiplicative flux factor at each time (h since the visit start)."""
        fraction = (np.asarray(time_h, dtype=np.float64) - VISIT_MID_H) / (2.0 * VISIT_MID_H)
        return 1.0 + self.ramp_amplitude_ppm * 1e-6 * fraction
