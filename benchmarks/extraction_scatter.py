"""Out-of-transit scatter of the extracted white light vs the simulator's noise expectation.

For each simulated planet (visit 0) with light curves under results/lightcurves/ and truth
under results/truth/: decorrelate the out-of-transit white light (FGS1 channel; AIRS summed
over its 282 channels) against time and the jitter regressors, then compare the residual
rms with (a) the photon shot noise the simulator put in and (b) the propagated variance.

    python benchmarks/extraction_scatter.py [--results results]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from spectramind.extract.diagnostics import decorrelated_residuals, transit_duration_h
from spectramind.io.layout import AIRS_SCIENCE_COLUMNS, INTEGRATION_S
from spectramind.simulate.star import airs_column_rates, fgs1_rate

MARGIN_H = 0.25


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    args = parser.parse_args()
    params = pd.read_csv(args.results / "truth/params.csv").set_index("planet_id")
    rows = []
    for path in sorted((args.results / "lightcurves").glob("*/*.nc")):
        truth = params.loc[int(path.stem)]
        with xr.open_dataset(path) as lc:
            time = lc["airs_time"].values[0]
            t14 = transit_duration_h(truth.P, truth.sma, truth.inclination, truth.base_depth)
            keep = np.abs(time - truth.visit0_t0_h) > t14 / 2 + MARGIN_H
            flux, variance = lc["flux"].values[0], lc["variance"].values[0]
            series = {
                "FGS1": (flux[:, 0], variance[:, 0], ["fgs1_centroid_x", "fgs1_centroid_y"]),
                "AIRS": (flux[:, 1:].sum(axis=1), variance[:, 1:].sum(axis=1),
                         ["airs_trace_row", "airs_trace_width", "fgs1_centroid_x"]),
            }  # fmt: skip
            for name, (white, var, regs) in series.items():
                residual = decorrelated_residuals(
                    white, time, [lc[r].values[0] for r in regs], keep
                )
                pairs = lc.attrs[f"{'fgs1' if name == 'FGS1' else 'airs'}_pairs_per_bin"]
                if name == "FGS1":
                    photons = fgs1_rate(truth.Ts, truth.brightness) * INTEGRATION_S["FGS1"]
                else:
                    rates = airs_column_rates(truth.Ts, truth.brightness)[AIRS_SCIENCE_COLUMNS]
                    photons = rates.sum() * INTEGRATION_S["AIRS-CH0"]
                shot = 1.0 / np.sqrt(photons * pairs)
                propagated = np.sqrt(np.median(var[keep])) / np.median(white[keep])
                rows.append({
                    "planet_id": path.stem, "channel": name, "bins": int(keep.sum()),
                    "rms_ppm": residual.std() * 1e6, "shot_ppm": shot * 1e6,
                    "rms/shot": residual.std() / shot,
                    "rms/propagated": residual.std() / propagated,
                })  # fmt: skip
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print("\nmedian ratios:")
    print(table.groupby("channel")[["rms/shot", "rms/propagated"]].median().to_string())


if __name__ == "__main__":
    main()
