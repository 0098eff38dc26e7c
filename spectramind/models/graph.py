"""The AIRS graph encoder: one node per AIRS-CH0 bin, edges to its neighbours in wavelength and
across each molecular band, a temporal CNN on each bin's light curve, then residual GNN layers.

Bins are joined where their depths are correlated: neighbours share the instrument's line
spread and systematics, and bins of one band share a molecule's opacity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn
from torch_geometric.nn import GATv2Conv, GraphConv
from torch_geometric.utils import coalesce, to_undirected

from spectramind.models.bands import bins_in_band, validate_bands

CONVS = ("gatv2", "graphconv")


def wavelength_edges(wavelength_um: torch.Tensor | np.ndarray, k: int) -> torch.Tensor:
    """(2, E) edge_index joining each node to its k nearest neighbours in wavelength, in both
    directions, without self loops or duplicates. Ties go to the shorter wavelength."""
    wavelength = torch.as_tensor(wavelength_um, dtype=torch.float64)
    n = wavelength.numel()
    if wavelength.dim() != 1 or not bool(torch.isfinite(wavelength).all()):
        raise ValueError("wavelength_um must be a 1-D array of finite wavelengths (um)")
    if not 1 <= k < n:
        raise ValueError(f"k={k} neighbours need 1 <= k < {n} (the number of bins)")
    sorted_wavelength, order = torch.sort(wavelength)
    if not bool((sorted_wavelength.diff() > 0).all()):
        raise ValueError("wavelength_um has repeated values: each bin needs its own wavelength")

    # In 1-D the k nearest lie within k places either side in sorted order. Candidates are in
    # ascending wavelength, so the stable sort breaks ties towards the shorter wavelength.
    offsets = torch.cat([torch.arange(-k, 0), torch.arange(1, k + 1)])
    position = torch.arange(n)
    candidate = position[:, None] + offsets[None, :]  # (n, 2k)
    valid = (candidate >= 0) & (candidate < n)
    candidate = candidate.clamp(0, n - 1)
    distance = (sorted_wavelength[:, None] - sorted_wavelength[candidate]).abs()
    distance = distance.masked_fill(~valid, torch.inf)
    nearest = distance.sort(dim=1, stable=True).indices[:, :k]  # (n, k)
    target = candidate.gather(1, nearest)

    edge_index = torch.stack([order[position.repeat_interleave(k)], order[target.reshape(-1)]])
    return to_undirected(edge_index, num_nodes=n)


def band_edges(
    wavelength_um: torch.Tensor | np.ndarray, bands: Mapping[str, Sequence[tuple[float, float]]]
) -> torch.Tensor:
    """(2, E) edge_index joining every pair of nodes inside the same band interval, in both
    directions, without self loops, deduplicated across molecules."""
    validate_bands(bands)
    wavelength = np.asarray(wavelength_um, dtype=np.float64)
    cliques = [torch.empty(2, 0, dtype=torch.long)]
    for intervals in bands.values():
        for band in intervals:
            members = torch.as_tensor(bins_in_band(wavelength, band), dtype=torch.long)
            source, target = torch.meshgrid(members, members, indexing="ij")
            pairs = torch.stack([source.reshape(-1), target.reshape(-1)])
            cliques.append(pairs[:, pairs[0] != pairs[1]])
    return coalesce(torch.cat(cliques, dim=1), num_nodes=wavelength.size)


def airs_graph(
    wavelength_um: torch.Tensor | np.ndarray,
    k: int,
    bands: Mapping[str, Sequence[tuple[float, float]]],
) -> torch.Tensor:
    """(2, E) union of the wavelength-neighbour and band edges, deduplicated and sorted."""
    edge_index = torch.cat(
        [wavelength_edges(wavelength_um, k), band_edges(wavelength_um, bands)], 1
    )
    return coalesce(edge_index, num_nodes=len(wavelength_um))


def batch_graphs(
    edge_index: torch.Tensor, n_nodes: int, n_graphs: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Disjoint union of ``n_graphs`` copies of one planet's graph (all planets share the AIRS
    grid): the edge_index offset by ``n_nodes`` per planet, and the batch vector."""
    if edge_index.numel() and int(edge_index.max()) >= n_nodes:
        raise ValueError(f"edge_index refers to node {int(edge_index.max())} of {n_nodes}")
    offsets = torch.arange(n_graphs, device=edge_index.device) * n_nodes
    batched = (edge_index[:, None, :] + offsets[None, :, None]).reshape(2, -1)
    batch = torch.arange(n_graphs, device=edge_index.device).repeat_interleave(n_nodes)
    return batched, batch


class TemporalCNN(nn.Module):
    """Per-bin light curve (nodes, channels_in, time) -> (nodes, hidden): Conv1d + GELU layers
    with doubling dilation (to span the transit cheaply), then the mean over time."""

    def __init__(
        self, channels_in: int, hidden: int, n_layers: int = 3, kernel_size: int = 5
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(n_layers):
            dilation = 2**i
            layers += [
                nn.Conv1d(
                    channels_in if i == 0 else hidden,
                    hidden,
                    kernel_size,
                    padding=dilation * (kernel_size // 2),
                    dilation=dilation,
                ),
                nn.GELU(),
            ]
        self.layers = nn.Sequential(*layers)

    def forward(self, curves: torch.Tensor) -> torch.Tensor:
        return self.layers(curves).mean(dim=-1)  # (nodes, hidden)


class GraphBlock(nn.Module):
    """One residual step's update: LayerNorm, graph convolution, GELU, dropout."""

    def __init__(self, hidden: int, conv: str, heads: int, dropout: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(hidden)
        if conv == "gatv2":
            self.conv = GATv2Conv(hidden, hidden, heads=heads, concat=True, dropout=dropout)
            self.project = nn.Linear(heads * hidden, hidden)
        elif conv == "graphconv":
            # Mean, not sum: band cliques give some bins ten times the neighbours of others.
            self.conv = GraphConv(hidden, hidden, aggr="mean")
            self.project = nn.Identity()
        else:
            raise ValueError(f"unknown conv {conv!r}: choose one of {', '.join(CONVS)}")
        self.act = nn.GELU()
        self.dropout = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        h = self.project(self.conv(self.norm(h), edge_index))
        return self.dropout(self.act(h))


class AIRSEncoder(nn.Module):
    """AIRS bins -> (nodes, hidden) embeddings: each bin's light curve through a temporal CNN,
    joined with its node features (e.g. the physics fit's normalised depth and sigma), then
    ``n_layers`` residual GNN layers, so each embedding sees its ``n_layers``-hop neighbours."""

    def __init__(
        self,
        time_features: int,
        node_features: int,
        hidden: int,
        n_layers: int,
        conv: str = "gatv2",
        heads: int = 4,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.temporal = TemporalCNN(time_features, hidden)
        self.embed = nn.Linear(hidden + node_features, hidden)
        self.blocks = nn.ModuleList(
            GraphBlock(hidden, conv, heads, dropout) for _ in range(n_layers)
        )
        self.norm = nn.LayerNorm(hidden)

    def forward(
        self,
        curves: torch.Tensor,
        node_features: torch.Tensor,
        edge_index: torch.Tensor,
        batch: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """curves (nodes, time_features, time), node_features (nodes, node_features), edge_index
        (2, E) of a disjoint union of planets (``batch_graphs``), batch (nodes,) the planet of
        each node, used to check no edge joins two planets -> (nodes, hidden)."""
        if batch is not None and bool((batch[edge_index[0]] != batch[edge_index[1]]).any()):
            raise ValueError(
                "edge_index joins nodes of different planets: build it with batch_graphs"
            )
        h = self.embed(torch.cat([self.temporal(curves), node_features], dim=-1))
        for block in self.blocks:
            h = h + block(h, edge_index)
        return self.norm(h)
