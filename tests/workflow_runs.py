"""Running the workflow from tests: the Snakemake command, the small simulated config of
the end-to-end run that test_workflow.py and test_browser.py share (conftest.simulated_run),
and the rules as Snakemake parses them (the static checks of test_envs.py, test_packaging.py).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from functools import cache
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


def job_counts(result: subprocess.CompletedProcess) -> Counter:
    """Jobs per rule of a dry run, from its job-stats table (empty: nothing to be done)."""
    text = result.stdout + result.stderr
    if "Nothing to be done" in text:
        return Counter()
    stats = text.split("Job stats:")[1].split("total")[0]
    return Counter({m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M)})


# ----------------------------------------------------------------- the rules, as parsed

# Run by this venv's Python: Snakemake's API parses the workflow (as --list-rules does) and
# what each rule is made of is printed as JSON. Paths of conda: and script: are resolved as
# a job resolves them, against the folder of the file defining the rule.
_PARSE = """
import json, sys
from pathlib import Path
from types import SimpleNamespace
from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, OutputSettings, Quietness, ResourceSettings

snakefile, workdir, config = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
CODE = {"shellcmd": "shell", "script": "script", "notebook": "notebook", "wrapper": "wrapper",
        "cwl": "cwl", "template_engine": "template_engine"}
with SnakemakeApi(OutputSettings(quiet={Quietness.ALL})) as api:
    workflow = api.workflow(ResourceSettings(), ConfigSettings(config=config),
                            snakefile=snakefile, workdir=workdir)._workflow
    rules = []
    for rule in workflow.rules:
        def source(path):
            if not path:
                return None
            return str(Path(rule.basedir.join(path).get_path_or_uri(secret_free=True)).resolve())
        def mem_mb(attempt):
            # as Snakemake evaluates it for a job (wildcards made up: no file is read)
            wildcards = SimpleNamespace(**dict.fromkeys(rule.wildcard_names, "1"))
            resource = rule.resources.get("mem_mb")
            return resource and resource.evaluate(wildcards, attempt=attempt, input=[],
                                                  threads=1).value
        code = [name for attribute, name in CODE.items() if getattr(rule, attribute)]
        if not rule.norun and not code:
            code = ["run"]  # a run: block, the only code that is no directive of its own
        present = {"input": rule.input, "output": rule.output, "log": rule.log,
                   "benchmark": rule.benchmark, "params": rule.params, "conda": rule.conda_env,
                   "default_target": rule.name == workflow.default_target}
        rules.append({
            "name": rule.name,
            "directives": sorted([*code, *(name for name, value in present.items() if value)]),
            "code": code,
            "conda": source(rule.conda_env),
            "script": source(rule.script),
            "log": [str(path) for path in rule.log],
            "wildcards": sorted(rule.wildcard_names),
            "mem_mb": [mem_mb(1), mem_mb(2)],
        })
print(json.dumps(rules))
"""
# The default (simulated) config, with planets per job so that the batch rules exist too.
PARSE_CONFIG = {"planets_per_job": 2}


@dataclass(frozen=True)
class ParsedRule:
    """A rule (or checkpoint) of the workflow as Snakemake parsed it, generated ones too."""

    name: str
    directives: frozenset[str]  # those given: input, output, log, ..., script, shell, run
    code: frozenset[str]  # the directives running code in a job (script, shell, ..., run)
    conda: Path | None  # the env file
    script: Path | None
    log: tuple[str, ...]
    wildcards: frozenset[str]  # of its outputs (a batch rule has none)
    mem_mb: tuple[int | None, int | None]  # a job's memory request at attempts 1 and 2


@cache
def parsed_rules() -> tuple[ParsedRule, ...]:
    """Every rule of the workflow, parsed by Snakemake from an empty directory with the
    default config and ``PARSE_CONFIG``."""
    with tempfile.TemporaryDirectory() as workdir:
        result = subprocess.run(
            [sys.executable, "-c", _PARSE, str(REPO / "Snakefile"), workdir,
             json.dumps(PARSE_CONFIG)],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return tuple(
        ParsedRule(
            name=rule["name"],
            directives=frozenset(rule["directives"]),
            code=frozenset(rule["code"]),
            conda=rule["conda"] and Path(rule["conda"]),
            script=rule["script"] and Path(rule["script"]),
            log=tuple(rule["log"]),
            wildcards=frozenset(rule["wildcards"]),
            mem_mb=tuple(rule["mem_mb"]),
        )
        for rule in json.loads(result.stdout.strip().splitlines()[-1])
    )
