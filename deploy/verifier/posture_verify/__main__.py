"""`python -m posture_verify BUNDLE ...`: the same as the `posture-verify` command."""

import sys

from posture_verify.cli import main

sys.exit(main())
