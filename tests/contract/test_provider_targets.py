"""Each provider's collect target is a function whatever was imported before it: a submodule named
like the package's lazily imported function (collectors/aws/collect.py beside ``collectors.aws.collect``)
would replace the function with the module once imported, and the cycle would call a module."""

from __future__ import annotations

import importlib
import pkgutil

import collectors
from agent.registry import get_provider, load_target, provider_names


def test_collect_targets_are_functions_after_every_submodule_is_imported() -> None:
    for info in pkgutil.walk_packages(collectors.__path__, "collectors."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    for name in provider_names():
        target = get_provider(name).collect
        fn = load_target(target) if isinstance(target, str) else target
        assert callable(fn) and not isinstance(fn, type(collectors)), (name, target)
        package = importlib.import_module(f"collectors.{name}")
        assert not isinstance(package.collect, type(collectors)), f"collectors.{name}.collect is a module"
