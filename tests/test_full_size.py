"""Full-size planet: the real frame counts, written and read back (slow: ~1 min)."""

from __future__ import annotations

import numpy as np
import pytest

from spectramind import io
from spectramind.simulate import SimulationConfig, simulate_dataset

FULL = SimulationConfig(seed=8, n_train=1, n_test=0, cadence=1, second_visit_fraction=0.0)


@pytest.mark.slow
def test_full_size_planet_has_the_real_frame_counts(tmp_path):
    simulate_dataset(FULL, tmp_path / "raw", tmp_path / "truth")
    root = tmp_path / "raw"
    axis = io.read_axis_info(root)
    assert axis.n_frames("FGS1") == 135000 and axis.n_frames("AIRS-CH0") == 11250
    np.testing.assert_allclose(axis.time_h("FGS1")[-1] * 3600, 0.1 + 0.4 * 67499 + 0.1)
    planet_id = io.discover_planets(root, "train")[0]
    for instrument, shape in (("FGS1", (135000, 32, 32)), ("AIRS-CH0", (11250, 32, 356))):
        path = io.signal_path(root, "train", planet_id, instrument, 0)
        frames = io.read_signal(path, instrument, axis.n_frames(instrument))
        assert frames.shape == shape
        long_over_short = np.median(frames[1::2].astype(float) / frames[0::2], axis=0).max()
        assert long_over_short > 1.3  # bright pixels keep integrating between the reads
