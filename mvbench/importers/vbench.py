"""Read a VBench-2.0 prompt file (supplied by the user) into an mvbench suite.

VBench-2.0 publishes its prompts in three shapes, all accepted here:

* plain text, one prompt per line (``prompts/prompt/Complex_Plot.txt``, the augmented
  ``prompt_aug/...`` lists, ``VBench2_full_text.txt``); blank lines are skipped. Files are read as
  UTF-8 (a byte-order mark is dropped; CRLF line ends work). The dimension is
  ``--dimension`` or else the file name (``Complex_Plot``).
* a per-dimension meta file, a JSON list of ``{"prompt_en", "dimension", "auxiliary_info"}``
  (``prompts/meta_info/Complex_Plot.json``).
* the combined info file, a JSON object ``{name: {"caption", "dimension": [...]}}``
  (``VBench2_full_text_info.json``); ``dimension`` filters it.

Every prompt becomes one single-scene item whose scene prompt and global prompt are the VBench
prompt. Item ids are ``<Dimension>-<index>`` with the 0-based index of the prompt in the file
(after dimension filtering), zero-padded to 3 digits (``Complex_Plot-007``); ``meta`` keeps the
dimension(s), the index and ``video_name``, the first 180 characters VBench-2.0 uses to name the
videos (``{video_name}-{seed_index}.mp4``).

Frame-level prompts are not part of VBench-2.0. They come from a side file::

    {"schema": "mvbench.frame_prompts/1",
     "items": {"0": ["frame prompt 1", "frame prompt 2", "..."],
               "Complex_Plot-003": {"frame_prompts": ["...", "..."], "frame_ranges": [[0, 40], [40, 81]]}}}

A key is a prompt index (as a string) or an item id; a value is the list of frame prompts or an
object with ``frame_prompts`` and optional ``frame_ranges`` (``[start, end)`` frame indices).
Optionally, ``auxiliary_info`` lists of strings in a meta file (the per-stage sentences of Complex
Plot / Complex Landscape) can be used as frame prompts (``aux_as_frame_prompts``); the side file wins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mvbench.errors import SuiteError
from mvbench.suite import Suite, parse_suite

SIDE_FILE_SCHEMA = "mvbench.frame_prompts/1"
#: VBench-2.0 names a video by the first 180 characters of its prompt
VBENCH_NAME_CHARS = 180


@dataclass(frozen=True)
class VBenchPrompt:
    text: str
    dimensions: tuple[str, ...]
    auxiliary: tuple[str, ...] = ()


def _read_text(path: Path, what: str) -> str:
    """The file as text (UTF-8, a leading byte-order mark dropped); errors name the file."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SuiteError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise SuiteError(f"{what} {path} is a folder, not a file",
                         hint="pass the prompt file itself, e.g. prompts/prompt/Complex_Plot.txt") from None
    except UnicodeDecodeError as exc:
        raise SuiteError(f"{what} {path} is not UTF-8 text (byte {exc.start}: {exc.reason})",
                         hint="re-save it as UTF-8") from None
    except OSError as exc:
        raise SuiteError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def _read_json(path: Path, what: str = "file") -> object:
    text = _read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{path}: not valid JSON ({exc})") from exc


def _as_dimensions(value, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise SuiteError(f"{where}: 'dimension' must be a string or a list of strings, got {value!r}")


def _strings(value) -> tuple[str, ...]:
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(v.strip() for v in value)
    return ()


def read_vbench_prompts(path: str | Path, dimension: str | None = None) -> list[VBenchPrompt]:
    """The prompts of a VBench-2.0 prompt file (txt, meta-info JSON list or full-text info JSON)."""
    path = Path(path)
    if path.suffix.lower() != ".json":
        lines = _read_text(path, "VBench prompt file").splitlines()
        dims = (dimension or path.stem,)
        prompts = [VBenchPrompt(line.strip(), dims) for line in lines if line.strip()]
    else:
        data = _read_json(path, "VBench prompt file")
        prompts = []
        if isinstance(data, list):
            for k, entry in enumerate(data):
                where = f"{path}, entry #{k}"
                if not isinstance(entry, dict):
                    raise SuiteError(f"{where}: expected an object with 'prompt_en'")
                text = entry.get("prompt_en") or entry.get("prompt") or entry.get("caption")
                if not isinstance(text, str) or not text.strip():
                    raise SuiteError(f"{where}: no prompt text ('prompt_en')")
                dims = _as_dimensions(entry.get("dimension", dimension or path.stem), where)
                prompts.append(VBenchPrompt(text.strip(), dims, _strings(entry.get("auxiliary_info"))))
        elif isinstance(data, dict):
            for key, entry in data.items():
                where = f"{path}, entry {key[:40]!r}"
                if not isinstance(entry, dict) or not isinstance(entry.get("caption", key), str):
                    raise SuiteError(f"{where}: expected an object with 'caption' and 'dimension'")
                text = entry.get("caption", key).strip()
                dims = _as_dimensions(entry.get("dimension", []), where)
                prompts.append(VBenchPrompt(text, dims, _strings(entry.get("auxiliary_info"))))
        else:
            raise SuiteError(f"{path}: expected a JSON list (meta info) or object (full-text info)")
        if dimension:
            prompts = [p for p in prompts if dimension in p.dimensions]
    if not prompts:
        which = f" for dimension {dimension!r}" if dimension else ""
        raise SuiteError(f"{path}: no prompts found{which}")
    return prompts


def read_side_file(path: str | Path) -> dict[str, dict]:
    """Frame prompts by key (index string or item id) -> ``{"frame_prompts", "frame_ranges"?}``."""
    path = Path(path)
    data = _read_json(path, "frame-prompt side file")
    if not isinstance(data, dict) or not isinstance(data.get("items"), dict):
        raise SuiteError(f"{path}: a frame-prompt side file is an object with an 'items' object",
                         hint=f'{{"schema": "{SIDE_FILE_SCHEMA}", "items": {{"0": ["...", "..."]}}}}')
    if data.get("schema", SIDE_FILE_SCHEMA) != SIDE_FILE_SCHEMA:
        raise SuiteError(f"{path}: unknown schema {data.get('schema')!r}, expected {SIDE_FILE_SCHEMA!r}")
    out: dict[str, dict] = {}
    for key, value in data["items"].items():
        where = f"{path}, items[{key!r}]"
        entry = {"frame_prompts": value} if isinstance(value, list) else value
        if not isinstance(entry, dict) or not _strings(entry.get("frame_prompts")):
            raise SuiteError(f"{where}: expected a non-empty list of frame prompts or an object with 'frame_prompts'")
        clean = {"frame_prompts": list(_strings(entry["frame_prompts"]))}
        if entry.get("frame_ranges"):
            clean["frame_ranges"] = entry["frame_ranges"]
        out[str(key)] = clean
    return out


def _dimension_tag(prompts: list[VBenchPrompt], dimension: str | None) -> str:
    if dimension:
        return dimension
    dims = {d for p in prompts for d in p.dimensions}
    return dims.pop() if len(dims) == 1 else "vbench2"


def vbench_suite_dict(prompts: list[VBenchPrompt], name: str, dimension: str | None = None,
                      side: dict[str, dict] | None = None, aux_as_frame_prompts: bool = False,
                      side_source: str = "side file") -> dict:
    """The suite document for ``prompts`` (see the module docstring for ids and frame prompts)."""
    tag = "".join(c if c.isalnum() or c in "_-." else "_" for c in _dimension_tag(prompts, dimension))
    side = dict(side or {})
    items = []
    for idx, p in enumerate(prompts):
        item_id = f"{tag}-{idx:03d}"
        scene: dict = {"prompt": p.text}
        if aux_as_frame_prompts and p.auxiliary:
            scene["frame_prompts"] = list(p.auxiliary)
        for key in (str(idx), item_id):
            if key in side:
                scene.update(side.pop(key))
        items.append({"id": item_id, "global_prompt": p.text, "scenes": [scene],
                      "meta": {"source": "VBench-2.0", "dimensions": list(p.dimensions), "index": idx,
                               "video_name": p.text[:VBENCH_NAME_CHARS]}})
    if side:
        raise SuiteError(f"{side_source}: keys {sorted(side)[:10]} match no prompt index (0-{len(prompts) - 1}) "
                         f"or item id (e.g. {items[0]['id']!r})")
    return {"suite": name, "version": "vbench2",
            "description": f"VBench-2.0 prompts ({tag}), imported by mvbench import vbench", "items": items}


def load_vbench_suite(path: str | Path, dimension: str | None = None, frame_prompts: str | Path | None = None,
                      aux_as_frame_prompts: bool = False, name: str | None = None) -> Suite:
    """A validated :class:`Suite` from a VBench-2.0 prompt file and an optional frame-prompt side file."""
    prompts = read_vbench_prompts(path, dimension)
    side = read_side_file(frame_prompts) if frame_prompts else None
    tag = _dimension_tag(prompts, dimension)
    doc = vbench_suite_dict(prompts, name or f"vbench2-{tag.lower().replace('_', '-')}", dimension, side,
                            aux_as_frame_prompts, str(frame_prompts))
    return parse_suite(doc, source=str(path))
