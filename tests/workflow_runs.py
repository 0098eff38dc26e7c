"""Running the workflow from tests: the Snakemake command and the small simulated config of
the end-to-end run that test_workflow.py and test_browser.py share (conftest.simulated_run)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
VALIDATE = str(Path(sys.executable).with_name("spectramind-validate-submission"))
# Four train planets: the fewest the physics fit's validation predictions (spectral prior
# cross-fitted, so sigma calibration has planets to learn from) can be made with.
SMALL_CONFIG = """\
check_raw: true
predictor: physics
simulation:
  n_train: 4
  n_test: 2
  cadence: 50
  second_visit_fraction: 0.5
"""


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the workflow in ``workdir`` with ``args``; the result, whatever its exit code."""
    command = [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir)]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=900, check=False
    )
