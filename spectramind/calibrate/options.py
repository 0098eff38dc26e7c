"""Which calibration steps run, with what parameters (the ``calibration:`` config block)."""

from __future__ import annotations

from dataclasses import dataclass, field

from spectramind.core.options import ConfigBlock
from spectramind.io.layout import PAIR_PERIOD_S


def _default_bins() -> dict[str, int]:
    return {"FGS1": 360, "AIRS-CH0": 30}


def _default_cosmic() -> dict[str, bool]:
    # FGS1: a cosmic ray's ~1e3 e- is ~1e-4 of the white light, below one bin's noise, while
    # jitter makes PSF pixels jump like cosmic rays; rejecting there did more harm than good.
    return {"FGS1": False, "AIRS-CH0": True}


@dataclass(frozen=True)
class CalibrationOptions(ConfigBlock):
    """Switches and parameters of the chain ADC -> mask -> linearity -> dark -> CDS ->
    cosmic rejection -> time binning -> flat field, all on by default except cosmic-ray
    rejection on FGS1 (``cosmic`` is per instrument; a single bool sets both).

    time_bin: CDS pairs per bin at full cadence (the organisers' 360 FGS1 / 30 AIRS, both
    144 s); sparser data keep the bin duration. Both instruments must bin the same duration
    so their light curves share one time axis.
    """

    BLOCK = "calibration"

    adc: bool = True
    mask_dead: bool = True
    mask_hot: bool = True
    hot_sigma: float = 5.0
    linearity: bool = True
    dark: bool = True
    cds: bool = True
    cosmic: dict[str, bool] = field(default_factory=_default_cosmic)
    cosmic_sigma: float = 5.0
    time_bin: dict[str, int] = field(default_factory=_default_bins)
    flat: bool = True
    fill_dead: bool = True
    fill_hot: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.cosmic, bool):  # one switch for both instruments
            object.__setattr__(self, "cosmic", dict.fromkeys(PAIR_PERIOD_S, self.cosmic))
        if set(self.cosmic) != set(PAIR_PERIOD_S):
            raise ValueError(f"cosmic needs FGS1 and AIRS-CH0 entries: {self.cosmic}")
        seconds = {ins: n * PAIR_PERIOD_S[ins] for ins, n in self.time_bin.items()}
        if set(seconds) != set(PAIR_PERIOD_S) or min(self.time_bin.values()) < 1:
            raise ValueError(f"time_bin needs positive FGS1 and AIRS-CH0 entries: {self.time_bin}")
        if abs(seconds["FGS1"] - seconds["AIRS-CH0"]) > 1e-9:
            raise ValueError(
                "time_bin must give both instruments the same bin duration "
                f"(FGS1 {seconds['FGS1']:g} s vs AIRS-CH0 {seconds['AIRS-CH0']:g} s); "
                "e.g. FGS1 = 12 x AIRS-CH0"
            )
        if self.hot_sigma <= 0 or self.cosmic_sigma <= 0:
            raise ValueError("hot_sigma and cosmic_sigma must be positive")

    def pairs_per_bin(self, instrument: str, cadence: int) -> int:
        """CDS pairs per time bin for data taken every ``cadence`` real pair periods.

        The AIRS bin is rounded to whole pairs (at least one) and FGS1 follows it, so the
        two instruments keep identical bin durations.
        """
        airs_pairs = max(1, round(self.time_bin["AIRS-CH0"] / cadence))
        seconds = airs_pairs * PAIR_PERIOD_S["AIRS-CH0"]
        return round(seconds / PAIR_PERIOD_S[instrument])
