"""Time the PyPI peer `ariel-data-preprocessing` 1.5 calibrating one planet (visit 0).

The peer lives in its own virtualenv, never the project's. Its metadata lists a
dependency `hdf5` that does not exist on PyPI (and `tensorflow`, used only by its
data-generator modules), so a plain install fails; install it without them.
pandas must be < 3: under pandas 3 copy-on-write the peer's in-place edit of
`axis_info[...].values` raises "output array is read-only".

    python3 -m venv /tmp/peer-venv
    /tmp/peer-venv/bin/pip install --no-deps ariel-data-preprocessing==1.5
    /tmp/peer-venv/bin/pip install numpy "pandas<3" pyarrow scipy astropy h5py

Run on one core:

    taskset -c 0 /tmp/peer-venv/bin/python benchmarks/peer_ariel_data_preprocessing.py \
        --root /tmp/fullroot/raw --planet-id 2032335250 [--split train]

It prints one JSON line: peer, seconds, peak_rss_mb, steps, output_shapes.

How the peer is driven: `DataProcessor.run()` calibrates every planet under
`<root>/<split>/` in worker processes and writes an HDF5 file. To time one
planet in this process (so RUSAGE_SELF sees the work), the script links that
planet alone into a temp root and calls the worker body `_process_data` once,
exactly as `run()` does for each planet with `n_cpus=1`, minus process spawning
and the HDF5 write. `downsample_fgs=True` is required: without it the peer
rejects real-layout data (135000 FGS1 frames != 11250 AIRS-CH0 frames).
Nothing from the `spectramind` package is imported.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import resource
import shutil
import tempfile
import time

import pandas as pd
from ariel_data_preprocessing import signal_correction_functions as correction_funcs
from ariel_data_preprocessing.data_preprocessing import DataProcessor

PEER = "ariel-data-preprocessing 1.5"


def link_single_planet_root(root: str, split: str, planet_id: str, tmp: str) -> str:
    """A temp raw root holding only this planet (symlinks; the peer reads axis_info)."""
    peer_root = os.path.join(tmp, "raw")
    os.makedirs(os.path.join(peer_root, split))
    os.symlink(
        os.path.abspath(os.path.join(root, split, planet_id)),
        os.path.join(peer_root, split, planet_id),
    )
    for name in ("axis_info.parquet", "adc_info.csv", f"{split}.csv"):
        source = os.path.join(root, name)
        if os.path.exists(source):
            os.symlink(os.path.abspath(source), os.path.join(peer_root, name))
    return peer_root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="raw root in the Kaggle ADC 2025 layout")
    parser.add_argument("--planet-id", required=True)
    parser.add_argument("--split", default="train", choices=["train", "test"])
    args = parser.parse_args()

    adc = pd.read_csv(os.path.join(args.root, "adc_info.csv")).iloc[0]
    tmp = tempfile.mkdtemp(prefix="peer-adp-")
    try:
        peer_root = link_single_planet_root(args.root, args.split, args.planet_id, tmp)
        processor = DataProcessor(
            input_data_path=peer_root,
            output_data_path=os.path.join(tmp, "out"),
            # The peer takes one gain/offset for both instruments (defaults equal the real ones).
            gain=float(adc["AIRS-CH0_adc_gain"]),
            offset=float(adc["AIRS-CH0_adc_offset"]),
            n_cpus=1,
            downsample_fgs=True,
            mode=args.split,
        )
        # As run() does before starting its workers.
        processor.fgs_indices = correction_funcs.fgs_downsamples(processor.fgs_frames)
        inbox, outbox = queue.Queue(), queue.Queue()
        inbox.put(args.planet_id)
        inbox.put("STOP")

        start = time.perf_counter()
        processor._process_data(inbox, outbox)  # the per-planet body of run()
        seconds = time.perf_counter() - start

        result = outbox.get_nowait()
        output_shapes = {
            key: list(value.shape) for key, value in result.items() if hasattr(value, "shape")
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    steps = (
        "read parquet; FGS1 keep 1 CDS pair in 12 (downsample_fgs); AIRS crop cols 39:321; "
        "ADC; hot(5-sigma dark)/dead mask; linearity (per-pixel poly1d); dark*dt; CDS; flat; "
        "extract: AIRS sum rows >=0.75 of first-frame range, FGS1 sum row x col block; "
        "FGS1+AIRS -> 283 columns, no time binning, no wavelength flip; transit/out-of-transit "
        "split by slope detection; moving averages over time windows 10,20,40,80,160"
    )
    print(
        json.dumps(
            {
                "peer": PEER,
                "seconds": round(seconds, 2),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "steps": steps,
                "output_shapes": output_shapes,
            }
        )
    )


if __name__ == "__main__":
    main()
