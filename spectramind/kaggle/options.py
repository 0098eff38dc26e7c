"""The ``kaggle`` block of the config: where things are on Kaggle, the image the wheelhouse
is built for (a description in kaggle/images/, see ``description``), and the runtime guard's
budget."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from spectramind.core.options import ConfigBlock, check_limits
from spectramind.kaggle.layout import KAGGLE_INPUT

HOUR = 3600.0
# Inclusive [low, high] of the numeric options; config/schema.yaml states the same limits
# (time_limit_h must also exceed safety_margin_h, so it is positive).
LIMITS = {
    "time_limit_h": (0.0, 48.0),
    "safety_margin_h": (0.0, 48.0),
    "probe_jobs": (1, 10_000),
    "final_stage_minutes": (0.0, 600.0),
}


@dataclass(frozen=True)
class KaggleOptions(ConfigBlock):
    """See config/schema.yaml (block ``kaggle``) for every field."""

    BLOCK: ClassVar[str] = "kaggle"
    competition_dir: str = "/kaggle/input/ariel-data-challenge-2025"
    working_dir: str = "/kaggle/working"
    dataset_id: str = "your-kaggle-username/spectramind-v50"
    dataset_title: str = "SpectraMind V50 bundle"
    image: str = "kaggle-2025"
    wheelhouse_from: str | None = None
    time_limit_h: float = 9.0
    safety_margin_h: float = 1.0
    probe_jobs: int = 8
    final_stage_minutes: float = 20.0

    def __post_init__(self) -> None:
        check_limits(self, LIMITS, self.BLOCK)
        if self.safety_margin_h >= self.time_limit_h:
            raise ValueError(
                f"kaggle.safety_margin_h ({self.safety_margin_h:g}) leaves nothing of "
                f"time_limit_h ({self.time_limit_h:g})"
            )
        if not isinstance(self.image, str) or not self.image.strip():
            raise ValueError(f"kaggle.image must name an image description, got {self.image!r}")
        if not re.fullmatch(r"[\w.-]+/[\w.-]+", self.dataset_id):
            raise ValueError(f"kaggle.dataset_id must be owner/slug, got {self.dataset_id!r}")

    @property
    def bundle_dir(self) -> str:
        """Where Kaggle mounts the bundle dataset: /kaggle/input/<slug>."""
        return f"{KAGGLE_INPUT}/{self.dataset_id.split('/')[1]}"

    @property
    def budget_seconds(self) -> float:
        """The run's budget: Kaggle's limit less the safety margin."""
        return (self.time_limit_h - self.safety_margin_h) * HOUR
