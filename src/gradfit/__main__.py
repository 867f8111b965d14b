"""``python -m gradfit`` runs the command line."""

import sys

from gradfit.cli.main import main

sys.exit(main())
