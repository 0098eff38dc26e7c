"""Snakemake adapter: V50 predictions (an ensemble's mixture) for every test planet, in one
process; a planet whose fit is a fallback (a guard found no transit, or the fit failed)
keeps that fallback: the model never saw such inputs."""

from pathlib import Path

import numpy as np
import torch
import xarray as xr

from spectramind.core.jobs import rule_job
from spectramind.core.netcdf import write_netcdf
from spectramind.fit.collect import fallback_rows, load_predictors, predictions_dataset
from spectramind.io import read_star_info
from spectramind.models.dataset import planet_samples
from spectramind.models.training import load_checkpoint, predict
from spectramind.models.v50 import ModelOptions

with rule_job(snakemake):
    torch.set_num_threads(snakemake.threads)
    options = ModelOptions.from_config(snakemake.params.model)
    model = load_checkpoint(snakemake.input.checkpoint, options)
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
        model_mu, model_sigma = predict(model, samples)
        mu[modelled], sigma[modelled] = np.clip(model_mu.numpy(), 0.0, None), model_sigma.numpy()
    for k in modelled:
        predictors[k] = "v50"
    predictions = predictions_dataset(ids, mu, sigma, "SpectraMind V50 model predictions",
                                      predictors=predictors)  # fmt: skip
    write_netcdf(predictions, snakemake.output.predictions)
