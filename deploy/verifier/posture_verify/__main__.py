"""`python -m posture_verify BUNDLE ...`: the same as the `posture-verify` command."""

import sys

from posture_verify.cli import main

if __name__ == "__main__":  # not when a worker process imports it (token_jobs)
    sys.exit(main())
