"""``python -m spectramind.kaggle``: see spectramind.kaggle.cli."""

import sys

from spectramind.kaggle.cli import main

sys.exit(main())
