"""Kaggle's offline code competition: the bundle uploaded as a dataset (code, config, trained
artifacts and a wheelhouse), the image check and offline install, and the inference driver
with its runtime guard (``python -m spectramind.kaggle``; the notebooks in kaggle/ call it).

Nothing is imported here: rules/kaggle.smk imports ``layout`` when every job parses the
Snakefile, and the driver's ``install`` command runs before the wheelhouse is installed.
"""
