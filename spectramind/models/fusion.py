"""Fusion of the AIRS node states with the FGS1 tokens: cross-attention (each AIRS bin asks
the FGS1 light curve what it saw) or, simpler, concatenation of the mean FGS1 token."""

from __future__ import annotations

import torch
from torch import nn

FUSIONS = ("cross_attention", "concat")


class CrossAttentionFusion(nn.Module):
    """nodes (batch, n_nodes, hidden) attend to tokens (batch, time, hidden); residual +
    LayerNorm, then a feed-forward block."""

    def __init__(self, hidden: int, heads: int = 4, dropout: float = 0.0) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(hidden, heads, dropout=dropout, batch_first=True)
        self.norm = nn.LayerNorm(hidden)
        self.feed_forward = nn.Sequential(
            nn.Linear(hidden, 2 * hidden), nn.GELU(), nn.Linear(2 * hidden, hidden)
        )
        self.norm_out = nn.LayerNorm(hidden)

    def forward(self, nodes: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        attended, _ = self.attention(nodes, tokens, tokens, need_weights=False)
        nodes = self.norm(nodes + attended)
        return self.norm_out(nodes + self.feed_forward(nodes))


class ConcatFusion(nn.Module):
    """Each node state concatenated with the time-mean FGS1 token, projected back."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.project = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.GELU())

    def forward(self, nodes: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        summary = tokens.mean(dim=1, keepdim=True).expand(-1, nodes.shape[1], -1)
        return self.project(torch.cat([nodes, summary], dim=-1))


def make_fusion(kind: str, hidden: int, heads: int = 4, dropout: float = 0.0) -> nn.Module:
    """The fusion named by the config (``cross_attention`` or ``concat``)."""
    if kind == "cross_attention":
        return CrossAttentionFusion(hidden, heads, dropout)
    if kind == "concat":
        return ConcatFusion(hidden)
    raise ValueError(f"model.fusion must be one of {FUSIONS}, got {kind!r}")
