"""Training and prediction of the V50 model (the ``training:`` config block), and its
checkpoint: weights with the options, config hash, data manifest and metrics they came from.

Planets are split, seeded, into training and validation; AdamW with a cosine schedule and
gradient clipping; the weights of the best validation score are kept, where they beat the
closed-form start by more than two standard errors of the validation planets' gains (a
handful of validation planets picks a lucky epoch of an erratic training otherwise), and
training stops
after ``patience`` epochs without improvement. With ``ensemble_folds`` k >= 2, k models are
trained, each early-stopped on one fold of a seeded k-fold split of the planets, and predict
together as an equal-weight Gaussian mixture. On the CPU the same seed gives the same
weights; on CUDA, automatic mixed precision is used.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from spectramind.core.atomic import atomic_output
from spectramind.core.options import ConfigBlock, check_limits
from spectramind.models.bands import band_membership
from spectramind.models.dataset import PlanetSample
from spectramind.models.domain import TrainRanges
from spectramind.models.level import choose_ridge, level_targets
from spectramind.models.loss import LossWeights, V50Loss, score_per_planet
from spectramind.models.rules import parse_rules
from spectramind.models.v50 import Batch, ModelOptions, V50Model, collate

log = logging.getLogger(__name__)
LIMITS = {
    "epochs": (1, 10_000),
    "batch_size": (1, 1024),
    "learning_rate": (1e-6, 1.0),
    "weight_decay": (0.0, 1.0),
    "validation_fraction": (0.05, 0.5),
    "patience": (1, 1000),
    "gradient_clip": (0.01, 1e3),
    "cross_fit_folds": (2, 20),
    "ensemble_folds": (1, 20),
}
# Standard errors by which an epoch must beat the closed-form start on the validation planets:
# up to ``epochs`` tries on a handful of planets; a 30-planet mismatch benchmark's epoch that
# passed at 1.86 scored 0 on the test planets, real gains on synthetic planets pass at > 3.
EVIDENCE = 2.0
CHECKPOINT_FORMAT = 2  # 1 held one model's state_dict, 2 a list of ensemble members
# (2 since gained the optional "domain" entry: TrainRanges.as_dict of the train planets)


@dataclass(frozen=True)
class TrainingOptions(ConfigBlock):
    """Optimisation: ``epochs`` at most, ``batch_size`` planets per step, AdamW
    (``learning_rate``, ``weight_decay``) with a cosine schedule, ``gradient_clip`` on the
    gradient norm; ``validation_fraction`` of the planets held out for early stopping
    (``patience`` epochs); the train planets' physics predictions are cross-fitted over
    ``cross_fit_folds`` folds; ``ensemble_folds`` models (1: one model, early-stopped
    on the validation split; k >= 2: one per fold of a k-fold split by planet, see
    ``train_ensemble``); ``loss`` term weights and user ``rules``."""

    BLOCK = "training"

    epochs: int = 40
    batch_size: int = 8
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    validation_fraction: float = 0.2
    patience: int = 8
    gradient_clip: float = 1.0
    cross_fit_folds: int = 5
    ensemble_folds: int = 1
    loss: dict[str, float] = field(default_factory=dict)
    rules: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_limits(self, LIMITS, "training")
        try:
            weights = LossWeights(**self.loss)
        except TypeError:
            raise ValueError(
                f"training.loss has unknown terms {sorted(self.loss)}; known: "
                f"{list(LossWeights.__dataclass_fields__)}"
            ) from None
        object.__setattr__(self, "loss", asdict(weights))  # every term, as the schema fills it
        parse_rules(self.rules)  # a bad rule is a RuleError naming it, before training


def split_planets(planet_ids: Sequence[int], fraction: float, seed: int) -> tuple[list, list]:
    """(train, validation) planet ids, seeded; at least one planet on each side."""
    ids = sorted(planet_ids)
    if len(ids) < 2:
        raise ValueError(f"training needs at least 2 train planets, got {len(ids)}")
    order = np.random.default_rng(seed).permutation(len(ids))
    n_val = min(max(1, round(fraction * len(ids))), len(ids) - 1)
    return sorted(ids[k] for k in order[n_val:]), sorted(ids[k] for k in order[:n_val])


def fold_planets(planet_ids: Sequence[int], folds: int, seed: int) -> list[list[int]]:
    """``folds`` disjoint, seeded sets of planet ids that cover them all, none empty (sizes
    differ by one at most): the validation planets of the ensemble's members."""
    ids = sorted(planet_ids)
    if len(ids) < folds:
        raise ValueError(f"training.ensemble_folds = {folds} needs at least {folds} train "
                         f"planets, got {len(ids)}")  # fmt: skip
    order = np.random.default_rng(seed).permutation(len(ids))
    return [sorted(ids[k] for k in order[fold::folds]) for fold in range(folds)]


@dataclass
class TrainingResult:
    """Best weights (by validation score), the per-epoch history and the ranges of the
    inputs of the planets it learned from (see ``spectramind.models.domain``)."""

    state_dict: dict[str, torch.Tensor]
    history: list[dict[str, float]]
    best_epoch: int
    best_validation_score: float
    validation_ids: list[int]
    domain: TrainRanges | None = None


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _to(batch: Any, device: torch.device) -> Any:
    for name, value in vars(batch).items():
        if isinstance(value, torch.Tensor):
            setattr(batch, name, value.to(device))
    return batch


def _weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def validation_scores(
    model: V50Model | V50Ensemble,
    samples: Sequence[PlanetSample],
    naive: tuple[float, float],
    batch_size: int,
) -> torch.Tensor:
    """Competition score (before the clip) of the model on each planet of ``samples``."""
    mu, sigma = predict(model, samples, batch_size)
    truth = torch.stack([s.truth for s in samples])
    return score_per_planet(truth, mu, sigma, *naive)


def beats(scores: torch.Tensor, reference: torch.Tensor) -> bool:
    """Whether per-planet ``scores`` beat ``reference``'s on the same planets by more than
    EVIDENCE standard errors of their differences (never with one planet: no error to judge
    by)."""
    gain = scores - reference
    standard_error = float(gain.std() / math.sqrt(len(gain))) if len(gain) > 1 else math.inf
    return float(gain.mean()) > EVIDENCE * standard_error


def band_bins(wavelength: np.ndarray, model_options: ModelOptions) -> list[torch.Tensor]:
    """Indices (among the 283 bins) of each molecule's band bins, for the loss's
    band-coherence term; the same bands as the graph's band edges."""
    members = band_membership(np.asarray(wavelength)[1:], model_options.bands)
    return [torch.as_tensor(idx + 1) for idx in members.values() if len(idx) > 1]


def _level_data(
    samples: Sequence[PlanetSample], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """(fgs1 (B, steps, features), level target (B,)) of ``samples``, for the level readout."""
    fgs1 = torch.stack([s.fgs1.T for s in samples]).to(device)
    truth, mu, sigma = (torch.stack([getattr(s, name) for s in samples]).to(device)
                        for name in ("truth", "physics_mu", "physics_sigma"))  # fmt: skip
    return fgs1, level_targets(truth, mu, sigma)


def train_model(
    samples: Sequence[PlanetSample],
    wavelength: np.ndarray,
    naive: tuple[float, float],
    model_options: ModelOptions,
    options: TrainingOptions,
    seed: int,
    validation_ids: Sequence[int] | None = None,
    label: str = "",
) -> TrainingResult:
    """Train on ``samples`` (with truths), early-stopped on the ``validation_ids`` planets
    (default: a seeded ``validation_fraction`` split). The level readout is fitted in closed
    form first (its ridge cross-validated inside the train planets); best epoch 0 means no
    epoch after it beat that start by more than EVIDENCE standard errors (``beats``).
    ``label`` (e.g. ``member 2/5``) names the run in the log lines and in the progress bar,
    which shows only when stderr is a terminal (a rule's log gets the log lines)."""
    torch.manual_seed(seed)
    device = _device()
    by_id = {s.planet_id: s for s in samples}
    if validation_ids is None:
        train_ids, val_ids = split_planets(list(by_id), options.validation_fraction, seed)
    else:
        val_ids = sorted(validation_ids)
        train_ids = sorted(set(by_id) - set(val_ids))
        unknown = sorted(set(val_ids) - set(by_id))
        if unknown or not val_ids or not train_ids:
            raise ValueError(f"validation_ids must be some, not all, of the {len(by_id)} "
                             f"planets; got {len(val_ids)}, unknown: {unknown}")  # fmt: skip
    train = [by_id[i] for i in train_ids]
    validation = [by_id[i] for i in val_ids]
    model = V50Model(model_options, wavelength).to(device)
    loss = V50Loss(
        *naive,
        torch.as_tensor(wavelength),
        LossWeights(**options.loss),
        parse_rules(options.rules),
        band_bins(wavelength, model_options),
    ).to(device)
    optimiser = torch.optim.AdamW(
        model.parameters(), lr=options.learning_rate, weight_decay=options.weight_decay
    )
    steps_per_epoch = math.ceil(len(train) / options.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimiser, T_max=options.epochs * steps_per_epoch
    )
    scaler = torch.amp.GradScaler("cuda", enabled=device.type == "cuda")
    generator = torch.Generator().manual_seed(seed)
    prefix = f"{label}: " if label else ""
    ridge = choose_ridge(model.level_readout, _level_data(train, device))
    start = validation_scores(model, validation, naive, options.batch_size)
    log.info("%slevel readout ridge %g (inf: none kept): validation score %.5f before training",
             prefix, ridge, float(start.mean()))  # fmt: skip
    best = (float(start.mean()), 0, _weights(model))  # epoch 0: the closed-form start
    history = []
    epochs = tqdm(range(1, options.epochs + 1), desc=label or "training", unit="epoch",
                  disable=None)  # fmt: skip
    with logging_redirect_tqdm(), epochs:
        for epoch in epochs:
            model.train()
            order = torch.randperm(len(train), generator=generator).tolist()
            totals = []
            for first in range(0, len(train), options.batch_size):
                batch = _to(collate([train[k] for k in order[first : first + options.batch_size]]),
                            device)  # fmt: skip
                optimiser.zero_grad(set_to_none=True)
                with torch.autocast(device.type, enabled=device.type == "cuda"):
                    mu, sigma = model(batch)
                total, _ = loss(batch.truth, mu.double(), sigma.double(), batch.physics_mu)
                scaler.scale(total).backward()
                scaler.unscale_(optimiser)
                torch.nn.utils.clip_grad_norm_(model.parameters(), options.gradient_clip)
                scaler.step(optimiser)
                scaler.update()
                schedule.step()
                totals.append(float(total.detach()))
            scores = validation_scores(model, validation, naive, options.batch_size)
            score = float(scores.mean())
            history.append({"epoch": epoch, "train_loss": float(np.mean(totals)),
                            "validation_score": score})  # fmt: skip
            epochs.set_postfix(train_loss=f"{history[-1]['train_loss']:.5f}",
                               validation_score=f"{score:.5f}")  # fmt: skip
            log.info("%sepoch %d/%d: train loss %.5f, validation score %.5f",
                     prefix, epoch, options.epochs, history[-1]["train_loss"], score)  # fmt: skip
            if score > best[0] and beats(scores, start):
                best = (score, epoch, _weights(model))
            elif epoch - best[1] >= options.patience:
                log.info("%sno better validation score for %d epochs: stopping", prefix,
                         options.patience)  # fmt: skip
                break
    return TrainingResult(best[2], history, best[1], best[0], val_ids, TrainRanges.of(samples))


def train_ensemble(
    samples: Sequence[PlanetSample],
    wavelength: np.ndarray,
    naive: tuple[float, float],
    model_options: ModelOptions,
    options: TrainingOptions,
    seed: int,
) -> list[TrainingResult]:
    """The ``ensemble_folds`` members: for 1, ``train_model`` as it is (seeded validation
    split); for k >= 2, member i (seed + i) is early-stopped on fold i of a seeded k-fold
    split by planet and trained on the other folds, so every planet validates one member."""
    if options.ensemble_folds == 1:
        return [train_model(samples, wavelength, naive, model_options, options, seed)]
    folds = fold_planets([s.planet_id for s in samples], options.ensemble_folds, seed)
    return [
        train_model(samples, wavelength, naive, model_options, options, seed + i,
                    validation_ids=fold, label=f"member {i + 1}/{len(folds)}")
        for i, fold in enumerate(folds)
    ]  # fmt: skip


def mixture(mu: torch.Tensor, sigma: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation of the equal-weight mixture of the Gaussians stacked
    along dim 0: the members' mean mu; their mean variance plus their mu's (population)
    variance, so members that disagree widen sigma."""
    return mu.mean(dim=0), (sigma.square().mean(dim=0) + mu.var(dim=0, correction=0)).sqrt()


class V50Ensemble(nn.Module):
    """Members (V50 models trained on different folds) predicting as their mixture."""

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        mus, sigmas = zip(*(member(batch) for member in self.members), strict=True)
        return mixture(torch.stack(mus), torch.stack(sigmas))


@torch.no_grad()
def predict(
    model: V50Model | V50Ensemble, samples: Sequence[PlanetSample], batch_size: int = 16
) -> tuple[torch.Tensor, torch.Tensor]:
    """mu, sigma (planets, 283) in float64, in the order of ``samples``."""
    model.eval()
    device = next(model.parameters()).device
    mus, sigmas = [], []
    for start in range(0, len(samples), batch_size):
        batch = _to(collate(samples[start : start + batch_size]), device)
        mu, sigma = model(batch)
        mus.append(mu.double().cpu())
        sigmas.append(sigma.double().cpu())
    return torch.cat(mus), torch.cat(sigmas)


def out_of_fold_predictions(
    members: Sequence[TrainingResult],
    samples: Sequence[PlanetSample],
    model_options: ModelOptions,
    wavelength: np.ndarray,
) -> tuple[list[int], torch.Tensor, torch.Tensor]:
    """Each member's predictions of the planets it was early-stopped on and never trained on
    (planet ids, mu, sigma): the validation set that sigma calibration is fitted on."""
    by_id = {s.planet_id: s for s in samples}
    ids, mus, sigmas = [], [], []
    for member in members:
        model = V50Model(model_options, wavelength).to(_device())
        model.load_state_dict(member.state_dict)
        mu, sigma = predict(model, [by_id[i] for i in member.validation_ids])
        ids += list(member.validation_ids)
        mus.append(mu)
        sigmas.append(sigma)
    return ids, torch.cat(mus), torch.cat(sigmas)


def ensemble_metrics(members: Sequence[TrainingResult]) -> dict[str, Any]:
    """The members' mean best validation score, every planet some member validated on, and
    each member's best epoch, best validation score, validation planets and history."""
    return {
        "best_validation_score": float(np.mean([m.best_validation_score for m in members])),
        "validation_planets": sorted({i for m in members for i in m.validation_ids}),
        "members": [
            {"best_epoch": m.best_epoch, "best_validation_score": m.best_validation_score,
             "validation_planets": m.validation_ids, "history": m.history}
            for m in members
        ],
    }  # fmt: skip


def save_checkpoint(
    path: str | Path,
    result: TrainingResult | Sequence[TrainingResult],
    model_options: ModelOptions,
    config_hash: str,
    data_manifest: Mapping[str, str],
    wavelength: np.ndarray,
) -> None:
    """Weights of every member (one result: a single model) with what they need to be used
    again, what they came from and the ranges of the inputs they learned from (``domain``,
    see ``load_domain``; written atomically: a killed run leaves no half checkpoint)."""
    members = [result] if isinstance(result, TrainingResult) else list(result)
    checkpoint = {
        "format": CHECKPOINT_FORMAT,
        "members": [m.state_dict for m in members],
        "model_options": model_options.as_dict(),
        "config_hash": config_hash,
        "data_manifest": dict(data_manifest),
        "wavelength": np.asarray(wavelength).tolist(),
        "metrics": ensemble_metrics(members),
    }
    if members[0].domain is not None:  # every member saw the same planets
        checkpoint["domain"] = members[0].domain.as_dict()
    with atomic_output(path) as tmp:
        torch.save(checkpoint, tmp)


def load_checkpoint(path: str | Path, model_options: ModelOptions) -> V50Model | V50Ensemble:
    """The trained model, or the ensemble of its members; a checkpoint written with other
    model options, or by another format, is a clear error naming the file and what differs."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: checkpoint format {checkpoint.get('format')!r}, "
                         f"expected {CHECKPOINT_FORMAT}: retrain with this version")  # fmt: skip
    saved, wanted = checkpoint["model_options"], model_options.as_dict()
    differing = sorted(k for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))
    if differing:
        details = ", ".join(f"{k}: {saved.get(k)!r} vs {wanted.get(k)!r}" for k in differing)
        raise ValueError(f"{path} was trained with other model options ({details}): retrain "
                         "or set the model block to the checkpoint's")  # fmt: skip
    members = []
    for state_dict in checkpoint["members"]:
        members.append(V50Model(model_options, np.asarray(checkpoint["wavelength"])))
        members[-1].load_state_dict(state_dict)
    model = members[0] if len(members) == 1 else V50Ensemble(members)
    return model.to(_device())


def load_domain(path: str | Path) -> TrainRanges | None:
    """The ranges of the inputs of the planets the checkpoint's model learned from, for
    ``spectramind.models.domain.out_of_domain``; None for a checkpoint written before them."""
    domain = torch.load(path, map_location="cpu", weights_only=True).get("domain")
    return None if domain is None else TrainRanges.from_dict(domain)
