"""``python -m spectramind.kaggle``: what the Kaggle notebooks run, one command per step.

    describe-image  write this image's description (kaggle/images/*.txt, config
               kaggle.image) to stdout: run it in a notebook on the image, before install
    install    check the image against the bundle, then install its wheelhouse offline
    infer      the inference run: runtime guard, watchdog, always a valid submission.csv
    snakemake  Snakemake on the bundle's workflow as the notebooks run it (--train: from the
               train split, e.g. `-- --until calibrate_sigma`, then `-- kaggle_bundle`)

``describe-image`` and ``install`` run before the wheelhouse is installed: they and this
module import only the standard library, and each other command imports what it needs when
it runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spectramind.kaggle.description import describe_running_image
from spectramind.kaggle.image import ImageError, install


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m spectramind.kaggle",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = main.add_subparsers(dest="command", required=True)
    describe = commands.add_parser("describe-image", help="this image's description")
    describe.add_argument("--all", action="store_true", help="every installed package")
    describe.add_argument("--where", default="", help="where it was read (the header says)")
    for name in ("install", "infer", "snakemake"):
        command = commands.add_parser(name)
        command.add_argument("--bundle", type=Path, required=True, help="the bundle's folder")
        if name == "install":
            continue
        command.add_argument("--competition", type=Path, help="default: the bundle config's")
        command.add_argument("--working", type=Path, help="default: the bundle config's")
        if name == "infer":
            command.add_argument("--started", type=float, help="run start, epoch seconds")
        else:
            command.add_argument("--train", action="store_true", help="learn the artifacts")
            command.add_argument("args", nargs=argparse.REMAINDER, help="for Snakemake")
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "describe-image":
        image = describe_running_image(every_package=args.all, where=args.where)
        sys.stdout.write(image.text())
        return 0
    try:
        if args.command == "install":
            install(args.bundle)
            return 0
        from spectramind.kaggle.run import KagglePaths, infer, snakemake  # after install

        paths = KagglePaths.of_bundle(args.bundle, args.competition, args.working)
        if args.command == "infer":
            infer(paths, args.started)
            return 0
        return snakemake(paths, [a for a in args.args if a != "--"], args.train)
    except ImageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
