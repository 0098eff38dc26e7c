"""Relational sigma calibration (after COREL): a small graph network over the 283 bins of a
planet predicts each bin's log sigma scale from the structure of that planet's prediction.

A bin's errors are related to its neighbours' in wavelength: a predicted spectrum that is
rough where the truth is smooth, or a bin whose sigma stands out from its neighbours, says
where the predictor is over- or under-confident. Node features use only what a test planet
has (no truth): log sigma relative to the instrument's validation mean, the standardised
wavelength, an FGS1 flag, the roughness of mu in sigma units (its departure from the mean of
its wavelength neighbours) and the planet's mean log sigma. Edges join each AIRS bin to its
k nearest wavelengths, and FGS1 to the k bluest AIRS bins. The network starts at scale 1
(zero output layer) and is trained to maximise the validation planets' competition score
(``models.loss.score_per_planet``, differentiable), deterministically (seeded, full batch).
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import torch
from torch import nn
from torch_geometric.nn import GraphConv

from spectramind.models.graph import wavelength_edges
from spectramind.models.loss import score_per_planet
from spectramind.uncertainty.groups import FGS1_BIN, instrument_of_bins, mean_log_sigma
from spectramind.uncertainty.metric import standardised_wavelength

NEIGHBOURS = 3
HIDDEN = 16
STEPS = 300
LEARNING_RATE = 0.01
WEIGHT_DECAY = 1e-3
N_FEATURES = 5


def bin_graph(wavelength_um: np.ndarray, k: int = NEIGHBOURS) -> torch.Tensor:
    """(2, E) edges over the bins: AIRS bins to their k nearest wavelengths, FGS1 (bin 0) to
    the k AIRS bins nearest to it, both directions."""
    wavelength = np.asarray(wavelength_um, dtype=float)
    airs = wavelength_edges(np.delete(wavelength, FGS1_BIN), k) + 1  # AIRS bins are 1..282
    nearest = 1 + np.argsort(np.abs(np.delete(wavelength, FGS1_BIN) - wavelength[FGS1_BIN]))[:k]
    fgs1 = torch.as_tensor(np.stack([np.zeros(k, dtype=int), nearest]))
    return torch.cat([airs, fgs1, fgs1.flip(0)], dim=1)


def node_features(
    mu: np.ndarray,
    sigma: np.ndarray,
    wavelength_um: np.ndarray,
    edge_index: torch.Tensor,
    log_sigma_ref: np.ndarray,
) -> torch.Tensor:
    """(planets, bins, N_FEATURES) features of each bin, from predictions only."""
    n_planets, n_bins = mu.shape
    instrument = instrument_of_bins(n_bins)
    relative = np.log(sigma) - log_sigma_ref[instrument]
    neighbours = np.zeros((n_bins, n_bins))
    neighbours[edge_index[1].numpy(), edge_index[0].numpy()] = 1.0
    neighbours /= neighbours.sum(axis=1, keepdims=True)
    roughness = (mu - mu @ neighbours.T) / sigma
    roughness[:, FGS1_BIN] = 0.0  # FGS1's neighbours are another instrument's bins
    features = np.stack(
        [
            relative,
            np.broadcast_to(standardised_wavelength(wavelength_um), mu.shape),
            np.broadcast_to((instrument == 0).astype(float), mu.shape),
            np.arcsinh(roughness),
            np.broadcast_to(relative.mean(axis=1, keepdims=True), mu.shape),
        ],
        axis=-1,
    )
    return torch.as_tensor(features, dtype=torch.float64)


class ScaleNetwork(nn.Module):
    """Two graph convolutions and a linear read-out of each bin's log scale."""

    def __init__(self, hidden: int = HIDDEN) -> None:
        super().__init__()
        self.conv1 = GraphConv(N_FEATURES, hidden)
        self.conv2 = GraphConv(hidden, hidden)
        self.readout = nn.Linear(hidden, 1)
        nn.init.zeros_(self.readout.weight)
        nn.init.zeros_(self.readout.bias)

    def forward(self, features: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        # features (planets, bins, N_FEATURES) -> log scale (planets, bins)
        hidden = torch.relu(self.conv1(features, edge_index))
        hidden = torch.relu(self.conv2(hidden, edge_index))
        return self.readout(hidden).squeeze(-1)


class RelationalCalibration:
    """The graph network above, with what it needs to build features for new planets."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.network = ScaleNetwork().double()
        self.wavelength_um: np.ndarray | None = None
        self.log_sigma_ref: np.ndarray | None = None

    def _inputs(self, mu: np.ndarray, sigma: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        edge_index = bin_graph(self.wavelength_um)
        features = node_features(mu, sigma, self.wavelength_um, edge_index, self.log_sigma_ref)
        return features, edge_index

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
        torch.manual_seed(self.seed)
        self.network = ScaleNetwork().double()
        self.wavelength_um = np.asarray(wavelength_um, dtype=float)
        self.log_sigma_ref = mean_log_sigma(sigma)
        optimiser = torch.optim.Adam(self.network.parameters(), lr=LEARNING_RATE,
                                     weight_decay=WEIGHT_DECAY)  # fmt: skip
        y, m, s = (torch.as_tensor(a, dtype=torch.float64) for a in (truth, mu, sigma))
        inputs = self._inputs(mu, sigma)
        for _ in range(STEPS):
            optimiser.zero_grad()
            loss = -score_per_planet(y, m, s * torch.exp(self.network(*inputs)), *naive).mean()
            loss.backward()
            optimiser.step()
        return self

    @torch.no_grad()
    def apply(self, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        return sigma * np.exp(self.network(*self._inputs(mu, sigma)).numpy())

    def state(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "wavelength_um": self.wavelength_um.tolist(),
            "log_sigma_ref": self.log_sigma_ref.tolist(),
            "network": {k: v.tolist() for k, v in self.network.state_dict().items()},
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Self:
        calibration = cls(state["seed"])
        calibration.wavelength_um = np.asarray(state["wavelength_um"], dtype=float)
        calibration.log_sigma_ref = np.asarray(state["log_sigma_ref"], dtype=float)
        weights = {k: torch.tensor(v, dtype=torch.float64) for k, v in state["network"].items()}
        calibration.network.load_state_dict(weights)
        return calibration
