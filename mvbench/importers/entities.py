"""Shared helpers of the importers: reading JSON the user supplies, and per-scene entity side files.

An entity side file gives the entities (noun phrases for Scene Consistency, see ``docs/suites.md``) of
imported items, keyed by item id::

    {"v_QOlSCBRmfWY": "man",                          # one target entity, in every scene
     "v_ehGHCYKzyZ8": ["woman", "horse"],             # several, in every scene
     "v_nwznKOuZM7w": [["man"], ["man", "ball"], []]} # per scene (one list per scene, in order)

Ids that are not items of the suite are ignored (a side file may cover a whole split while the suite
holds a sample of it).
"""

from __future__ import annotations

import json
from pathlib import Path

from mvbench.errors import SuiteError


def read_json(path: str | Path, what: str) -> object:
    """A JSON file as Python data (UTF-8, a byte-order mark accepted); errors name the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SuiteError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise SuiteError(f"{what} {path} is a folder, not a file") from None
    except UnicodeDecodeError as exc:
        raise SuiteError(f"{what} {path} is not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    except OSError as exc:
        raise SuiteError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{path}: not valid JSON ({exc})") from None


def _phrases(value, where: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SuiteError(f"{where}: expected a noun phrase or a list of noun phrases, got {value!r}")
    return [v.strip() for v in value]


def read_entity_file(path: str | Path) -> dict[str, list[str] | list[list[str]]]:
    """``{item id: [phrases]}`` (every scene) or ``{item id: [[phrases of scene 1], ...]}`` (per scene)."""
    data = read_json(path, "entity side file")
    if not isinstance(data, dict):
        raise SuiteError(f"{path}: an entity side file is a JSON object mapping item ids to entities",
                         hint='{"ITEM_ID": "man"} or {"ITEM_ID": ["man", "horse"]} or {"ITEM_ID": [["man"], []]}')
    out: dict[str, list] = {}
    for key, value in data.items():
        where = f"{path}, {key!r}"
        if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
            out[str(key)] = [_phrases(v, f"{where}, scene {k}") if v else [] for k, v in enumerate(value, start=1)]
        else:
            out[str(key)] = _phrases(value, where)
    return out


def apply_entities(doc: dict, entities: dict[str, list], source: str = "entity side file") -> int:
    """Set the scenes' ``entities`` of the items of suite document ``doc``; returns how many items got some."""
    n = 0
    for item in doc["items"]:
        value = entities.get(item["id"])
        if value is None:
            continue
        scenes = item["scenes"]
        if value and isinstance(value[0], list):
            if len(value) != len(scenes):
                raise SuiteError(f"{source}, {item['id']!r}: {len(value)} per-scene entity lists for "
                                 f"{len(scenes)} scenes")
            for scene, ents in zip(scenes, value):
                scene["entities"] = list(ents)
        else:
            for scene in scenes:
                scene["entities"] = list(value)
        n += 1
    return n
