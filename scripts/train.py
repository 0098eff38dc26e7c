"""Snakemake adapter: train the V50 model (or its ``ensemble_folds`` members) on the train
planets (one process, all cores)."""

from pathlib import Path

import numpy as np
import torch
import xarray as xr

from spectramind.core.atomic import write_json_atomic
from spectramind.core.jobs import rule_job
from spectramind.core.provenance import config_hash, sha256_outputs
from spectramind.evaluation.artifacts import read_artifact
from spectramind.fit import FitOptions
from spectramind.io import read_labels, read_star_info, read_wavelengths
from spectramind.models.dataset import cross_fitted_physics, planet_samples
from spectramind.models.training import (
    TrainingOptions,
    ensemble_metrics,
    save_checkpoint,
    train_ensemble,
)
from spectramind.models.v50 import ModelOptions

with rule_job(snakemake):
    torch.set_num_threads(snakemake.threads)
    model_options = ModelOptions.from_config(snakemake.params.model)
    options = TrainingOptions.from_config(snakemake.params.training)
    fit_options = FitOptions.from_config(snakemake.params.fit)
    stars = read_star_info(Path(snakemake.input.stars).parent, "train")
    labels = read_labels(snakemake.input.labels)
    wavelength = read_wavelengths(Path(snakemake.input.wavelengths).parent)
    ids = [int(Path(p).stem) for p in snakemake.input.fits]
    fits = [xr.load_dataset(p) for p in snakemake.input.fits]
    truth = labels.loc[ids].to_numpy()
    if fit_options.spectral_prior:  # the prior of each planet's fit never saw its label
        physics_mu, physics_sigma = cross_fitted_physics(
            fits, truth, wavelength, fit_options.spectral_prior_components,
            options.cross_fit_folds, snakemake.params.seed,
        )  # fmt: skip
    else:
        physics_mu = np.array([f["depth"].values for f in fits])
        physics_sigma = np.array([f["sigma"].values for f in fits])
    samples = planet_samples(ids, snakemake.input.lightcurves, fits, stars, physics_mu,
                             physics_sigma, model_options.steps, truth)  # fmt: skip
    naive = read_artifact(snakemake.input.naive, ("mean", "sigma"))
    members = train_ensemble(samples, wavelength, (naive["mean"], naive["sigma"]),
                             model_options, options, snakemake.params.seed)  # fmt: skip
    save_checkpoint(
        snakemake.output.checkpoint, members, model_options,
        config_hash(snakemake.params.config), sha256_outputs(snakemake.input), wavelength,
    )  # fmt: skip
    write_json_atomic(snakemake.output.metrics, ensemble_metrics(members))
