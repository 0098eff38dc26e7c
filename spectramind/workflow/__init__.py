"""How the workflow cuts its work into jobs, kept out of the Snakefile so it can be tested:
the per-planet stages' units and output layout, batches of planets, and which config keys
each rule reads."""

from spectramind.workflow.batches import plan_batches, recorded_batch
from spectramind.workflow.config_keys import RULE_CONFIG_KEYS, config_params
from spectramind.workflow.stages import (
    CALIBRATE,
    EXTRACT,
    FIT,
    PLANET_STAGES,
    PlanetStage,
    PlanetUnit,
    Unit,
    VisitUnit,
)

__all__ = [
    "CALIBRATE",
    "EXTRACT",
    "FIT",
    "PLANET_STAGES",
    "RULE_CONFIG_KEYS",
    "PlanetStage",
    "PlanetUnit",
    "Unit",
    "VisitUnit",
    "config_params",
    "plan_batches",
    "recorded_batch",
]
