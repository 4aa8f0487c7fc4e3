"""Mappings: the common control set and the frameworks it serves (data in mappings/).

Minimal loader for the spine; the control-framework work extends it (schema validation, status rules,
manual evidence). Interface used by the rest of the agent:

    m = load_mappings()
    m.tags_for(check_id, scope) -> ("SOC2:CC6.1", "ISO27001:A.8.5", ...)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = ["Mappings", "load_mappings"]


def mappings_dir() -> Path:
    return Path(str(resources.files("mappings")))


@dataclass
class Mappings:
    controls: dict[str, dict[str, Any]] = field(default_factory=dict)
    frameworks: dict[str, dict[str, Any]] = field(default_factory=dict)
    _tags: dict[tuple[str, tuple[str, ...], tuple[str, ...]], tuple[str, ...]] = field(default_factory=dict)

    def tags_for(self, check_id: str, frameworks: tuple[str, ...] = ("soc2",),
                 categories: tuple[str, ...] = ("security",)) -> tuple[str, ...]:
        key = (check_id, frameworks, categories)
        if key not in self._tags:
            controls = {cid for cid, c in self.controls.items() if check_id in c.get("checks", [])}
            tags: list[str] = []
            for fid in frameworks:
                fw = self.frameworks.get(fid)
                if fw is None:
                    continue
                for req in fw.get("requirements", []):
                    if fid == "soc2" and req.get("category", "security") not in categories:
                        continue
                    if controls.intersection(req.get("controls", [])):
                        tags.append(f"{fw['framework']['prefix']}:{req['id']}")
            self._tags[key] = tuple(sorted(set(tags)))
        return self._tags[key]


def load_mappings(directory: Path | None = None) -> Mappings:
    base = directory or mappings_dir()
    m = Mappings()
    controls_file = base / "controls.yaml"
    if controls_file.exists():
        for c in (yaml.safe_load(controls_file.read_text()) or {}).get("controls", []):
            m.controls[c["id"]] = c
    for f in sorted((base / "frameworks").glob("*.yaml")) if (base / "frameworks").exists() else []:
        doc = yaml.safe_load(f.read_text()) or {}
        m.frameworks[doc["framework"]["id"]] = doc
    return m
