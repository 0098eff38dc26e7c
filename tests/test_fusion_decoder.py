"""Fusion and decoder: shapes, that attention really reads the FGS1 tokens (and ignores
their order), and that the untrained decoder returns the physics fit exactly."""

from __future__ import annotations

import pytest
import torch

from spectramind.models.decoder import HeteroscedasticDecoder
from spectramind.models.fusion import make_fusion


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)


@pytest.mark.parametrize("kind", ["cross_attention", "concat"])
def test_fusion_reads_the_tokens_whatever_their_order(kind):
    fusion = make_fusion(kind, hidden=16, heads=4).eval()
    nodes, tokens = torch.randn(2, 282, 16), torch.randn(2, 40, 16)
    out = fusion(nodes, tokens)
    assert out.shape == nodes.shape
    shuffled = tokens[:, torch.randperm(40)]
    torch.testing.assert_close(fusion(nodes, shuffled), out, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(fusion(nodes, tokens + 1.0), out, atol=1e-3)


def test_an_unknown_fusion_is_refused():
    with pytest.raises(ValueError, match="model.fusion must be one of"):
        make_fusion("gated", hidden=8)


def test_untrained_decoder_returns_the_physics_fit_and_learns():
    decoder = HeteroscedasticDecoder(hidden=16, sigma_floor=1e-7)
    nodes, fgs1 = torch.randn(3, 282, 16), torch.randn(3, 16)
    physics_mu = torch.rand(3, 283) * 0.02
    physics_sigma = torch.rand(3, 283) * 1e-4 + 1e-5
    mu, sigma = decoder(nodes, fgs1, physics_mu, physics_sigma)
    torch.testing.assert_close(mu, physics_mu)
    torch.testing.assert_close(sigma, physics_sigma + 1e-7)
    (mu.sum() + sigma.sum()).backward()
    assert (
        decoder.airs[-1].weight.grad.abs().sum() > 0
        and decoder.fgs1[-1].weight.grad.abs().sum() > 0
    )
