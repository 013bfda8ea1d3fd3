"""`python -m live` is the same as the `live` command."""

import sys

from live.cli import main

sys.exit(main())
