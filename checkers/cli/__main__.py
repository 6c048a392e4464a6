"""``python -m refmodel.checkers.cli``: the ``refmodel`` command without the console script."""

import sys

from refmodel.checkers.cli import main

sys.exit(main())
