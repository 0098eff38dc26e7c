"""The V50 model: Mamba encoder over the FGS1 light curve, graph encoder over the AIRS bins,
fusion, and a heteroscedastic decoder on top of the physics fit (``model:`` config block)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from spectramind.core.options import ConfigBlock, check_limits
from spectramind.fit.absorbers import MOLECULAR_BANDS
from spectramind.models.dataset import (
    FIT_SUMMARY_FEATURES,
    LIGHT_CURVE_FEATURES,
    STAR_FEATURES,
    PlanetSample,
)
from spectramind.models.decoder import HeteroscedasticDecoder
from spectramind.models.fusion import FUSIONS, make_fusion
from spectramind.models.graph import AIRSEncoder, airs_graph, batch_graphs
from spectramind.models.level import LevelReadout
from spectramind.models.mamba import FGS1Encoder

LIMITS = {
    "hidden": (4, 512),
    "fgs1_layers": (1, 12),
    "graph_layers": (1, 12),
    "heads": (1, 16),
    "neighbours": (1, 32),
    "steps": (8, 1024),
    "dropout": (0.0, 0.9),
    "sigma_floor": (0.0, 1e-3),
}
CONVS = ("gatv2", "graphconv")
NODE_FEATURES = 3  # see dataset.PlanetSample.nodes


def _default_bands() -> dict[str, list[list[float]]]:
    return {name: [list(band) for band in bands] for name, bands in MOLECULAR_BANDS.items()}


@dataclass(frozen=True)
class ModelOptions(ConfigBlock):
    """Architecture: ``hidden`` width everywhere; ``fgs1_layers`` Mamba blocks; ``graph_layers``
    GNN layers of ``conv`` (gatv2 or graphconv) with ``heads`` attention heads; AIRS graph
    edges to the ``neighbours`` nearest wavelengths and within each molecule's ``bands``
    (um intervals); ``fusion`` cross_attention or concat; light curves resampled to
    ``steps``; decoder sigma floor ``sigma_floor``."""

    BLOCK = "model"

    hidden: int = 32
    fgs1_layers: int = 2
    graph_layers: int = 2
    conv: str = "gatv2"
    heads: int = 4
    neighbours: int = 4
    bands: dict[str, list[list[float]]] = field(default_factory=_default_bands)
    fusion: str = "cross_attention"
    steps: int = 64
    dropout: float = 0.0
    sigma_floor: float = 1e-6

    def __post_init__(self) -> None:
        check_limits(self, LIMITS, "model")
        if self.conv not in CONVS:
            raise ValueError(f"model.conv must be one of {CONVS}, got {self.conv!r}")
        if self.fusion not in FUSIONS:
            raise ValueError(f"model.fusion must be one of {FUSIONS}, got {self.fusion!r}")
        if self.hidden % self.heads:
            raise ValueError(f"model.hidden ({self.hidden}) must divide by heads ({self.heads})")


@dataclass
class Batch:
    """Samples stacked for one forward pass (see ``collate``)."""

    planet_ids: list[int]
    fgs1: torch.Tensor  # (B, steps, features)
    airs: torch.Tensor  # (B * 282, 1, steps)
    nodes: torch.Tensor  # (B * 282, NODE_FEATURES)
    star: torch.Tensor  # (B, 7)
    fit_summary: torch.Tensor  # (B, FIT_SUMMARY_FEATURES)
    physics_mu: torch.Tensor  # (B, 283)
    physics_sigma: torch.Tensor  # (B, 283)
    truth: torch.Tensor | None


def collate(samples: Sequence[PlanetSample]) -> Batch:
    """Stack samples; AIRS bins of all planets become one disjoint graph's nodes."""
    truths = [s.truth for s in samples]
    return Batch(
        planet_ids=[s.planet_id for s in samples],
        fgs1=torch.stack([s.fgs1.T for s in samples]),
        airs=torch.cat([s.airs for s in samples]),
        nodes=torch.cat([s.nodes for s in samples]),
        star=torch.stack([s.star for s in samples]),
        fit_summary=torch.stack([s.fit_summary for s in samples]),
        physics_mu=torch.stack([s.physics_mu for s in samples]),
        physics_sigma=torch.stack([s.physics_sigma for s in samples]),
        truth=None if any(t is None for t in truths) else torch.stack(truths),
    )


class V50Model(nn.Module):
    """Physics fit in, corrected mu and sigma (B, 283) out."""

    def __init__(
        self,
        options: ModelOptions,
        wavelength: np.ndarray,
        bands: Mapping[str, Sequence[Sequence[float]]] | None = None,
    ) -> None:
        super().__init__()
        hidden = options.hidden
        self.fgs1 = FGS1Encoder(LIGHT_CURVE_FEATURES, hidden, options.fgs1_layers)
        self.star = nn.Sequential(
            nn.Linear(len(STAR_FEATURES) + FIT_SUMMARY_FEATURES, hidden), nn.GELU()
        )
        self.airs = AIRSEncoder(1, NODE_FEATURES, hidden, options.graph_layers, options.conv,
                                options.heads, options.dropout)  # fmt: skip
        edges = airs_graph(np.asarray(wavelength)[1:], options.neighbours, bands or options.bands)
        self.register_buffer("edge_index", edges, persistent=False)
        self.fusion = make_fusion(options.fusion, hidden, options.heads, options.dropout)
        self.decoder = HeteroscedasticDecoder(hidden, options.sigma_floor)
        self.level_readout = LevelReadout(options.steps)

    def forward(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        n_planets = batch.fgs1.shape[0]
        planet = self.star(torch.cat([batch.star, batch.fit_summary], dim=1))
        tokens = self.fgs1(batch.fgs1) + planet[:, None, :]
        n_bins = batch.nodes.shape[0] // n_planets
        edge_index, graph = batch_graphs(self.edge_index, n_bins, n_planets)
        nodes = self.airs(batch.airs, batch.nodes, edge_index, graph)
        nodes = self.fusion(nodes.reshape(n_planets, n_bins, -1), tokens)
        summary = tokens.mean(dim=1) + nodes.mean(dim=1)
        return self.decoder(nodes, summary, batch.physics_mu, batch.physics_sigma,
                            self.level_readout(batch.fgs1))  # fmt: skip
