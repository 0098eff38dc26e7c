"""Numbers read off the real ADC 2025 data (one competition planet,
the competition's data description) that the simulator matches.

Keep every real-data figure here, once, so tests can compare simulator output against it.
"""

# Analogue-to-digital conversion: physical e- = raw / gain + offset (adc_info.csv).
ADC_GAIN = 0.4369
ADC_OFFSET = -1000.0

# Readout timing of a whole visit (the per-pair timing is in spectramind.io.layout).
VISIT_LENGTH_S = 7.5 * 3600.0
FULL_PAIRS = {"FGS1": 67500, "AIRS-CH0": 5625}

# Observed signal levels on a real planet (e- per CDS pair) and per-pair scatter.
REAL_COUNTS_PER_PAIR = {"FGS1": 2.2e5, "AIRS-CH0": 1.6e7}
REAL_PAIR_SCATTER_PPM = {"FGS1": 5000.0, "AIRS-CH0": 280.0}
REAL_AIRS_COLUMN_SCATTER_PPM = 5000.0  # one AIRS column, per pair
REAL_RAW_RANGE = {"FGS1": (371, 23892), "AIRS-CH0": (293, 26871)}

# Calibration-frame statistics of one real planet (pixel counts of its frames where given).
REAL_DARK_MEDIAN = 0.006  # e-/s
REAL_DARK_P99_RATIO = 1.7  # AIRS 99th percentile / median: its hot pixels sit in the top 1 %
REAL_HOT_DARK_MAX = {"FGS1": 1.4, "AIRS-CH0": 12.0}  # e-/s, the hottest pixel of a frame
REAL_HOT_FRACTION = {"FGS1": 11 / 1024, "AIRS-CH0": 82 / 11392}  # 5-sigma clip of the dark
REAL_DEAD_FRACTION = {"FGS1": 3 / 1024, "AIRS-CH0": 12 / 11392}
REAL_FLAT_MEDIAN = 1.01
REAL_FLAT_LIVE_STD = 0.013  # live pixels; a flat below 0.5 occurs only on dead pixels
REAL_FLAT_LIVE_PERCENTILES = (0.97, 1.04)  # 1st and 99th, live pixels
REAL_READ_MEDIAN = 13.0  # e-
REAL_READ_P99_RATIO = 2.3  # 99th percentile / median: a tail of noisy pixels
REAL_READ_MAX = (110.0, 150.0)  # e-, range of the noisiest pixel of a frame
REAL_LINEAR_CORR_MEDIANS = (0.2, 0.9999, -6e-9, 1e-11, -5e-17, 1e-22)  # c0 spans 0.14..0.27

FGS1_WAVELENGTH_UM = 0.7

# Star and orbit ranges of the 1100 real training planets (train_star_info.csv).
STAR_RANGES = {
    "Rs": (0.65, 2.89),
    "Ms": (0.60, 1.82),
    "Ts": (4236.0, 6979.0),
    "Mp": (0.05, 24.7),
    "P": (2.8, 7.6),
    "sma": (4.2, 21.0),
    "i": (85.6, 90.0),
}
DEPTH_RANGE = (0.006, 0.046)
FEATURE_AMPLITUDE_PPM = (50.0, 200.0)
