"""Numbers read off the real ADC 2025 data (shared/adc2025/FORMAT.md) that the simulator matches.

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
REAL_RAW_RANGE = {"FGS1": (371, 23892), "AIRS-CH0": (293, 26871)}

# Calibration-frame statistics.
REAL_DARK_MEDIAN = 0.006  # e-/s
REAL_READ_MEDIAN = 13.0  # e-
REAL_FLAT_MEDIAN = 1.01
REAL_DEAD_FRACTION = 0.01
REAL_HOT_FRACTION = 0.017  # 5-sigma clip of the dark frame
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
