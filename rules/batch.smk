# Batched per-planet jobs (config planets_per_job > 1): one job calibrates, extracts or fits
# a batch of planets in one process, paying the interpreter start-up and imports once
# instead of once per planet (~2 s of a few-second job; see benchmarks/scale.py). They run
# the per-planet rules' scripts and write the same files, so Snakemake prefers them (rules
# without wildcards win over rules with) and nothing downstream changes.

if PLANETS_PER_JOB > 1 and config["check_raw"]:
    raise WorkflowError(
        "planets_per_job > 1 needs check_raw: false: a batch is fixed when the workflow is "
        "parsed, before check_raw can exclude a planet from it."
    )

for split, index, batch in planet_batches():

    rule:
        name:
            f"calibrate_{split}_batch{index}"
        input:
            raw=batch_raw_files(split, batch),
            adc=top_level("adc_info.csv"),
            axis=top_level("axis_info.parquet"),
        output:
            datasets=[
                unit["outputs"]["dataset"] for unit in calibrate_units(split, batch)
            ],
            manifests=[unit["manifest"] for unit in calibrate_units(split, batch)],
        log:
            f"results/logs/calibrate/{split}/batch{index}.log",
        benchmark:
            f"results/benchmarks/calibrate/{split}/batch{index}.tsv"
        conda:
            "../envs/calibrate.yaml"
        resources:
            mem_mb=per_attempt(1500),
            runtime=10 * len(calibrate_units(split, batch)),
        params:
            options=config["calibration"],
            units=calibrate_units(split, batch),
        script:
            "../scripts/calibrate.py"

    rule:
        name:
            f"extract_{split}_batch{index}"
        input:
            calibrated=[
                unit["outputs"]["dataset"] for unit in calibrate_units(split, batch)
            ],
            wavelengths=top_level("wavelengths.csv"),
        output:
            lightcurves=[
                unit["outputs"]["lightcurves"] for unit in extract_units(split, batch)
            ],
            manifests=[unit["manifest"] for unit in extract_units(split, batch)],
        log:
            f"results/logs/extract/{split}/batch{index}.log",
        benchmark:
            f"results/benchmarks/extract/{split}/batch{index}.tsv"
        conda:
            "../envs/calibrate.yaml"
        resources:
            mem_mb=per_attempt(1000),
            runtime=5 * len(batch),
        params:
            options=config["extraction"],
            units=extract_units(split, batch),
        script:
            "../scripts/extract.py"

    rule:
        name:
            f"fit_{split}_batch{index}"
        input:
            unpack(fit_priors),
            lightcurves=[
                unit["inputs"]["lightcurves"] for unit in fit_units(split, batch)
            ],
            stars=top_level(f"{split}_star_info.csv"),
        output:
            fits=[unit["outputs"]["fit"] for unit in fit_units(split, batch)],
            manifests=[unit["manifest"] for unit in fit_units(split, batch)],
        log:
            f"results/logs/fit/{split}/batch{index}.log",
        benchmark:
            f"results/benchmarks/fit/{split}/batch{index}.tsv"
        conda:
            "../envs/fit.yaml"
        resources:
            mem_mb=per_attempt(1000),
            runtime=10 * len(batch),
        params:
            options=config["fit"],
            split=split,
            units=fit_units(split, batch),
        script:
            "../scripts/fit.py"
