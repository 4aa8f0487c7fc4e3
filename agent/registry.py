"""Discovery of checks and collectors through entry points, so third parties can ship their own."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

from checks.base import Check

__all__ = ["RegistryError", "load_checks", "load_collectors", "checks_in"]

CHECK_GROUP = "posture_agent.checks"
COLLECTOR_GROUP = "posture_agent.collectors"
_BUILTIN_CHECK_PACKAGES = ("checks.aws", "checks.gcp", "checks.endpoints", "checks.azure")


class RegistryError(Exception):
    pass


def _walk(module: ModuleType) -> Iterable[ModuleType]:
    yield module
    path = getattr(module, "__path__", None)
    if path is None:
        return
    for info in pkgutil.walk_packages(path, prefix=module.__name__ + "."):
        if info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        yield importlib.import_module(info.name)


def checks_in(package: str) -> list[Check]:
    """Every Check defined in a package and its submodules, in a stable order."""
    found: dict[str, Check] = {}
    for module in _walk(importlib.import_module(package)):
        for value in vars(module).values():
            if isinstance(value, Check):
                other = found.get(value.id)
                if other is not None and other is not value:
                    raise RegistryError(f"duplicate check id {value.id} in {module.__name__}")
                found[value.id] = value
    return [found[k] for k in sorted(found)]


def load_checks(packages: Iterable[str] | None = None) -> dict[str, Check]:
    """All checks: from entry points, falling back to the built-in packages when not installed."""
    if packages is None:
        names = {ep.value for ep in entry_points(group=CHECK_GROUP)} or set(_BUILTIN_CHECK_PACKAGES)
        packages = sorted(names)
    result: dict[str, Check] = {}
    for package in packages:
        for chk in checks_in(package):
            if chk.id in result:
                raise RegistryError(f"duplicate check id {chk.id} (in {package})")
            result[chk.id] = chk
    return result


class _Collectors(Mapping[str, Callable[..., Any]]):
    """provider -> collect function, imported on first use: a daemon that scans only AWS never
    loads the GCP or Azure SDKs (tens of MB of resident memory)."""

    def __init__(self, targets: dict[str, str]) -> None:
        self._targets = targets
        self._loaded: dict[str, Callable[..., Any]] = {}

    def __getitem__(self, provider: str) -> Callable[..., Any]:
        if provider not in self._loaded:
            module, _, attr = self._targets[provider].partition(":")
            self._loaded[provider] = getattr(importlib.import_module(module), attr)
        return self._loaded[provider]

    def __iter__(self) -> Iterator[str]:
        return iter(self._targets)

    def __len__(self) -> int:
        return len(self._targets)


def load_collectors() -> Mapping[str, Callable[..., Any]]:
    """provider name -> collect function (entry points; the built-in AWS one when not installed)."""
    targets = {ep.name: ep.value for ep in entry_points(group=COLLECTOR_GROUP)}
    targets.setdefault("aws", "collectors.aws:collect")
    return _Collectors(targets)
