"""Snakemake adapter: the spectral prior (mean shape, components, GP) from the train labels."""

from pathlib import Path

from spectramind.core.atomic import write_json_atomic
from spectramind.core.jobs import rule_job
from spectramind.fit.priors import learn_spectrum
from spectramind.io import read_labels, read_wavelengths

with rule_job(snakemake):
    excluded = snakemake.params.guards_exclude_from_training
    labels = read_labels(snakemake.input.labels).drop(excluded, errors="ignore")
    wavelength = read_wavelengths(Path(snakemake.input.wavelengths).parent)
    prior = learn_spectrum(
        labels, wavelength, snakemake.params.fit_spectral_prior_components,
        snakemake.params.fit_spectral_prior_feature_ppm * 1e-6,
    )  # fmt: skip
    write_json_atomic(snakemake.output.prior, prior.to_dict())
