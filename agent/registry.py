"""Discovery of checks and collectors through entry points, so third parties can ship their own.

A collector is a ``Provider``: its name, the config model of its sources and its collect function.
Each entry point of ``posture_agent.collectors`` names one (``aws = "collectors.aws.config:PROVIDER"``);
``register_provider`` adds one without an entry point."""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal, get_args, get_origin

from agent.config_base import SourceBase
from checks.base import Check

__all__ = [
    "Provider",
    "RegistryError",
    "checks_in",
    "collector_target",
    "get_provider",
    "importable_name",
    "load_checks",
    "load_collectors",
    "load_target",
    "provider_names",
    "register_provider",
    "unregister_provider",
]

CHECK_GROUP = "posture_agent.checks"
COLLECTOR_GROUP = "posture_agent.collectors"
_BUILTIN_CHECK_PACKAGES = (
    "checks.aws",
    "checks.gcp",
    "checks.endpoints",
    "checks.azure",
    "checks.okta",
    "checks.googleworkspace",
    "checks.github",
    "checks.people",
)
# The built-in providers, in the order they are listed (the entry points of pyproject.toml name them too).
_BUILTIN_PROVIDERS = {
    "aws": "collectors.aws.config:PROVIDER",
    "gcp": "collectors.gcp.config:PROVIDER",
    "azure": "collectors.azure.config:PROVIDER",
    "endpoints": "collectors.endpoints.config:PROVIDER",
    "okta": "collectors.okta.config:PROVIDER",
    "googleworkspace": "collectors.googleworkspace.config:PROVIDER",
    "github": "collectors.github.config:PROVIDER",
    "people": "collectors.people.config:PROVIDER",
}


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
        from importlib.metadata import entry_points

        names = {ep.value for ep in entry_points(group=CHECK_GROUP)} or set(_BUILTIN_CHECK_PACKAGES)
        packages = sorted(names)
    result: dict[str, Check] = {}
    for package in packages:
        for chk in checks_in(package):
            if chk.id in result:
                raise RegistryError(f"duplicate check id {chk.id} (in {package})")
            result[chk.id] = chk
    return result


@dataclass(frozen=True)
class Provider:
    """What a collector's entry point in ``posture_agent.collectors`` exposes.

    ``name`` is the value of ``provider:`` that selects it in ``sources:``; ``source_model`` is the
    model such a source validates into, a subclass of ``agent.config.SourceBase`` whose ``provider``
    field is ``Literal[name]``; ``collect`` is the collect function, or ``"module:attr"`` naming it,
    imported when a cycle first needs it."""

    name: str
    source_model: type[SourceBase]
    collect: Callable[..., Any] | str


_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_registered: dict[str, Provider] = {}


def register_provider(provider: Provider) -> None:
    """Make a provider known. Loading an entry point of the group does this; code that embeds the
    agent (or a test) may call it directly. Registering the same record twice is harmless."""
    if not isinstance(provider, Provider):
        raise RegistryError(f"expected an agent.registry.Provider, got {type(provider).__name__}")
    if not _NAME.match(provider.name):
        raise RegistryError(f"provider name {provider.name!r} must be lower case letters, digits, _ or -")
    model = provider.source_model
    field = model.model_fields.get("provider") if isinstance(model, type) and issubclass(model, SourceBase) else None
    if field is None:
        raise RegistryError(f"provider {provider.name!r}: its source model must subclass agent.config.SourceBase")
    if get_origin(field.annotation) is not Literal or get_args(field.annotation) != (provider.name,):
        raise RegistryError(
            f"provider {provider.name!r}: {model.__name__} must declare provider: Literal[{provider.name!r}]"
        )
    current = _registered.get(provider.name)
    if current is not None and current != provider:
        raise RegistryError(
            f"provider {provider.name!r} is registered twice ({model.__module__} and {current.source_model.__module__})"
        )
    _registered[provider.name] = provider


def unregister_provider(name: str) -> None:
    """Forget a registered provider (tests); an entry point's provider is loaded again when named."""
    _registered.pop(name, None)


@functools.cache
def _entry_point_targets() -> dict[str, str]:
    targets = dict(_BUILTIN_PROVIDERS)  # when the package's entry points are not installed
    from importlib.metadata import entry_points

    targets.update({ep.name: ep.value for ep in entry_points(group=COLLECTOR_GROUP)})
    return targets


def provider_names() -> list[str]:
    """Every provider a source may name: the built-in ones first, then the others by name."""
    names = set(_entry_point_targets()) | set(_registered)
    return [n for n in _BUILTIN_PROVIDERS if n in names] + sorted(names - set(_BUILTIN_PROVIDERS))


def load_target(target: str) -> Any:
    """The object ``module:attr`` (``attr`` may be dotted) names, importing its module."""
    module, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split(".") if attr else ():
        obj = getattr(obj, part)
    return obj


def get_provider(name: str) -> Provider:
    """The provider called ``name``, loading its entry point on first use (importing only that
    provider's package). KeyError if no provider has that name; RegistryError if it cannot be loaded."""
    found = _registered.get(name)
    if found is not None:
        return found
    target = _entry_point_targets()[name]
    try:
        obj = load_target(target)
        if not isinstance(obj, Provider) and name in _BUILTIN_PROVIDERS:
            # metadata of an install from before providers declared their config: collectors.aws:collect
            obj = load_target(_BUILTIN_PROVIDERS[name])
    except Exception as exc:  # a third party's broken package must not take the config down with a traceback
        raise RegistryError(f"provider {name!r}: cannot load {target}: {type(exc).__name__}: {exc}") from None
    if not isinstance(obj, Provider):
        raise RegistryError(
            f"provider {name!r}: entry point {target} is a {type(obj).__name__}, not an agent.registry.Provider"
        )
    if obj.name != name:
        raise RegistryError(f"entry point {name!r} ({target}) declares provider {obj.name!r}")
    register_provider(obj)
    return obj


class _Collectors(Mapping[str, Callable[..., Any]]):
    """provider -> collect function, imported on first use: a daemon that scans only AWS never
    loads the GCP or Azure SDKs (tens of MB of resident memory)."""

    def __init__(self) -> None:
        self._loaded: dict[str, Callable[..., Any]] = {}

    def __getitem__(self, provider: str) -> Callable[..., Any]:
        if provider not in self._loaded:
            collect = get_provider(provider).collect
            self._loaded[provider] = load_target(collect) if isinstance(collect, str) else collect
        return self._loaded[provider]

    def target(self, provider: str) -> str | None:
        """``module:attr`` of the provider's collect function, without importing it."""
        collect = get_provider(provider).collect
        return collect if isinstance(collect, str) else importable_name(collect)

    def __iter__(self) -> Iterator[str]:
        return iter(provider_names())

    def __len__(self) -> int:
        return len(provider_names())


def importable_name(obj: Any) -> str | None:
    """``module:qualname`` of a function or class that a new interpreter can import, else None."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not module or not qualname or module == "__main__" or "<" in qualname:
        return None
    return f"{module}:{qualname}"


def collector_target(collectors: Mapping[str, Callable[..., Any]], provider: str) -> str | None:
    """Where another interpreter finds ``provider``'s collect function (``module:attr``), or None
    when it cannot (a lambda, a function of ``__main__``, no such provider). Loading no provider
    package when ``collectors`` came from load_collectors()."""
    if isinstance(collectors, _Collectors):
        try:
            return collectors.target(provider)
        except (KeyError, RegistryError):
            return None
    found = collectors.get(provider)
    return None if found is None else importable_name(found)


def load_collectors() -> Mapping[str, Callable[..., Any]]:
    """provider name -> collect function, from the providers (entry points, built-in ones when not
    installed, registered ones)."""
    return _Collectors()
