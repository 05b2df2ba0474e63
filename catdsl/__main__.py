"""`python -m catdsl …`: the same command line as the `catdsl` script."""

import sys

from catdsl.cli import main

sys.exit(main())
