"""``spectramind-check-raw``: read every file of a raw root and report problems by name."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from spectramind.io.errors import RawDataError
from spectramind.io.inventory import summarise_planet
from spectramind.io.layout import SPLITS, discover_planets
from spectramind.io.tables import read_adc_info, read_axis_info, read_star_info, read_wavelengths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check an ADC 2025 raw root (Kaggle layout).")
    parser.add_argument("root", type=Path)
    parser.add_argument("--split", choices=SPLITS, action="append", help="default: both")
    parser.add_argument("--planet", type=int, action="append", help="only these planet ids")
    args = parser.parse_args(argv)
    try:
        axis = read_axis_info(args.root)
        read_adc_info(args.root)
        read_wavelengths(args.root)
        for split in args.split or SPLITS:
            read_star_info(args.root, split)
            for planet_id in args.planet or discover_planets(args.root, split):
                print(json.dumps(summarise_planet(args.root, split, planet_id, axis)))
    except RawDataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
