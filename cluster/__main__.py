"""``python -m cluster up|down|status|build|test``: see cluster/local.py."""

import sys

from cluster.local import main

sys.exit(main())
