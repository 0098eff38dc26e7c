"""Mamba (Gu & Dao 2023) selective-state-space mixer in pure PyTorch, and the FGS1 encoder.

``MambaMixer`` has exactly the parameter names and shapes of
``mamba_ssm.modules.mamba_simple.Mamba`` (the CUDA package), so one state_dict moves between
a GPU run with ``mamba_ssm`` and a CPU run without it. On CUDA inputs it runs ``mamba_ssm``'s
fused selective-scan kernel when that package imports (it cannot without CUDA); everywhere
else one of the two pure-PyTorch scans below. The choice is made per call from the input's
device, so a model built on a GPU machine still runs on CPU tensors.

The scan functions follow ``mamba_ssm``'s ``selective_scan_fn`` layout (channels before
time): ``u``, ``delta`` (batch, d_inner, length); ``A`` (d_inner, d_state); ``B``, ``C``
(batch, d_state, length); ``D`` (d_inner,); output (batch, d_inner, length). Unlike
``mamba_ssm``'s reference they compute in the inputs' dtype (float64 stays float64), and
the ``z`` gate is applied by the mixer, not inside the scan.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

# mamba_ssm's floor on the initial step size (its ``dt_init_floor`` default).
_DT_INIT_FLOOR = 1e-4


def _discretize(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    delta_bias: torch.Tensor | None,
    delta_softplus: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-order-hold A and Euler B, as Mamba does: exp(delta A) and delta B u.

    Both are returned time-major, (length, batch, d_inner, d_state), so the scans step and
    stride over contiguous blocks.
    """
    if delta_bias is not None:
        delta = delta + delta_bias[:, None]
    if delta_softplus:
        delta = F.softplus(delta)
    decay = torch.exp(torch.einsum("bdl,dn->lbdn", delta, A))
    drive = torch.einsum("bdl,bnl,bdl->lbdn", delta, B, u)
    return decay, drive


def _read_out(
    states: torch.Tensor, u: torch.Tensor, C: torch.Tensor, D: torch.Tensor
) -> torch.Tensor:
    """y_t = C_t . h_t + D u_t, back in (batch, d_inner, length)."""
    return torch.einsum("lbdn,bnl->bdl", states, C) + D[:, None] * u


def selective_scan_sequential(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor,
    delta_bias: torch.Tensor | None = None,
    delta_softplus: bool = False,
) -> torch.Tensor:
    """Selective scan by the recurrence h_t = exp(delta_t A) h_{t-1} + delta_t B_t u_t.

    One step per time sample: the reference the parallel scan is checked against.
    Layout as ``mamba_ssm.selective_scan_fn`` (module docstring); returns (batch, d_inner, L).
    """
    decay, drive = _discretize(u, delta, A, B, delta_bias, delta_softplus)
    state = torch.zeros_like(drive[0])
    states = []
    for decay_t, drive_t in zip(decay, drive, strict=True):
        state = decay_t * state + drive_t
        states.append(state)
    return _read_out(torch.stack(states), u, C, D)


def _linear_recurrence(decay: torch.Tensor, drive: torch.Tensor) -> torch.Tensor:
    """All h_t of h_t = decay_t h_{t-1} + drive_t (h_{-1} = 0) along dim 0, in log depth.

    Odd-even reduction: fold neighbouring pairs with the associative combine
    (a1, b1) o (a2, b2) = (a2 a1, a2 b1 + b2), solve the half-length recurrence for the odd
    samples recursively, then fill in the even ones. O(L) work, 2 log2(L) dependent steps,
    out of place so autograd differentiates it; any length, not only powers of two.
    """
    length = decay.shape[0]
    if length == 1:
        return drive
    n_pairs = length // 2
    first, second = slice(0, 2 * n_pairs, 2), slice(1, 2 * n_pairs, 2)
    odd = _linear_recurrence(
        decay[second] * decay[first], decay[second] * drive[first] + drive[second]
    )
    even = torch.cat([drive[:1], decay[2::2] * odd[: (length - 1) // 2] + drive[2::2]])
    paired = torch.stack([even[:n_pairs], odd], dim=1).flatten(0, 1)
    return paired if length % 2 == 0 else torch.cat([paired, even[-1:]])


def selective_scan_parallel(
    u: torch.Tensor,
    delta: torch.Tensor,
    A: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    D: torch.Tensor,
    delta_bias: torch.Tensor | None = None,
    delta_softplus: bool = False,
) -> torch.Tensor:
    """Same result as ``selective_scan_sequential`` by an associative (log-depth) scan.

    Layout as ``mamba_ssm.selective_scan_fn`` (module docstring); returns (batch, d_inner, L).
    """
    decay, drive = _discretize(u, delta, A, B, delta_bias, delta_softplus)
    return _read_out(_linear_recurrence(decay, drive), u, C, D)


_SCANS = {"parallel": selective_scan_parallel, "sequential": selective_scan_sequential}


class MambaMixer(nn.Module):
    """Mamba block (mixer) in pure PyTorch, parameter for parameter ``mamba_ssm``'s ``Mamba``.

    Parameters and their initialisation follow ``mamba_ssm.modules.mamba_simple.Mamba``:
    ``in_proj``, depthwise causal ``conv1d``, ``x_proj`` (to dt, B, C), ``dt_proj`` (dt
    log-uniform in [dt_min, dt_max] through its bias), ``A_log`` (S4D-real), ``D``,
    ``out_proj``. ``scan`` picks the parallel or the sequential pure-PyTorch selective scan;
    ``cuda_kernel`` lets CUDA inputs use ``mamba_ssm``'s kernel instead, when it imports.
    """

    def __init__(
        self,
        d_model: int,
        d_state: int = 16,
        d_conv: int = 4,
        expand: int = 2,
        dt_rank: int | Literal["auto"] = "auto",
        dt_min: float = 1e-3,
        dt_max: float = 0.1,
        scan: Literal["parallel", "sequential"] = "parallel",
        bias: bool = False,
        conv_bias: bool = True,
        cuda_kernel: bool = True,
    ) -> None:
        super().__init__()
        if scan not in _SCANS:
            raise ValueError(f"MambaMixer: scan={scan!r}; use one of {sorted(_SCANS)}")
        self.d_state = d_state
        self.d_inner = expand * d_model
        self.dt_rank = math.ceil(d_model / 16) if dt_rank == "auto" else dt_rank
        self.scan = scan
        self.cuda_kernel = cuda_kernel

        self.in_proj = nn.Linear(d_model, 2 * self.d_inner, bias=bias)
        self.conv1d = nn.Conv1d(
            self.d_inner,
            self.d_inner,
            kernel_size=d_conv,
            groups=self.d_inner,
            padding=d_conv - 1,
            bias=conv_bias,
        )
        self.x_proj = nn.Linear(self.d_inner, self.dt_rank + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(self.dt_rank, self.d_inner, bias=True)
        self.A_log = nn.Parameter(
            torch.log(torch.arange(1, d_state + 1, dtype=torch.float32)).repeat(self.d_inner, 1)
        )
        self.D = nn.Parameter(torch.ones(self.d_inner))
        self.out_proj = nn.Linear(self.d_inner, d_model, bias=bias)
        self._init_dt(dt_min, dt_max)

    @torch.no_grad()
    def _init_dt(self, dt_min: float, dt_max: float) -> None:
        """Start softplus(dt_proj(.)) near dt log-uniform in [dt_min, dt_max], as mamba_ssm.

        Spreads the channels' memory from ~1/dt_max to ~1/dt_min samples at initialisation.
        """
        bound = self.dt_rank**-0.5
        nn.init.uniform_(self.dt_proj.weight, -bound, bound)
        log_dt = torch.rand(self.d_inner) * (math.log(dt_max) - math.log(dt_min))
        dt = torch.exp(log_dt + math.log(dt_min)).clamp(min=_DT_INIT_FLOOR)
        self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))  # inverse softplus

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, length, d_model) -> (batch, length, d_model)."""
        length = x.shape[1]
        xz = self.in_proj(x).transpose(1, 2)  # (batch, 2 d_inner, length)
        u, z = xz.chunk(2, dim=1)
        u = F.silu(self.conv1d(u)[..., :length])  # causal: drop the right padding
        dt, B, C = self.x_proj(u.transpose(1, 2)).split(
            [self.dt_rank, self.d_state, self.d_state], dim=-1
        )
        # dt_proj's bias enters inside the scan (delta_bias), as in mamba_ssm.
        delta = (dt @ self.dt_proj.weight.T).transpose(1, 2)  # (batch, d_inner, length)
        kernel = mamba_ssm_scan() if u.is_cuda and self.cuda_kernel else None
        y = (kernel or _SCANS[self.scan])(
            u,
            delta,
            -torch.exp(self.A_log),
            B.transpose(1, 2),
            C.transpose(1, 2),
            self.D,
            delta_bias=self.dt_proj.bias,
            delta_softplus=True,
        )
        return self.out_proj((y * F.silu(z)).transpose(1, 2))


@functools.cache
def _mamba_ssm() -> tuple[Callable[..., torch.Tensor] | None, str]:
    """``mamba_ssm``'s fused CUDA ``selective_scan_fn`` and its version, or None and why it
    does not import (not installed; a wheel built for another torch or CUDA fails to load)."""
    try:
        from mamba_ssm.ops.selective_scan_interface import selective_scan_fn
    except ImportError as err:
        return None, f"{type(err).__name__}: {err}"
    from importlib.metadata import PackageNotFoundError, version

    try:
        return selective_scan_fn, f"mamba_ssm {version('mamba_ssm')}"
    except PackageNotFoundError:
        return selective_scan_fn, "mamba_ssm"


def mamba_ssm_scan() -> Callable[..., torch.Tensor] | None:
    """``mamba_ssm``'s fused CUDA ``selective_scan_fn`` when the package imports, else None."""
    return _mamba_ssm()[0]


def selective_scan_in_use(
    device: torch.device | str, scan: str = "parallel", cuda_kernel: bool = True
) -> str:
    """Which selective scan a ``MambaMixer`` (``scan``, ``cuda_kernel``) runs on ``device``:
    mamba-ssm's CUDA kernel, or the pure-PyTorch scan and why not the kernel. Said in the
    log when V50 trains or predicts, and recorded in the Kaggle run's kaggle_run.json."""
    device = torch.device(device)
    pure = f"pure-PyTorch {scan} scan on {device.type}"
    if device.type != "cuda":
        return pure + " (mamba-ssm's kernel runs on CUDA only)"
    if not cuda_kernel:
        return pure + " (cuda_kernel off)"
    kernel, about = _mamba_ssm()
    if kernel is None:
        return pure + f" (mamba-ssm's kernel does not import: {about})"
    return f"mamba-ssm CUDA kernel ({about})"


class _ResidualBlock(nn.Module):
    """Pre-norm residual block around one mixer: x + mixer(norm(x))."""

    def __init__(self, d_model: int, norm: Literal["rms", "layer"], **mixer_kwargs: object):
        super().__init__()
        self.norm = nn.RMSNorm(d_model, eps=1e-5) if norm == "rms" else nn.LayerNorm(d_model)
        self.mixer = MambaMixer(d_model, **mixer_kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, time, d_model) -> same."""
        return x + self.mixer(self.norm(x))


class FGS1Encoder(nn.Module):
    """(batch, time, features) FGS1 light curve (+ regressors) -> (batch, time, d_model) tokens:
    a linear input projection, n_layers residual blocks of RMSNorm/LayerNorm + mixer, final norm.

    ``mixer_kwargs`` go to ``MambaMixer`` (d_state, d_conv, expand, dt_rank, scan, ...). The
    blocks' names (``layers.{i}.norm``, ``layers.{i}.mixer``) are those of mambapy's ``Mamba``.
    """

    def __init__(
        self,
        n_features: int,
        d_model: int = 64,
        n_layers: int = 2,
        norm: Literal["rms", "layer"] = "rms",
        **mixer_kwargs: object,
    ) -> None:
        super().__init__()
        if norm not in ("rms", "layer"):
            raise ValueError(f"FGS1Encoder: norm={norm!r}; use 'rms' or 'layer'")
        self.input_proj = nn.Linear(n_features, d_model)
        self.layers = nn.ModuleList(
            _ResidualBlock(d_model, norm, **mixer_kwargs) for _ in range(n_layers)
        )
        self.norm_f = nn.RMSNorm(d_model, eps=1e-5) if norm == "rms" else nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, time, n_features) -> (batch, time, d_model)."""
        tokens = self.input_proj(x)
        for layer in self.layers:
            tokens = layer(tokens)
        return self.norm_f(tokens)
