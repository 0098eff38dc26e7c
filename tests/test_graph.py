"""The AIRS graph (wavelength and band edges) and its encoder, against brute-force references
and the symmetries a GNN over bins must have."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from spectramind.fit.absorbers import MOLECULAR_BANDS  # noqa: E402
from spectramind.models.bands import band_membership  # noqa: E402
from spectramind.models.graph import (  # noqa: E402
    AIRSEncoder,
    airs_graph,
    band_edges,
    batch_graphs,
    wavelength_edges,
)

torch.set_num_threads(1)

AIRS_WAVELENGTH = np.linspace(1.95, 3.9, 282)
CONVS = ["gatv2", "graphconv"]


def edge_set(edge_index: torch.Tensor) -> set[tuple[int, int]]:
    return set(map(tuple, edge_index.t().tolist()))


def brute_force_knn(wavelength: np.ndarray, k: int) -> set[tuple[int, int]]:
    """Every pair's distance; ties to the shorter wavelength; both directions."""
    edges = set()
    for i, w in enumerate(wavelength):
        others = sorted(
            (j for j in range(len(wavelength)) if j != i),
            key=lambda j: (abs(w - wavelength[j]), wavelength[j]),
        )
        for j in others[:k]:
            edges |= {(i, j), (j, i)}
    return edges


def check_simple_undirected(edge_index: torch.Tensor) -> None:
    edges = edge_set(edge_index)
    assert len(edges) == edge_index.shape[1], "duplicate edges"
    assert all(i != j for i, j in edges), "self loops"
    assert edges == {(j, i) for i, j in edges}, "not symmetric"


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_wavelength_edges_match_brute_force(k):
    rng = np.random.default_rng(k)
    # Dyadic steps, so gaps are exact: the bins at 3 and 11 have equal gaps either side, and
    # their neighbours' own nearest lie elsewhere, so which side wins shows in the edges.
    exact_ties = 2.0 + 0.125 * np.array([0, 1, 3, 5, 6, 8, 9, 11, 13, 14])
    for wavelength in (np.sort(rng.uniform(1.95, 3.9, 40)), AIRS_WAVELENGTH, exact_ties):
        edge_index = wavelength_edges(wavelength, k)
        check_simple_undirected(edge_index)
        assert edge_set(edge_index) == brute_force_knn(wavelength, k)


def test_wavelength_edges_follow_the_bins_in_any_order():
    rng = np.random.default_rng(7)
    wavelength = rng.uniform(1.95, 3.9, 30)
    assert edge_set(wavelength_edges(wavelength, 3)) == brute_force_knn(wavelength, 3)
    with pytest.raises(ValueError, match="repeated"):
        wavelength_edges(np.array([2.0, 2.1, 2.0]), 1)
    with pytest.raises(ValueError, match="k=3"):
        wavelength_edges(np.array([2.0, 2.1, 2.2]), 3)


def test_band_edges_join_each_band_interval():
    wavelength = np.arange(1.0, 1.75, 0.1)  # bins 0..7
    one_band = band_edges(wavelength, {"H2O": [(1.15, 1.45)]})  # bins 2..4
    assert edge_set(one_band) == {(i, j) for i in (2, 3, 4) for j in (2, 3, 4) if i != j}
    assert one_band.shape[1] == 6

    # Two molecules over the same bins give each pair once; two bands of one molecule stay
    # separate cliques (an interval, not a molecule, is what shares an opacity).
    shared = band_edges(wavelength, {"H2O": [(1.15, 1.45)], "CO2": [(1.25, 1.45)]})
    assert edge_set(shared) == edge_set(one_band) and shared.shape[1] == 6
    two_bands = band_edges(wavelength, {"CH4": [(0.95, 1.15), (1.55, 1.75)]})
    assert edge_set(two_bands) == {(0, 1), (1, 0), (6, 7), (7, 6)}


@pytest.mark.parametrize(
    "band, problem", [((2.5, 2.4), "below"), ((2.5, 2.5), "below"), ((np.nan, 2.5), "finite")]
)
def test_bad_band_is_named(band, problem):
    bands = {"H2O": [(1.9, 2.0)], "CO": [band]}
    for build in (band_edges, band_membership):
        with pytest.raises(ValueError, match=rf"CO band \(.*2\.5.*\).*{problem}"):
            build(AIRS_WAVELENGTH, bands)


def test_default_bands_lie_in_airs_and_cover_bins():
    members = band_membership(AIRS_WAVELENGTH, MOLECULAR_BANDS)
    assert set(members) == {"H2O", "CO2", "CH4", "CO"}
    for molecule, intervals in MOLECULAR_BANDS.items():
        assert all(1.9 <= start < end <= 4.0 for start, end in intervals), molecule
        inside = [
            i for i, w in enumerate(AIRS_WAVELENGTH) if any(s <= w <= e for s, e in intervals)
        ]
        assert len(inside) > 0 and members[molecule].tolist() == inside
    co = AIRS_WAVELENGTH[members["CO"]]
    assert co.min() >= 2.25 and co.max() <= 2.45


def test_airs_graph_is_the_sorted_union():
    edge_index = airs_graph(AIRS_WAVELENGTH, 2, MOLECULAR_BANDS)
    check_simple_undirected(edge_index)
    expected = edge_set(wavelength_edges(AIRS_WAVELENGTH, 2)) | edge_set(
        band_edges(AIRS_WAVELENGTH, MOLECULAR_BANDS)
    )
    assert edge_set(edge_index) == expected
    keys = edge_index[0] * len(AIRS_WAVELENGTH) + edge_index[1]
    assert bool((keys.diff() > 0).all())


# Encoder: small sizes, a realistic graph structure (kNN + one band clique).
N_NODES, TIME, TIME_FEATURES, NODE_FEATURES, HIDDEN, LAYERS = 24, 32, 2, 2, 16, 2
SMALL_WAVELENGTH = np.linspace(1.95, 3.9, N_NODES)
SMALL_GRAPH = airs_graph(SMALL_WAVELENGTH, 2, {"H2O": [(2.5, 3.0)]})


def make_encoder(conv: str, seed: int = 0, n_layers: int = LAYERS) -> AIRSEncoder:
    torch.manual_seed(seed)
    encoder = AIRSEncoder(TIME_FEATURES, NODE_FEATURES, HIDDEN, n_layers, conv=conv, heads=2)
    return encoder.eval()


def make_inputs(seed: int, n_nodes: int = N_NODES) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    curves = torch.randn(n_nodes, TIME_FEATURES, TIME, generator=generator)
    return curves, torch.randn(n_nodes, NODE_FEATURES, generator=generator)


@pytest.mark.parametrize("conv", CONVS)
def test_encoder_shape_and_permutation_equivariance(conv):
    encoder = make_encoder(conv)
    curves, features = make_inputs(1)
    with torch.no_grad():
        out = encoder(curves, features, SMALL_GRAPH)
        assert out.shape == (N_NODES, HIDDEN)
        assert bool(torch.isfinite(out).all())

        perm = torch.randperm(N_NODES, generator=torch.Generator().manual_seed(2))
        new_index = torch.empty_like(perm)
        new_index[perm] = torch.arange(N_NODES)  # old node perm[i] becomes node i
        permuted = encoder(curves[perm], features[perm], new_index[SMALL_GRAPH])
    torch.testing.assert_close(permuted, out[perm], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("conv", CONVS)
def test_batching_planets_matches_one_at_a_time(conv):
    encoder = make_encoder(conv)
    planets = [make_inputs(seed) for seed in (3, 4, 5)]
    edge_index, batch = batch_graphs(SMALL_GRAPH, N_NODES, len(planets))
    assert edge_index.shape[1] == 3 * SMALL_GRAPH.shape[1]
    assert batch.tolist() == [0] * N_NODES + [1] * N_NODES + [2] * N_NODES
    with torch.no_grad():
        together = encoder(
            torch.cat([c for c, _ in planets]),
            torch.cat([f for _, f in planets]),
            edge_index,
            batch,
        )
        alone = torch.cat([encoder(c, f, SMALL_GRAPH) for c, f in planets])
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=1e-5)

    with pytest.raises(ValueError, match="batch_graphs"):
        encoder(
            torch.cat([c for c, _ in planets]),
            torch.cat([f for _, f in planets]),
            torch.cat([edge_index, torch.tensor([[0], [N_NODES]])], 1),
            batch,
        )


@pytest.mark.parametrize("conv", CONVS)
def test_gradients_reach_every_parameter(conv):
    encoder = make_encoder(conv).train()
    curves, features = make_inputs(6)
    out = encoder(curves.requires_grad_(), features, SMALL_GRAPH)
    target = torch.randn(out.shape, generator=torch.Generator().manual_seed(0))
    ((out - target) ** 2).mean().backward()
    assert curves.grad is not None and bool(curves.grad.abs().sum() > 0)
    for name, parameter in encoder.named_parameters():
        assert parameter.grad is not None, name
        assert bool(torch.isfinite(parameter.grad).all()), name
        assert bool(parameter.grad.abs().sum() > 0), name


@pytest.mark.parametrize("conv", CONVS)
def test_encoder_is_deterministic_with_a_seed(conv):
    outputs = []
    for _ in range(2):
        encoder = make_encoder(conv, seed=11)
        with torch.no_grad():
            outputs.append(encoder(*make_inputs(8), SMALL_GRAPH))
    assert torch.equal(outputs[0], outputs[1])
    other = make_encoder(conv, seed=12)
    with torch.no_grad():
        assert not torch.allclose(other(*make_inputs(8), SMALL_GRAPH), outputs[0])


def test_unknown_conv_names_the_choices():
    with pytest.raises(ValueError, match="gatv2, graphconv"):
        AIRSEncoder(TIME_FEATURES, NODE_FEATURES, HIDDEN, LAYERS, conv="gcn")


@pytest.mark.parametrize("conv", CONVS)
def test_message_passing_uses_the_edges(conv):
    encoder = make_encoder(conv)
    curves, features = make_inputs(9)
    with torch.no_grad():
        with_edges = encoder(curves, features, SMALL_GRAPH)
        without = encoder(curves, features, torch.empty(2, 0, dtype=torch.long))
    assert (with_edges - without).abs().max() > 1e-3


@pytest.mark.parametrize("conv", CONVS)
def test_receptive_field_is_n_layers_hops(conv):
    # A path 0-1-2-...: node 10's 2-hop neighbourhood is 8..12.
    path = wavelength_edges(np.geomspace(1.95, 3.9, N_NODES), 1)
    assert edge_set(path) == {(i, i + s) for i in range(N_NODES) for s in (-1, 1)} & {
        (i, j) for i in range(N_NODES) for j in range(N_NODES)
    }
    encoder = make_encoder(conv, n_layers=2)
    curves, features = make_inputs(10)
    with torch.no_grad():
        base = encoder(curves, features, path)[10]
        for node, reached in [
            (9, True),
            (11, True),
            (12, True),
            (8, True),
            (13, False),
            (7, False),
        ]:
            changed_curves, changed_features = curves.clone(), features.clone()
            changed_curves[node] += 1.0
            changed_features[node] += 1.0
            out = encoder(changed_curves, changed_features, path)[10]
            assert bool((out - base).abs().max() > 1e-4) == reached, node
