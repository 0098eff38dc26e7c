"""CSV tables read with exact floats on every supported pandas.

pandas < 3 parses floats with its own fast converter, which misses the nearest double for
about a third of 17-digit values (1.3707447569641267 reads as ...1270); pandas 3 parses them
exactly and deprecates the option that asks for it. A one-ulp change of a star's radius or a
label moves an ill-conditioned fit (a visit without a transit) well past a test's tolerance,
so every numeric table goes through ``read_csv``: the same values on pandas 2.2 and 3.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

EXACT_FLOATS: dict[str, str] = (
    {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
)


def read_csv(path: Any, **kwargs: Any) -> pd.DataFrame:
    """``pandas.read_csv`` with floats parsed to the nearest double."""
    return pd.read_csv(path, **EXACT_FLOATS, **kwargs)
