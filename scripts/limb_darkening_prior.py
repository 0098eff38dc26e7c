"""Snakemake adapter: the limb-darkening prior from every training planet's samples."""

import pandas as pd

from spectramind.core.atomic import write_json_atomic
from spectramind.core.jobs import rule_job
from spectramind.fit.priors import learn_limb_darkening
from spectramind.io.exact_csv import read_csv

with rule_job(snakemake):
    samples = pd.concat([read_csv(path) for path in snakemake.input.samples])
    write_json_atomic(snakemake.output.prior, learn_limb_darkening(samples).to_dict())
