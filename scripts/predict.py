"""Snakemake adapter: V50 predictions (an ensemble's mixture) for every test planet, in one
process. A planet whose fit is a fallback (a guard found no transit, or the fit failed)
keeps that fallback, and one outside the model's domain (guards.v50_domain) its physics
fit: the model never saw such inputs."""

import logging
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from spectramind.core.jobs import rule_job
from spectramind.core.netcdf import write_netcdf
from spectramind.fit.collect import fallback_rows, load_predictors, predictions_dataset
from spectramind.io import read_star_info
from spectramind.models.dataset import planet_samples
from spectramind.models.domain import out_of_domain
from spectramind.models.mamba import selective_scan_in_use
from spectramind.models.training import load_checkpoint, load_domain, predict
from spectramind.models.v50 import ModelOptions

log = logging.getLogger("spectramind")

with rule_job(snakemake):
    torch.set_num_threads(snakemake.threads)
    options = ModelOptions.from_config(snakemake.params.model)
    model = load_checkpoint(snakemake.input.checkpoint, options)
    log.info("V50 selective scan: %s", selective_scan_in_use(next(model.parameters()).device))
    stars = read_star_info(Path(snakemake.input.stars).parent, "test")
    ids = [int(Path(p).stem) for p in snakemake.input.fits]
    fits = [xr.load_dataset(p) for p in snakemake.input.fits]
    mu, sigma = (np.array([f[name].values for f in fits]) for name in ("depth", "sigma"))
    predictors = load_predictors("physics", snakemake.input.fits)
    modelled = np.flatnonzero(~fallback_rows(predictors))
    samples = planet_samples([ids[k] for k in modelled],
                             [snakemake.input.lightcurves[k] for k in modelled],
                             [fits[k] for k in modelled], stars, mu[modelled], sigma[modelled],
                             options.steps)  # fmt: skip
    if samples:
        model_mu, model_sigma = (values.numpy() for values in predict(model, samples))
        verdicts = out_of_domain(samples, model_mu, model_sigma,
                                 load_domain(snakemake.input.checkpoint))  # fmt: skip
        for row, (k, verdict) in enumerate(zip(modelled, verdicts, strict=True)):
            if snakemake.params.guards_v50_domain and verdict.out:
                log.warning("guard: planet %s is outside V50's domain (%s); its physics fit "
                            "is submitted", ids[k], verdict.reason)  # fmt: skip
                continue
            mu[k], sigma[k] = np.clip(model_mu[row], 0.0, None), model_sigma[row]
            predictors[k] = "v50"
    predictions = predictions_dataset(ids, mu, sigma, "SpectraMind V50 model predictions",
                                      predictors=predictors)  # fmt: skip
    write_netcdf(predictions, snakemake.output.predictions)
