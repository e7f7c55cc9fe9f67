"""``python -m divnet_nb`` is the ``divnet-nb`` command."""

import sys

from .cli import main

sys.exit(main())
