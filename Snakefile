from snakemake.utils import min_version

min_version("9.0")


configfile: f"{workflow.basedir}/config/config.yaml"


report: "report/workflow.rst"


include: "rules/plan.smk"


wildcard_constraints:
    split="train|test",
    planet_id=r"\d+",
    instrument="FGS1|AIRS-CH0",
    visit=r"\d+",


include: "rules/common.smk"
include: "rules/report.smk"
include: "rules/simulate.smk"
include: "rules/check_raw.smk"
include: "rules/planets.smk"
include: "rules/submission.smk"
include: "rules/artifacts.smk"
include: "rules/model.smk"
include: "rules/uncertainty.smk"
include: "rules/diagnostics.smk"
include: "rules/kaggle.smk"


rule all:
    default_target: True
    input:
        get_final_output,


# Inference only: the test planets' submission from the artifacts in artifacts_dir;
# nothing of the train split is read or processed (works on a test-only raw root).
rule inference:
    input:
        inference_output(),
