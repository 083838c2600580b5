"""Suite files: versioned JSON prompt sets, loaded and validated with errors naming item and field.

Format (``"schema"`` optional, ``suite``/``version``/``items`` required)::

    {"suite": "mvbench-3scene", "version": "1.0", "description": "...",
     "items": [{"id": "001_harbor", "global_prompt": "...",
                "characters": {"Actor1": "a tall woman with ...",            # appearance text, or
                               "Actor2": {"appearance": "...", "portraits": ["banks/a2.jpg"]}},
                "scenes": [{"prompt": "...", "characters": ["Actor1"],
                            "frame_prompts": ["...", "..."],                  # optional
                            "frame_ranges": [[0, 40], [40, 81]],         # optional, with frame_prompts
                            "entities": ["woman", "red umbrella"]}]}]}       # optional (Scene Consistency)

A bundled suite is referred to by name (``mvbench-3scene``); any path to a JSON file works too.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from mvbench.errors import SuiteError

log = logging.getLogger(__name__)

_ITEM_ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


@dataclass(frozen=True)
class Character:
    name: str
    appearance: str = ""
    portraits: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scene:
    prompt: str
    characters: tuple[str, ...] = ()
    frame_prompts: tuple[str, ...] = ()
    frame_ranges: tuple[tuple[int, int], ...] = ()
    #: noun phrases of the entities visible in this scene (VideoStudio Scene Consistency); optional
    entities: tuple[str, ...] = ()


@dataclass(frozen=True)
class SuiteItem:
    id: str
    scenes: tuple[Scene, ...]
    global_prompt: str | None = None
    characters: dict[str, Character] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Suite:
    name: str
    version: str
    items: tuple[SuiteItem, ...]
    description: str = ""
    source: str = ""
    #: sha256 of the canonical JSON of the suite content (recorded in results files)
    content_hash: str = ""

    def item(self, item_id: str) -> SuiteItem:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    @property
    def ids(self) -> list[str]:
        return [it.id for it in self.items]


def bundled_suites() -> list[str]:
    folder = resources.files("mvbench").joinpath("data/suites")
    return sorted(p.name[: -len(".json")] for p in folder.iterdir() if p.name.endswith(".json"))


def _err(where: str, msg: str, hint: str | None = None) -> SuiteError:
    return SuiteError(f"{where}: {msg}", hint=hint)


def _text(value, where: str, field_name: str, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _err(where, f"field {field_name!r} must be a non-empty string, got {value!r}")
    return value


def _entities(value, where: str) -> tuple[str, ...]:
    """A scene's ``entities``: a list of distinct non-empty noun phrases (absent or null: none)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(e, str) and e.strip() for e in value):
        raise _err(where, f"field 'entities' must be a list of non-empty strings (noun phrases), got {value!r}")
    seen: set[str] = set()
    for e in value:
        key = " ".join(e.lower().split())
        if key in seen:
            raise _err(where, f"field 'entities' lists {e!r} twice")
        seen.add(key)
    return tuple(e.strip() for e in value)


def parse_suite(data: dict, source: str = "<memory>") -> Suite:
    """Validate a suite document and build a :class:`Suite`. Errors name file, item and field."""
    if not isinstance(data, dict):
        raise _err(source, "a suite must be a JSON object with 'suite', 'version' and 'items'")
    for key in ("suite", "version", "items"):
        if key not in data:
            raise _err(source, f"missing top-level field {key!r}")
    name = _text(data["suite"], source, "suite")
    version = str(data["version"])
    if not isinstance(data["items"], list) or not data["items"]:
        raise _err(source, "field 'items' must be a non-empty list")
    items: list[SuiteItem] = []
    seen: set[str] = set()
    for idx, raw in enumerate(data["items"]):
        where = f"{source}, item #{idx}"
        if not isinstance(raw, dict):
            raise _err(where, "each item must be a JSON object")
        item_id = raw.get("id")
        if not isinstance(item_id, str) or not item_id or not set(item_id) <= _ITEM_ID_CHARS or item_id in {".", ".."}:
            raise _err(where, f"field 'id' must be a non-empty string of letters, digits, '_', '-', '.', got {item_id!r}")
        where = f"{source}, item {item_id!r}"
        if item_id in seen:
            raise _err(where, "duplicate item id")
        seen.add(item_id)
        chars: dict[str, Character] = {}
        raw_chars = raw.get("characters", {}) or {}
        if not isinstance(raw_chars, dict):
            raise _err(where, "field 'characters' must map a name to appearance text or an object")
        for cname, cval in raw_chars.items():
            if isinstance(cval, str):
                chars[cname] = Character(cname, cval)
            elif isinstance(cval, dict):
                portraits = cval.get("portraits", []) or []
                if not isinstance(portraits, list) or not all(isinstance(p, str) for p in portraits):
                    raise _err(where, f"characters.{cname}.portraits must be a list of paths")
                chars[cname] = Character(cname, cval.get("appearance", "") or "", tuple(portraits))
            else:
                raise _err(where, f"characters.{cname} must be appearance text or an object")
        raw_scenes = raw.get("scenes")
        if not isinstance(raw_scenes, list) or not raw_scenes:
            raise _err(where, "field 'scenes' must be a non-empty list")
        scenes = []
        for k, sc in enumerate(raw_scenes, start=1):
            swhere = f"{where}, scene {k}"
            if not isinstance(sc, dict):
                raise _err(swhere, "each scene must be a JSON object with a 'prompt'")
            prompt = _text(sc.get("prompt"), swhere, "prompt")
            names = sc.get("characters", []) or []
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise _err(swhere, "field 'characters' must be a list of character names")
            unknown = [n for n in names if n not in chars]
            if unknown:
                raise _err(swhere, f"characters {unknown} are not declared in the item's 'characters'")
            fps = sc.get("frame_prompts", []) or []
            if not isinstance(fps, list) or not all(isinstance(p, str) and p.strip() for p in fps):
                raise _err(swhere, "field 'frame_prompts' must be a list of non-empty strings")
            franges = sc.get("frame_ranges", []) or []
            if franges:
                if len(franges) != len(fps):
                    raise _err(swhere, f"'frame_ranges' has {len(franges)} entries but 'frame_prompts' has {len(fps)}")
                for r in franges:
                    if not (isinstance(r, list) and len(r) == 2 and all(type(v) is int for v in r) and 0 <= r[0] < r[1]):
                        raise _err(swhere, f"each frame range must be [start, end) with 0 <= start < end, got {r!r}")
            entities = _entities(sc.get("entities"), swhere)
            scenes.append(Scene(prompt, tuple(names), tuple(fps), tuple(tuple(r) for r in franges), entities))
        gp = _text(raw.get("global_prompt"), where, "global_prompt", required=False)
        meta = raw.get("meta", {}) or {}
        items.append(SuiteItem(item_id, tuple(scenes), gp, chars, meta))
    canonical = json.dumps({"suite": name, "version": version, "items": data["items"]}, sort_keys=True,
                           ensure_ascii=False, separators=(",", ":"))
    return Suite(name, version, tuple(items), data.get("description", ""), source,
                 hashlib.sha256(canonical.encode("utf-8")).hexdigest())


#: file name that makes a folder a suite: ``--suite my_folder`` reads ``my_folder/suite.json``
SUITE_FILE_IN_FOLDER = "suite.json"


def _local_suite_file(path: Path) -> Path | None:
    """The suite file ``path`` stands for: the file itself, or ``path/suite.json`` for a folder."""
    if path.is_file():
        return path
    if path.is_dir() and (path / SUITE_FILE_IN_FOLDER).is_file():
        return path / SUITE_FILE_IN_FOLDER
    return None


def _looks_like_path(text: str) -> bool:
    return text.endswith(".json") or "/" in text or "\\" in text or text.startswith(".")


def load_suite(name_or_path: str | Path) -> Suite:
    """Load a bundled suite by name or a user suite by path.

    A bare name of a bundled suite (``mvbench-3scene``) always means the bundled suite, even when a file
    or folder of that name exists in the current folder (a warning says so; write ``./NAME`` for the
    local one). Anything else is a path: a JSON file, or a folder holding ``suite.json``.

    >>> load_suite("mvbench-demo").name
    'mvbench-demo'
    """
    text = str(name_or_path)
    path = Path(name_or_path)
    bundled = resources.files("mvbench").joinpath(f"data/suites/{text}.json")
    if not _looks_like_path(text) and bundled.is_file():
        if path.exists() and _local_suite_file(path) is not None:
            log.warning("%r is a bundled suite name and also a local %s; using the bundled suite "
                        "(write ./%s for the local one)", text, "folder" if path.is_dir() else "file", text)
        return _parse_text(bundled.read_text(encoding="utf-8"), f"{text} (bundled)")
    if path.exists() or _looks_like_path(text):
        local = _local_suite_file(path)
        if local is None:
            if path.is_dir():
                raise SuiteError(f"suite folder {path} holds no {SUITE_FILE_IN_FOLDER}",
                                 hint="pass the suite JSON file itself, or one of the bundled suites: "
                                      + ", ".join(bundled_suites()))
            raise SuiteError(f"suite file {path} does not exist",
                             hint="bundled suites: " + ", ".join(bundled_suites()))
        try:
            raw = local.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise SuiteError(f"suite file {local} is not UTF-8 text ({exc})") from exc
        except OSError as exc:
            raise SuiteError(f"cannot read suite file {local}: {exc.strerror or exc}") from exc
        return _parse_text(raw, str(local))
    raise SuiteError(f"unknown suite {text!r}",
                     hint="give a path to a suite JSON file or one of: " + ", ".join(bundled_suites()))


def _parse_text(text: str, source: str) -> Suite:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{source}: not valid JSON: {exc}") from exc
    return parse_suite(data, source)


def suite_to_dict(suite: Suite) -> dict:
    """Inverse of :func:`parse_suite` (used by loaders that build suites from other formats)."""
    items = []
    for it in suite.items:
        chars = {}
        for c in it.characters.values():
            chars[c.name] = {"appearance": c.appearance, "portraits": list(c.portraits)} if c.portraits else c.appearance
        scenes = []
        for s in it.scenes:
            d: dict = {"prompt": s.prompt, "characters": list(s.characters)}
            if s.frame_prompts:
                d["frame_prompts"] = list(s.frame_prompts)
            if s.frame_ranges:
                d["frame_ranges"] = [list(r) for r in s.frame_ranges]
            if s.entities:
                d["entities"] = list(s.entities)
            scenes.append(d)
        d = {"id": it.id, "characters": chars, "scenes": scenes}
        if it.global_prompt:
            d["global_prompt"] = it.global_prompt
        if it.meta:
            d["meta"] = it.meta
        items.append(d)
    return {"suite": suite.name, "version": suite.version, "description": suite.description, "items": items}
