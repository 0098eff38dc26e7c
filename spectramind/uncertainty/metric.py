"""A metric-fitted sigma scale model: a few parameters fitted to maximise the competition
score of the validation planets (not their likelihood: the score weighs FGS1 57.8 times an
AIRS bin and each bin by its distance from the naive reference).

    log scale = a_instrument + b1 x + b2 x^2 + c (log sigma - log sigma_ref_instrument)

x is the AIRS wavelength standardised to [-1, 1] (0 for FGS1); a_FGS1, a_AIRS, b1, b2, c
are fitted; c < 0 shrinks the spread of sigma, c > 0 widens it. log sigma_ref is the
validation mean of log sigma per instrument, kept so the model applies to new planets.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from scipy.optimize import minimize

from spectramind.evaluation.metrics import competition_score
from spectramind.uncertainty.groups import FGS1_BIN, instrument_of_bins, mean_log_sigma

N_PARAMETERS = 5


def standardised_wavelength(wavelength_um: np.ndarray) -> np.ndarray:
    """AIRS wavelengths mapped to [-1, 1]; 0 for the FGS1 bin."""
    wavelength = np.asarray(wavelength_um, dtype=float)
    airs = np.delete(wavelength, FGS1_BIN)
    x = 2.0 * (wavelength - airs.min()) / (airs.max() - airs.min()) - 1.0
    x[FGS1_BIN] = 0.0
    return x


class MetricScaleModel:
    """The scale model above; ``fit`` needs the wavelengths and the naive reference."""

    def __init__(
        self,
        parameters: np.ndarray | None = None,
        log_sigma_ref: np.ndarray | None = None,
        wavelength_um: np.ndarray | None = None,
    ) -> None:
        self.parameters = parameters
        self.log_sigma_ref = log_sigma_ref
        self.wavelength_um = wavelength_um

    def _log_scale(self, parameters: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        instrument = instrument_of_bins(sigma.shape[1])
        x = standardised_wavelength(self.wavelength_um)
        a_fgs1, a_airs, b1, b2, c = parameters
        offset = np.where(instrument == 0, a_fgs1, a_airs + b1 * x + b2 * x**2)
        return offset + c * (np.log(sigma) - self.log_sigma_ref[instrument])

    def fit(
        self,
        truth: np.ndarray,
        mu: np.ndarray,
        sigma: np.ndarray,
        *,
        wavelength_um: np.ndarray,
        naive: tuple[float, float],
        **_: Any,
    ) -> Self:
        self.wavelength_um = np.asarray(wavelength_um, dtype=float)
        self.log_sigma_ref = mean_log_sigma(sigma)

        def loss(parameters: np.ndarray) -> float:
            scaled = sigma * np.exp(self._log_scale(parameters, sigma))
            return -competition_score(truth, mu, scaled, *naive, clip=False)

        # Nelder-Mead: the score has flat stretches where predictions fall below the naive
        # reference, and five parameters are cheap to search without gradients.
        start = np.zeros(N_PARAMETERS)
        result = minimize(loss, start, method="Nelder-Mead",
                          options={"xatol": 1e-4, "fatol": 1e-7, "maxiter": 4000})  # fmt: skip
        self.parameters = result.x if result.fun <= loss(start) else start
        return self

    def apply(self, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        return sigma * np.exp(self._log_scale(self.parameters, sigma))

    def state(self) -> dict[str, Any]:
        return {
            "parameters": dict(
                zip(("a_fgs1", "a_airs", "b1", "b2", "c"), self.parameters.tolist(), strict=True)
            ),  # fmt: skip
            "log_sigma_ref": self.log_sigma_ref.tolist(),
            "wavelength_um": self.wavelength_um.tolist(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Self:
        parameters = state["parameters"]
        return cls(
            np.array([parameters[k] for k in ("a_fgs1", "a_airs", "b1", "b2", "c")]),
            np.asarray(state["log_sigma_ref"], dtype=float),
            np.asarray(state["wavelength_um"], dtype=float),
        )
