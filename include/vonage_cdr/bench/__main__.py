"""``python -m include.vonage_cdr.bench``: see the package docstring."""

import sys

from include.vonage_cdr.bench import main

sys.exit(main())
