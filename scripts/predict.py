"""Snakemake adapter: V50 predictions (an ensemble's mixture) for every test planet, in one
process."""

from pathlib import Path

import numpy as np
import torch
import xarray as xr

from spectramind.core.jobs import rule_job
from spectramind.core.netcdf import write_netcdf
from spectramind.fit.collect import predictions_dataset
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
    physics = [np.array([f[name].values for f in fits]) for name in ("depth", "sigma")]
    samples = planet_samples(ids, snakemake.input.lightcurves, fits, stars, *physics,
                             options.steps)  # fmt: skip
    mu, sigma = predict(model, samples)
    predictions = predictions_dataset([s.planet_id for s in samples],
                                      np.clip(mu.numpy(), 0.0, None), sigma.numpy(),
                                      "SpectraMind V50 model predictions")  # fmt: skip
    write_netcdf(predictions, snakemake.output.predictions)
