# Kaggle's offline code competition: the bundle uploaded as a Kaggle dataset, holding the
# code, the training run's config, what inference reads of what was learned from train, and
# a wheelhouse for an offline install on the Kaggle image that config kaggle.image describes
# (kaggle/images/, see docs/kaggle.md). Built only on request (snakemake kaggle_bundle); it
# downloads wheels (network) unless kaggle.wheelhouse_from names an earlier bundle's wheelhouse.

from spectramind.kaggle.description import image_file
from spectramind.kaggle.layout import inference_artifacts, source_files
from spectramind.kaggle.tools import check_bundle_tools


rule kaggle_bundle:
    input:
        artifacts=lambda wildcards: [
            *fit_priors(wildcards).values(),
            *(
                artifact(name)(wildcards)
                for name in inference_artifacts(config["predictor"])
            ),
        ],
        sources=source_files(workflow.basedir),
        image=image_file(config["kaggle"]["image"], workflow.basedir),
    output:
        bundle=directory("results/kaggle/bundle"),
        manifest="results/manifests/kaggle_bundle.json",
    log:
        "results/logs/kaggle_bundle.log",
    localrule: True
    conda:
        "../envs/kaggle.yaml"
    params:
        **reads("kaggle_bundle"),
    script:
        "../scripts/kaggle_bundle.py"


# Before any job runs: a bundle to build needs a pip that resolves for another platform
# (spectramind.kaggle.tools), checked now rather than after the training it waits for.
onstart:
    check_bundle_tools(workflow, config["kaggle"])
