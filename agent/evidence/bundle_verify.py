"""Offline verification of an exported bundle: the standalone verifier's (posture_verify.bundle).

In the agent's environment zstandard is installed, so bundles of format 1 (zstd blobs) verify too.
"""

from __future__ import annotations

from posture_verify.bundle import verify_bundle

__all__ = ["verify_bundle"]
