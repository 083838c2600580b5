"""Script planners for VideoStudio (Sec. 3.1): a suite item -> a :class:`~.script.Script`.

* :class:`SuitePlanner` (offline, no language model): the suite's structured fields are the script. Each
  scene keeps its prompt; its characters are its foreground entities (described by their appearance text);
  the item's ``global_prompt`` is the shared background; camera moves come from ``item.meta["camera"]`` (one
  per scene, e.g. ``"moving left, slow"``) or are static. This is how Mask²DiT ran VideoStudio for its
  Table 1 ("we skip the script planning stage ... and directly use our test set").
* :class:`ChatPlanner`: a chat language model (any callable ``chat(messages, seed) -> str``;
  :class:`TransformersChat` runs a local transformers model) writes the script in rounds, as the paper does
  with ChatGLM3-6B: (1) scenes with their prompt, entities and background, for the item's given scene
  prompts; (2) a camera move per scene; (3) for each common entity, the aspects to describe, then the
  description itself. The replies are JSON, checked after every round; a malformed round is asked again
  (up to ``attempts`` times, with a new sampling seed each time, as the paper re-runs the stage), and if it
  never comes right the item falls back to the offline plan, with a warning.

The instructions are mvbench's own wording of the paper's requirements (single action per scene prompt,
same entity names across scenes, the closed camera vocabulary), not the paper's prompt text.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import torch

from .script import DIRECTIONS, SPEEDS, CameraMove, Entity, SceneScript, Script

log = logging.getLogger(__name__)

Message = dict[str, str]
ChatFn = Callable[[Sequence[Message], int | None], str]


class Planner(Protocol):
    name: str

    def plan(self, item) -> Script: ...


class SuitePlanner:
    """The offline planner: the script straight from the suite's fields (see the module docstring).

    >>> from mvbench.suite import parse_suite
    >>> item = parse_suite({"suite": "s", "version": "1", "items": [{"id": "a", "global_prompt": "a harbor",
    ...     "characters": {"Ann": "red coat"}, "scenes": [{"prompt": "Ann waves", "characters": ["Ann"]},
    ...     {"prompt": "Ann sails", "characters": ["Ann"]}]}]}).items[0]
    >>> script = SuitePlanner().plan(item)
    >>> script.scenes[1].foreground, script.entities["Ann"].description, script.common_entities()
    (('Ann',), 'red coat', ['Ann', 'background'])
    """

    name = "suite"

    def plan(self, item) -> Script:
        entities: dict[str, Entity] = {name: Entity(name, c.appearance or name, "foreground")
                                       for name, c in item.characters.items()}
        background = None
        if item.global_prompt:
            background = "background"
            entities[background] = Entity(background, item.global_prompt, "background")
        cameras = _meta_cameras(item)
        scenes = tuple(SceneScript(s.prompt, tuple(s.characters), background, cameras[k])
                       for k, s in enumerate(item.scenes))
        return Script(scenes, entities, self.name)


def _meta_cameras(item) -> list[CameraMove]:
    raw = (item.meta or {}).get("camera")
    if raw is None:
        return [CameraMove("static")] * len(item.scenes)
    if not isinstance(raw, list) or len(raw) != len(item.scenes):
        raise ValueError(f"item {item.id!r}: meta.camera must list one camera move per scene ({len(item.scenes)})")
    return [CameraMove.parse(str(text)) for text in raw]


# -- the chat planner ---------------------------------------------------------------------------------

SYSTEM = ("You plan multi-scene videos. Answer with JSON only, no other text. Keep the same name for the same "
          "person, object or place in every scene.")


def script_request(item) -> str:
    """Round 1: the scene list, entities and background for the item's given scene prompts."""
    scenes = "\n".join(f"{k}. {scene.prompt}" for k, scene in enumerate(item.scenes, 1))
    context = f"The whole video: {item.global_prompt}\n" if item.global_prompt else ""
    return (f"{context}A video has exactly {len(item.scenes)} scenes, given in order:\n{scenes}\n"
            "For each scene write a prompt that shows one single action and names every object and the place, "
            "list its foreground entities (people or objects) by short names, and name its background place. "
            'Reply as {"scenes": [{"prompt": "...", "entities": ["..."], "background": "..."}, ...]} with exactly '
            f"{len(item.scenes)} scenes.")


def camera_request(prompts: Sequence[str]) -> str:
    """Round 2: one camera move per scene from the closed vocabulary."""
    listing = "\n".join(f"{k}. {p}" for k, p in enumerate(prompts, 1))
    return (f"Choose a camera movement for each of these {len(prompts)} video clips:\n{listing}\n"
            f"Direction is one of {', '.join(DIRECTIONS)}; speed is one of {', '.join(SPEEDS)}; vary them. "
            'Reply as {"camera": [{"direction": "...", "speed": "..."}, ...]} with one entry per clip.')


def aspects_request(entity: str) -> str:
    """Round 3a (per common entity): the aspects a detailed photo description should cover."""
    return (f"List the aspects to consider when describing a photo of {entity} in detail (appearance, colours, "
            'materials, lighting, composition, ...). Reply as {"aspects": ["...", ...]}.')


def description_request(entity: str, context: str) -> str:
    """Round 3b: the description itself, covering those aspects and keeping the video's key details."""
    return (f"Using those aspects, describe in one concise paragraph a photo of {entity} as it appears in this "
            f'video: "{context}". State only definite details. Reply as {{"description": "..."}}.')


def extract_json(text: str) -> dict:
    """The first JSON object in a reply (code fences and chatter around it are ignored).

    >>> extract_json('Sure! ```json\\n{"a": [1, 2]}\\n``` done')
    {'a': [1, 2]}
    """
    start = text.find("{")
    while start != -1:
        depth, in_string, escape = 0, False, False
        for end in range(start, len(text)):
            ch = text[end]
            if in_string:
                if escape:
                    escape = False
                elif ch == "\\":
                    escape = True
                elif ch == '"':
                    in_string = False
                continue
            if ch == '"':
                in_string = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    try:
                        value = json.loads(text[start:end + 1])
                    except json.JSONDecodeError:
                        break
                    if isinstance(value, dict):
                        return value
                    break
        start = text.find("{", start + 1)
    raise ValueError(f"no JSON object in the reply: {text[:120]!r}")


class PlanningError(ValueError):
    """A reply that does not follow the requested format."""


def _parse_scenes(reply: str, count: int) -> list[dict]:
    scenes = extract_json(reply).get("scenes")
    if not isinstance(scenes, list) or len(scenes) != count:
        raise PlanningError(f"expected {count} scenes, got {scenes!r:.80}")
    out = []
    for k, scene in enumerate(scenes, 1):
        if not isinstance(scene, dict) or not isinstance(scene.get("prompt"), str) or not scene["prompt"].strip():
            raise PlanningError(f"scene {k} has no prompt")
        entities = scene.get("entities", [])
        if not isinstance(entities, list) or not all(isinstance(e, str) and e.strip() for e in entities):
            raise PlanningError(f"scene {k}: entities must be a list of names")
        background = scene.get("background")
        if background is not None and (not isinstance(background, str) or not background.strip()):
            raise PlanningError(f"scene {k}: background must be a name")
        out.append({"prompt": scene["prompt"].strip(), "entities": [e.strip() for e in entities],
                    "background": background.strip() if background else None})
    return out


def _parse_cameras(reply: str, count: int) -> list[CameraMove]:
    cameras = extract_json(reply).get("camera")
    if not isinstance(cameras, list) or len(cameras) != count:
        raise PlanningError(f"expected {count} camera moves, got {cameras!r:.80}")
    moves = []
    for entry in cameras:
        try:
            if isinstance(entry, dict):
                moves.append(CameraMove.parse(f"{entry.get('direction', '')} {entry.get('speed', '')}"))
            else:
                moves.append(CameraMove.parse(str(entry)))
        except ValueError as error:
            raise PlanningError(str(error)) from error
    return moves


def _parse_field(reply: str, key: str, kind: type) -> object:
    value = extract_json(reply).get(key)
    if not isinstance(value, kind) or not value:
        raise PlanningError(f"expected a non-empty {kind.__name__} under {key!r}")
    return value


class ChatPlanner:
    """Plans with a chat model in rounds (see the module docstring); ``chat(messages, seed) -> reply``.

    ``attempts``: tries per round (seed None = greedy first, then seeds 1, 2, ...); ``min_scenes``: an entity
    is described when at least this many scenes use it (VideoStudio: common entities); ``fallback``: the
    planner used for an item whose rounds never parse (True: :class:`SuitePlanner`; None or False: raise).
    """

    name = "chat"

    def __init__(self, chat: ChatFn, attempts: int = 3, min_scenes: int = 2, fallback: Planner | bool | None = True):
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.chat, self.attempts, self.min_scenes = chat, attempts, min_scenes
        self.fallback = SuitePlanner() if fallback is True else (fallback or None)
        self.fallbacks = 0

    def _ask(self, history: list[Message], request: str, parse: Callable[[str], object]) -> object:
        last_error = None
        for attempt in range(self.attempts):
            messages = [*history, {"role": "user", "content": request}]
            reply = self.chat(messages, None if attempt == 0 else attempt)
            try:
                value = parse(reply)
            except (ValueError, PlanningError) as error:
                last_error = error
                log.info("planner reply %d did not parse (%s); asking again", attempt + 1, error)
                continue
            history.extend([{"role": "user", "content": request}, {"role": "assistant", "content": reply}])
            return value
        raise PlanningError(f"no valid reply after {self.attempts} attempts: {last_error}")

    def plan(self, item) -> Script:
        try:
            return self._plan(item)
        except PlanningError as error:
            if self.fallback is None:
                raise
            self.fallbacks += 1
            log.warning("item %s: the chat planner failed (%s); using the %s planner for it", item.id, error,
                        self.fallback.name)
            return self.fallback.plan(item)

    def _plan(self, item) -> Script:
        history: list[Message] = [{"role": "system", "content": SYSTEM}]
        scenes = self._ask(history, script_request(item), lambda r: _parse_scenes(r, len(item.scenes)))
        cameras = self._ask(history, camera_request([s["prompt"] for s in scenes]),
                            lambda r: _parse_cameras(r, len(scenes)))
        scripts = tuple(SceneScript(s["prompt"], tuple(s["entities"]), s["background"], cam)
                        for s, cam in zip(scenes, cameras))
        kinds = {name: "foreground" for s in scripts for name in s.foreground}
        kinds.update({s.background: "background" for s in scripts if s.background})
        draft = Script(scripts, {name: Entity(name, name, kind) for name, kind in kinds.items()}, self.name)
        context = item.global_prompt or " ".join(s.prompt for s in item.scenes)
        entities = dict(draft.entities)
        for name in draft.common_entities(self.min_scenes):
            dialogue: list[Message] = [{"role": "system", "content": SYSTEM}]
            self._ask(dialogue, aspects_request(name), lambda r: _parse_field(r, "aspects", list))
            text = self._ask(dialogue, description_request(name, context),
                             lambda r: _parse_field(r, "description", str))
            entities[name] = Entity(name, str(text).strip(), kinds[name])
        return Script(scripts, entities, self.name)


class TransformersChat:
    """``chat(messages, seed) -> reply`` with a local transformers chat model (its tokenizer's chat template).

    Greedy decoding when ``seed`` is None, sampling (temperature ``temperature``) seeded otherwise. Loaded on
    the first call from ``model_dir`` with ``local_files_only``.
    """

    def __init__(self, model_dir: str | Path, device: str = "cpu", dtype: torch.dtype | None = None,
                 max_new_tokens: int = 768, temperature: float = 0.7):
        self.model_dir = Path(model_dir).expanduser()
        if not (self.model_dir / "config.json").is_file():
            from mvbench.errors import MvbenchError

            raise MvbenchError(f"{self.model_dir} is not a transformers model folder (no config.json)",
                               hint="download a chat model (e.g. THUDM/chatglm3-6b or Qwen/Qwen2.5-7B-Instruct) with "
                                    "`huggingface-cli download NAME --local-dir DIR` and pass DIR as --planner-dir")
        self.device, self.dtype = device, dtype
        self.max_new_tokens, self.temperature = max_new_tokens, temperature
        self._model = self._tokenizer = None

    def _load(self) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self._tokenizer = AutoTokenizer.from_pretrained(str(self.model_dir), local_files_only=True)
        if not getattr(self._tokenizer, "chat_template", None):
            from mvbench.errors import MvbenchError

            raise MvbenchError(f"the tokenizer in {self.model_dir} has no chat template; the planner needs a chat "
                               "(instruction-tuned) model")
        self._model = AutoModelForCausalLM.from_pretrained(str(self.model_dir), local_files_only=True,
                                                           torch_dtype=self.dtype).to(self.device).eval()

    def __call__(self, messages: Sequence[Message], seed: int | None = None) -> str:
        if self._model is None:
            self._load()
        ids = self._tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, return_tensors="pt",
                                                  return_dict=True)
        ids = {k: v.to(self.device) for k, v in ids.items()}
        options = {"max_new_tokens": self.max_new_tokens, "do_sample": seed is not None,
                   "pad_token_id": self._tokenizer.pad_token_id or self._tokenizer.eos_token_id}
        if seed is not None:
            options["temperature"] = self.temperature
        with torch.random.fork_rng(devices=[] if str(self.device) == "cpu" else [torch.device(self.device)]):
            torch.manual_seed(seed or 0)
            with torch.no_grad():
                out = self._model.generate(**ids, **options)
        reply = self._tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
        return re.sub(r"\s+$", "", reply)
