"""`python -m dockd.cli`."""

import sys

from dockd.cli.main import main

sys.exit(main())
