"""Snakemake adapter: train the V50 model (or its ``ensemble_folds`` members) on the train
planets (one process, all cores)."""

import logging
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from spectramind.core.atomic import write_json_atomic
from spectramind.core.jobs import rule_job
from spectramind.core.netcdf import write_netcdf
from spectramind.core.provenance import config_hash, sha256_outputs
from spectramind.evaluation.artifacts import read_artifact
from spectramind.fit import FitOptions
from spectramind.fit.collect import fallback_rows, load_predictors, predictions_dataset
from spectramind.fit.cross_fit import train_physics_predictions
from spectramind.guards.options import prior_conflict_p_value
from spectramind.io import read_labels, read_star_info, read_wavelengths
from spectramind.models.dataset import planet_samples
from spectramind.models.mamba import selective_scan_in_use
from spectramind.models.training import (
    TrainingOptions,
    ensemble_metrics,
    out_of_fold_predictions,
    save_checkpoint,
    train_ensemble,
)
from spectramind.models.v50 import ModelOptions
from spectramind.workflow import config_params

log = logging.getLogger("spectramind")

with rule_job(snakemake):
    torch.set_num_threads(snakemake.threads)
    device = "cuda" if torch.cuda.is_available() else "cpu"  # as training's models are put
    log.info("V50 selective scan: %s", selective_scan_in_use(device))
    model_options = ModelOptions.from_config(snakemake.params.model)
    options = TrainingOptions.from_config(snakemake.params.training)
    fit_options = FitOptions.from_config(snakemake.params.fit)
    stars = read_star_info(Path(snakemake.input.stars).parent, "train")
    labels = read_labels(snakemake.input.labels)
    wavelength = read_wavelengths(Path(snakemake.input.wavelengths).parent)
    # a planet whose fit is a fallback (no transit seen, or the fit failed) teaches nothing
    measured = np.flatnonzero(~fallback_rows(load_predictors("physics", snakemake.input.fits)))
    paths = [snakemake.input.fits[k] for k in measured]
    lightcurves = [snakemake.input.lightcurves[k] for k in measured]
    ids = [int(Path(p).stem) for p in paths]
    fits = [xr.load_dataset(p) for p in paths]
    truth = labels.loc[ids].to_numpy()
    physics_mu, physics_sigma = train_physics_predictions(
        fits, truth, wavelength,
        fit_options,
        options.cross_fit_folds, snakemake.params.seed, prior_conflict_p_value(snakemake.params),
    )  # fmt: skip
    samples = planet_samples(ids, lightcurves, fits, stars, physics_mu,
                             physics_sigma, model_options.steps, truth)  # fmt: skip
    naive = read_artifact(snakemake.input.naive, ("mean", "sigma"))
    members = train_ensemble(samples, wavelength, (naive["mean"], naive["sigma"]),
                             model_options, options, snakemake.params.seed)  # fmt: skip
    save_checkpoint(
        snakemake.output.checkpoint, members, model_options,
        config_hash(config_params(snakemake.config, "train")), sha256_outputs(snakemake.input),
        wavelength,
    )  # fmt: skip
    write_json_atomic(snakemake.output.metrics, ensemble_metrics(members))
    val_ids, val_mu, val_sigma = out_of_fold_predictions(members, samples, model_options,
                                                         wavelength)  # fmt: skip
    write_netcdf(predictions_dataset(val_ids, val_mu.numpy(), val_sigma.numpy(),
                                     "V50 predictions of its validation planets",
                                     labels.loc[val_ids].to_numpy()),
                 snakemake.output.validation)  # fmt: skip
