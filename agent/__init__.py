"""posture-agent: continuous compliance monitoring."""

from __future__ import annotations

from typing import Any

__version__: str  # set by __getattr__ on first use


def __getattr__(name: str) -> Any:
    # the version is looked up on first use: importlib.metadata costs a collection child ~50 ms it never needs
    if name != "__version__":
        raise AttributeError(f"module 'agent' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("posture-agent")
    except PackageNotFoundError:  # running from a source tree without install
        found = "0.0.0+local"
    globals()["__version__"] = found
    return found
