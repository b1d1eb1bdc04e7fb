"""`python -m harness` is `autopilot-harness`."""

import sys

from harness.cli import main

sys.exit(main())
