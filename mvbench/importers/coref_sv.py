"""Coref-SV multi-scene stories (VideoDirectorGPT, Lin et al., 2023, App. F.3) -> a suite.

Coref-SV was built from Pororo-SV: 10 episodes (6.2 scenes on average), the first mention of a character
replaced by one of 10 real-world entities (dog, cat, person, ...) and its later mentions by pronouns, which
gives 100 stories (10 episodes x 10 entities). VideoStudio (Sec. 4.1, Table 5) scores it by CLIPSIM and
Scene Consistency with the chosen entity as the target object.

The Coref-SV prompts have not been published as a file (VideoDirectorGPT's code release does not include
them), so there is no official layout to follow. mvbench reads this JSON layout, which holds everything
the paper describes::

    {"stories": [
      {"id": "ep01-dog",                                   # optional; else EPISODE-ENTITY, else story-NNN
       "episode": "ep01",                                  # optional
       "entity": "dog",                                    # the target entity that replaced the character
       "scenes": ["dog is singing and dancing.", "its friends are applauding at it.", "..."],
       "oracle_scenes": ["dog is singing and dancing.", "dog's friends are applauding at dog.", "..."]}]}

(a top-level list of stories, or an object mapping story ids to stories, is read the same way).
``oracle_scenes`` is optional: the same scenes with the pronouns replaced by the entity, the "GT
co-reference" oracle setting of VideoDirectorGPT's Table 3; ``oracle=True`` uses them as prompts.
Every story becomes one item, every scene sentence one scene, and every scene lists the entity in its
``entities`` (the co-referent target whose consistency is measured).
"""

from __future__ import annotations

from pathlib import Path

from mvbench.errors import SuiteError
from mvbench.importers.entities import read_json
from mvbench.suite import parse_suite

_ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


def _safe_id(text: str) -> str:
    """``text`` in suite-id characters (others become ``_``).

    >>> _safe_id("ep 01/dog")
    'ep_01_dog'
    """
    return "".join(c if c in _ID_CHARS else "_" for c in text.strip())


def _sentences(value, where: str, field: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(s, str) and s.strip() for s in value):
        raise SuiteError(f"{where}: {field!r} must be a non-empty list of non-empty sentences")
    return [s.strip() for s in value]


def read_coref_sv(path: str | Path) -> list[dict]:
    """The stories of a Coref-SV file: ``{"id", "episode", "entity", "scenes", "oracle_scenes"}`` each."""
    data = read_json(path, "Coref-SV file")
    if isinstance(data, dict) and "stories" in data:
        data = data["stories"]
    if isinstance(data, dict):
        raw = [dict(v, id=v.get("id", k)) if isinstance(v, dict) else v for k, v in data.items()]
    elif isinstance(data, list):
        raw = data
    else:
        raw = None
    if not raw:
        raise SuiteError(f"{path}: a Coref-SV file holds a non-empty list of stories",
                         hint='{"stories": [{"entity": "dog", "scenes": ["...", "..."]}]}')
    stories = []
    for k, story in enumerate(raw):
        where = f"{path}, story #{k}"
        if not isinstance(story, dict):
            raise SuiteError(f"{where}: each story is an object with 'entity' and 'scenes'")
        entity = story.get("entity")
        if not isinstance(entity, str) or not entity.strip():
            raise SuiteError(f"{where}: 'entity' must be the target entity's name (non-empty text)")
        scenes = _sentences(story.get("scenes"), where, "scenes")
        oracle = story.get("oracle_scenes")
        if oracle is not None:
            oracle = _sentences(oracle, where, "oracle_scenes")
            if len(oracle) != len(scenes):
                raise SuiteError(f"{where}: 'oracle_scenes' has {len(oracle)} sentences, 'scenes' has {len(scenes)}")
        episode = story.get("episode")
        sid = story.get("id")
        if sid is None:
            sid = f"{episode}-{entity.strip()}" if episode is not None else f"story-{k:03d}"
        stories.append({"id": _safe_id(str(sid)), "episode": episode, "entity": entity.strip(), "scenes": scenes,
                        "oracle_scenes": oracle})
    seen: set[str] = set()
    for s in stories:
        if s["id"] in seen:
            raise SuiteError(f"{path}: story id {s['id']!r} appears twice", hint="give each story a distinct 'id'")
        seen.add(s["id"])
    return stories


def load_coref_sv(path: str | Path, *, name: str | None = None, oracle: bool = False) -> dict:
    """A validated suite document from a Coref-SV file (see the module docstring)."""
    stories = read_coref_sv(path)
    items = []
    for s in stories:
        prompts = s["scenes"]
        if oracle:
            if s["oracle_scenes"] is None:
                raise SuiteError(f"{path}, story {s['id']!r}: no 'oracle_scenes' for the oracle setting")
            prompts = s["oracle_scenes"]
        meta = {"source": "Coref-SV", "entity": s["entity"], "prompts": "oracle" if oracle else "co-reference"}
        if s["episode"] is not None:
            meta["episode"] = s["episode"]
        items.append({"id": s["id"], "scenes": [{"prompt": p, "entities": [s["entity"]]} for p in prompts],
                      "meta": meta})
    doc = {"suite": name or ("coref-sv-oracle" if oracle else "coref-sv"), "version": "1",
           "description": f"Coref-SV stories ({len(items)}) from {Path(path).name}"
                          + (" with pronouns resolved (oracle)" if oracle else "") + ", imported by mvbench import coref-sv",
           "items": items}
    parse_suite(doc, source=str(path))
    return doc
