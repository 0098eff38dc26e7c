# The per-planet stages: raw frames -> calibrated, time-binned datasets (calibrate, per visit
# and instrument) -> light curves with jitter regressors (extract, per planet) -> the physics
# fit (fit, per planet). Each stage's rules are made here from one spec: a rule with
# wildcards (a job per unit) and a rule per batch of planets (planets_per_job, and batches
# that ran before: spectramind.workflow.batches). Both run the stage's script, whose units
# come from the job's outputs, and write the same files, so nothing downstream knows which
# ran; a batch rule, having no wildcards, wins over the wildcard rule for its files.

from spectramind.workflow import PLANET_STAGES


def stage_rules(stage, inputs, conda, mem_mb, minutes_per_unit):
    """The rules of one per-planet stage. Made in a function, not a loop: a script directive
    is evaluated again when the job runs, and must see this stage, not the loop's last.
    """

    rule:
        name:
            stage.name
        input:
            unpack(lambda wildcards: inputs([stage.unit(**wildcards)])),
        output:
            **stage.outputs,
        log:
            stage.log,
        benchmark:
            stage.benchmark
        conda:
            f"../envs/{conda}.yaml"
        resources:
            mem_mb=per_attempt(mem_mb),
            runtime=minutes_per_unit,
        params:
            **reads(stage.name),
        script:
            f"../scripts/{stage.name}.py"

    for split in SPLITS:
        for batch in planet_batches(stage, split):
            units = stage_units(stage, split, batch)
            outputs = [stage.paths(unit) for unit in units]
            job = f"{stage.name}/{split}/batch_{batch[0]}"

            rule:
                name:
                    f"{stage.name}_{split}_batch_{batch[0]}"
                input:
                    unpack(lambda wildcards, units=units: inputs(units)),
                output:
                    **{
                        name: [paths[name] for paths in outputs]
                        for name in stage.outputs
                    },
                log:
                    f"results/logs/{job}.log",
                benchmark:
                    f"results/benchmarks/{job}.tsv"
                conda:
                    f"../envs/{conda}.yaml"
                resources:
                    mem_mb=per_attempt(mem_mb),
                    runtime=minutes_per_unit * len(units),
                params:
                    **reads(stage.name),
                script:
                    f"../scripts/{stage.name}.py"


stage_rules(PLANET_STAGES["calibrate"], calibrate_inputs, "calibrate", 1500, 10)
stage_rules(PLANET_STAGES["extract"], extract_inputs, "calibrate", 1000, 5)
stage_rules(PLANET_STAGES["fit"], fit_inputs, "fit", 1000, 10)
