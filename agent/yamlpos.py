"""Load YAML keeping the line of every key, so config errors can name where they are.

Loading is bounded, so that no input can exhaust the stack, the memory or the time of the loader:

- ``max_bytes``: the text may be at most this long (UTF-8 bytes);
- ``max_depth``: collections may nest at most this deep, counted from the top of the document, aliases
  included;
- ``max_aliased``: aliases (``*name``) and merge keys (``<<: *name``) may bring in at most this many
  values in all. An alias is a reference, but the loaded data is a tree: each use copies what it
  names, so a few lines of aliases to aliases (the "billion laughs") would otherwise expand to
  billions of values. Sharing a schedule or a few settings stays well below the bound.

Every failure, whatever its cause (syntax, a value YAML cannot construct such as the date
2024-02-30, a limit), is a ``YamlError`` with the line and, where known, the key path."""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.reader import ReaderError
from yaml.resolver import Resolver

__all__ = ["MAX_ALIASED", "MAX_BYTES", "MAX_DEPTH", "YamlError", "load_with_lines"]

Path = tuple[str | int, ...]

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_ALIASED = 10_000
USE_LIBYAML = True  # tests switch it off to check PyYAML's own parser too

_MERGE = "tag:yaml.org,2002:merge"
_VALUE = "tag:yaml.org,2002:value"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class YamlError(Exception):
    """Why a YAML text cannot be loaded: ``line`` (1-based, 0 if unknown), ``message`` and, when the
    problem is in a value, ``path``, the keys leading to it."""

    def __init__(self, line: int, message: str, path: Path = (), *, syntax: bool = False) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.path = path
        self.syntax = syntax  # a syntax error (not a limit or a value YAML cannot construct)


def _short(value: str, limit: int = 40) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "...")


try:  # libyaml's parser, when PyYAML was built with it: the same events, several times faster
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover - PyYAML without libyaml
    HAVE_LIBYAML = False
else:
    HAVE_LIBYAML = True

_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class _Bounded(Composer):
    """The composer (events to nodes) of PyYAML, refusing nesting deeper than ``max_depth``."""

    max_depth = MAX_DEPTH
    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        # The composer recurses once per level: stop long before Python's stack does.
        if self.check_event(yaml.AliasEvent):  # type: ignore[attr-defined]
            return super().compose_node(parent, index)
        self.depth += 1
        try:
            if self.depth > self.max_depth:
                mark = self.peek_event().start_mark  # type: ignore[attr-defined]
                raise YamlError(mark.line + 1, f"YAML nesting is deeper than {self.max_depth} levels")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _PyLoader(_Bounded, yaml.SafeLoader):
    def __init__(self, text: str, max_depth: int) -> None:
        yaml.SafeLoader.__init__(self, text)
        self.max_depth = max_depth


def _loader(text: str, max_depth: int) -> Any:
    """A loader of the text: libyaml's parser with PyYAML's composer (bounded), resolver and safe
    constructor, or PyYAML's own parser without libyaml."""
    if not (HAVE_LIBYAML and USE_LIBYAML):
        return _PyLoader(text, max_depth)
    return _CLoader(text, max_depth)


if HAVE_LIBYAML:

    class _CLoader(_Bounded, CParser, SafeConstructor, Resolver):
        def __init__(self, text: str, max_depth: int) -> None:
            CParser.__init__(self, text)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self.max_depth = max_depth


class _Builder:
    """Turns the node graph into plain data (dicts, lists, scalars), recording the line of each path."""

    def __init__(self, loader: Any, max_depth: int, max_aliased: int) -> None:
        self.loader = loader
        self.max_depth = max_depth
        self.max_aliased = max_aliased
        self.lines: dict[Path, int] = {}
        self.seen: set[int] = set()  # nodes built once: building one again is an alias expanding
        self.open: set[int] = set()  # collections being built (an alias to one of them is a cycle)
        self.aliased = 0

    def charge(self, node: yaml.Node, path: Path) -> None:
        self.aliased += 1
        if self.aliased > self.max_aliased:
            raise YamlError(
                node.start_mark.line + 1,
                f"YAML aliases expand to more than {self.max_aliased} values; write the values out "
                "or share fewer (an alias bomb is refused)",
                path,
            )

    def scalar(self, node: yaml.Node, path: Path) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever a constructor raises on a bad value is the user's input
            # e.g. 2024-02-30 (a date that does not exist), !!bool maybe, an integer of more than 4300 digits
            what = "date" if node.tag == _TIMESTAMP else "value"
            raise YamlError(
                node.start_mark.line + 1, f"invalid {what} {_short(str(node.value))}: {exc}", path
            ) from None

    def key(self, key_node: yaml.Node, path: Path) -> str:
        if not isinstance(key_node, yaml.ScalarNode):
            raise YamlError(key_node.start_mark.line + 1, "a key must be a plain value, not a list or a mapping", path)
        if key_node.tag == _VALUE:
            return str(key_node.value)
        key = self.scalar(key_node, path)
        if isinstance(key, str):
            return key
        if isinstance(key, int) and not isinstance(key, bool) and key.bit_length() > 64:
            return str(key_node.value)  # str() of a huge integer can fail; its text is the key
        return str(key)

    def pairs(self, node: yaml.MappingNode, path: Path, chain: tuple[int, ...] = ()) -> list[Any]:
        """The mapping's own pairs, then the pairs merge keys (``<<``) bring in, earlier sources first."""
        if len(chain) > self.max_depth:
            raise YamlError(node.start_mark.line + 1, f"merge keys (<<) nest deeper than {self.max_depth} levels", path)
        own: list[Any] = []
        merged: list[Any] = []
        for key_node, merge_node in node.value:
            if key_node.tag != _MERGE:
                own.append((key_node, merge_node))
                continue
            sources = merge_node.value if isinstance(merge_node, yaml.SequenceNode) else [merge_node]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    raise YamlError(
                        source.start_mark.line + 1, "a merge key (<<) takes a mapping or a list of mappings", path
                    )
                if id(source) in chain or id(source) in self.open:
                    raise YamlError(
                        source.start_mark.line + 1, "a merge key (<<) refers to a mapping that contains it", path
                    )
                for key_node, value_node, _ in self.pairs(source, path, chain + (id(node),)):
                    self.charge(value_node, path)
                    merged.append((key_node, value_node))
        return [(k, v, False) for k, v in own] + [(k, v, True) for k, v in merged]

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in self.seen:
            self.charge(node, path)
        self.seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if id(node) in self.open:
            raise YamlError(node.start_mark.line + 1, "an alias refers to a collection that contains it", path)
        if len(path) >= self.max_depth:
            raise YamlError(node.start_mark.line + 1, f"YAML nesting is deeper than {self.max_depth} levels", path)
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
            assert isinstance(node, yaml.MappingNode)
            out: dict[str, Any] = {}
            explicit: set[str] = set()
            for key_node, value_node, merged in self.pairs(node, path):
                key = self.key(key_node, path)
                if merged:
                    if key in out:
                        continue  # a key of the mapping itself, or of an earlier merged one, wins
                elif key in explicit:
                    raise YamlError(key_node.start_mark.line + 1, f"duplicate key {_short(key, 80)}", path)
                else:
                    explicit.add(key)
                self.lines[path + (key,)] = key_node.start_mark.line + 1
                out[key] = self.build(value_node, path + (key,))
            return out
        finally:
            self.open.discard(id(node))


def load_with_lines(
    text: str, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH, max_aliased: int = MAX_ALIASED
) -> tuple[Any, dict[Path, int]]:
    """Parse one YAML document; returns (data, {path: line}) with 1-based lines.

    Raises only ``YamlError``, whatever the text."""
    if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise YamlError(0, f"YAML text is larger than {_size(max_bytes)}")
    bad = _NON_PRINTABLE.search(text)
    if bad is not None:
        char = ord(bad.group())
        name = " (a NUL byte)" if char == 0 else ""
        line = text.count("\n", 0, bad.start()) + 1
        raise YamlError(line, f"control character U+{char:04X}{name} is not allowed in YAML", syntax=True)
    loader: Any = None
    try:
        loader = _loader(text, max_depth)
        node = loader.get_single_node()
        if node is None:
            return None, {}
        builder = _Builder(loader, max_depth, max_aliased)
        return builder.build(node, ()), builder.lines
    except ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        char = exc.character if isinstance(exc.character, int) else 0
        name = " (a NUL byte)" if char == 0 else ""
        raise YamlError(line, f"control character U+{char:04X}{name} is not allowed in YAML", syntax=True) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        if "maximum nesting depth" in str(exc.problem):  # libyaml's own bound (1000), met while reading ahead
            raise YamlError(line, f"YAML nesting is deeper than {max_depth} levels") from None
        raise YamlError(line, f"YAML syntax: {exc.problem or exc}", syntax=True) from None
    except yaml.YAMLError as exc:
        raise YamlError(0, f"YAML: {exc}", syntax=True) from None
    except YamlError:
        raise
    except RecursionError:
        raise YamlError(0, f"YAML nesting is deeper than this loader can follow (limit {max_depth})") from None
    except Exception as exc:  # noqa: BLE001 - a loader bug must still read as one line, not a traceback
        raise YamlError(0, f"YAML could not be loaded (internal error: {type(exc).__name__}: {exc})") from None
    finally:
        if loader is not None:
            loader.dispose()


def _size(n: int) -> str:
    return f"{n // (1024 * 1024)} MiB" if n % (1024 * 1024) == 0 else f"{n} bytes"
