"""Snakemake adapter: the white light's error scale from the training planets' pulls."""

import json
from pathlib import Path

import numpy as np
import xarray as xr

from spectramind.core.atomic import write_json_atomic
from spectramind.core.jobs import rule_job
from spectramind.fit import FitOptions
from spectramind.fit.limb_darkening import LimbDarkeningPrior
from spectramind.fit.priors import learn_white_light_error_scale, white_light_pulls
from spectramind.guards import GuardOptions
from spectramind.io import read_labels, read_star_info
from spectramind.workflow.config_keys import block_params

with rule_job(snakemake):
    stars = read_star_info(Path(snakemake.input.stars).parent, "train")
    labels = read_labels(snakemake.input.labels)
    options = FitOptions.from_config(snakemake.params.fit)
    guards = GuardOptions.from_config(block_params(snakemake.params, "guards"))
    prior = None
    if snakemake.input.limb_darkening_prior:
        with open(snakemake.input.limb_darkening_prior[0]) as f:
            prior = LimbDarkeningPrior.from_dict(json.load(f))
    pulls = []
    for path in snakemake.input.lightcurves:
        planet_id = int(Path(path).stem)
        with xr.open_dataset(path) as lightcurves:
            pulls.append(
                white_light_pulls(
                    lightcurves.load(), stars.loc[planet_id],
                    labels.loc[planet_id].to_numpy(), prior, options, guards,
                )
            )  # fmt: skip
    scale = learn_white_light_error_scale(np.array(pulls))
    write_json_atomic(snakemake.output.error_scale, {"scale": scale, "n_planets": len(pulls)})
