"""Linear readout of the spectrum's level from the white-light residuals.

The physics fit's error is almost all one level shared by the 283 bins (the white light's
depth), and what the light curves say about it is a small signal spread over many strongly
correlated time steps: the residual (flux minus the fitted transit, drift included) of FGS1
and of the AIRS white light. Gradient descent on such a readout converges slowly, so it is
fitted in closed form (ridge regression on standardised inputs) on the training planets
before the network trains, then fine-tuned with it.

With few training planets such a readout easily fits noise, and a planet whose drift lies
outside the training planets' extrapolates it without bound. So the intercept is shrunk
like the weights (ridge -> inf is no readout at all), the ridge is chosen by cross-validation
inside the training planets (the validation planets stay untouched for early stopping), the
readout is kept only where it beats no readout by more than the cross-validation's own
standard error even without the one planet it helps most (a single outlying level can carry
the mean of two dozen planets), and its output never leaves the range of shifts it fitted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from spectramind.models.dataset import WHITE_LIGHT_PAIRS

RIDGES = (0.1, 1.0, 10.0, 100.0, 1000.0)
CV_FOLDS = 10  # at most; fewer planets: leave-one-out
MIN_PLANETS = 4  # fewer: no readout (cross-validation needs some planets to hold out)


def residual_features(fgs1: torch.Tensor) -> torch.Tensor:
    """(B, steps, LIGHT_CURVE_FEATURES) -> (B, 2 steps): each white light minus its transit."""
    return torch.cat([fgs1[..., flux] - fgs1[..., transit] for flux, transit in WHITE_LIGHT_PAIRS],
                     dim=1)  # fmt: skip


class LevelReadout(nn.Module):
    """Residual light curves -> level shift (B, 1) in units of the FGS1 physics sigma, clamped
    to ``limits`` (the range of shifts fitted to the training planets); starts at zero (the
    physics fit's level) until ``fit``."""

    def __init__(self, steps: int) -> None:
        super().__init__()
        n_features = len(WHITE_LIGHT_PAIRS) * steps
        self.linear = nn.Linear(n_features, 1)
        self.register_buffer("mean", torch.zeros(n_features))
        self.register_buffer("scale", torch.ones(n_features))
        self.register_buffer("limits", torch.tensor([-math.inf, math.inf]))
        self.register_load_state_dict_pre_hook(_unbounded_if_missing)
        self.reset()

    def forward(self, fgs1: torch.Tensor) -> torch.Tensor:
        shift = self.linear((residual_features(fgs1) - self.mean) / self.scale)
        return shift.clamp(self.limits[0], self.limits[1])

    @torch.no_grad()
    def reset(self) -> None:
        """Back to the start: no level shift."""
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        self.mean.zero_()
        self.scale.fill_(1.0)
        self.limits.copy_(torch.tensor([-math.inf, math.inf]))

    @torch.no_grad()
    def fit(self, fgs1: torch.Tensor, target: torch.Tensor, ridge: float) -> None:
        """Ridge regression of ``target`` (B,) on the standardised residuals of ``fgs1``
        (B, steps, features), the intercept shrunk as much as the weights (its column, the
        constant 1, is as large as a standardised feature's); the output is limited to the
        fitted shifts' range."""
        x = residual_features(fgs1).double()
        mean, scale = x.mean(dim=0), x.std(dim=0, correction=0).clamp_min(1e-9)
        z = (x - mean) / scale
        y = target.double()
        gram = z.T @ z + ridge * torch.eye(z.shape[1], dtype=z.dtype)
        weight = torch.linalg.solve(gram, z.T @ (y - y.mean()))
        bias = y.sum() / (len(y) + ridge)  # z is centred: the intercept decouples
        fitted = z @ weight + bias
        self.mean.copy_(mean)
        self.scale.copy_(scale)
        self.linear.weight.copy_(weight[None, :])
        self.linear.bias.fill_(float(bias))
        self.limits.copy_(torch.stack([fitted.min(), fitted.max()]))


def _unbounded_if_missing(module: nn.Module, state_dict: dict, prefix: str, *_: object) -> None:
    """Checkpoints from before the limits load as an unbounded readout, as they were."""
    state_dict.setdefault(f"{prefix}limits", torch.tensor([-math.inf, math.inf]))


def level_targets(truth: torch.Tensor, physics_mu: torch.Tensor,
                  physics_sigma: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """What the readout learns: the mean over bins of truth - physics mu, in FGS1 sigmas."""
    return ((truth - physics_mu).mean(dim=1) / physics_sigma[:, 0]).float()


def cross_validated_errors(
    readout: LevelReadout,
    data: tuple[torch.Tensor, torch.Tensor],
    grid: Sequence[float] = RIDGES,
) -> dict[float, torch.Tensor]:
    """Each planet's squared error (B,) when held out of the fit, per ridge in ``grid`` and
    for inf (no readout: the target itself), over at most CV_FOLDS interleaved folds."""
    fgs1, target = data
    n = len(target)
    folds = [torch.arange(k, n, min(CV_FOLDS, n)) for k in range(min(CV_FOLDS, n))]
    errors = {math.inf: target.double().pow(2)}
    for ridge in grid:
        error = torch.empty(n, dtype=torch.float64)
        for held_out in folds:
            kept = torch.ones(n, dtype=torch.bool)
            kept[held_out] = False
            readout.fit(fgs1[kept], target[kept], ridge)
            with torch.no_grad():
                error[held_out] = (readout(fgs1[held_out])[:, 0] - target[held_out]).double() ** 2
        errors[ridge] = error
    return errors


def choose_ridge(
    readout: LevelReadout,
    train: tuple[torch.Tensor, torch.Tensor],
    grid: Sequence[float] = RIDGES,
) -> float:
    """Fit the readout on ``train`` (fgs1, target) with the ridge of ``grid`` whose cross-
    validated error inside ``train`` is smallest, where that beats no readout by more than
    one standard error of the planets' paired differences, the largest difference left out;
    returns it, or inf where none does (no readout: the physics fit's level; always so below
    MIN_PLANETS planets)."""
    readout.reset()
    if len(train[1]) < MIN_PLANETS:
        return math.inf
    errors = cross_validated_errors(readout, train, grid)
    best = min(errors, key=lambda ridge: float(errors[ridge].mean()))
    gain = (errors[math.inf] - errors[best]).sort().values[:-1]
    if math.isinf(best) or float(gain.mean()) <= float(gain.std() / math.sqrt(len(gain))):
        readout.reset()
        return math.inf
    readout.fit(*train, best)
    return best
