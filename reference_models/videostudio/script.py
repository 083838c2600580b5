"""The multi-scene script of VideoStudio (Sec. 3.1, Eq. 1): per scene a prompt, foreground entities, a
background and a camera move; plus a description of every entity for its reference image (Sec. 3.2).

Camera moves come from the paper's closed set: directions {static, left, right, up, down, forward,
backward} (the supplement's LLM prompt words them "moving left", "zoom in", "zoom out", ...) and speeds
{slow, medium, fast}.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DIRECTIONS = ("static", "left", "right", "up", "down", "forward", "backward")
SPEEDS = ("slow", "medium", "fast")
_DIRECTION_WORDS = {"zoom in": "forward", "zoom out": "backward", "zoom-in": "forward", "zoom-out": "backward",
                    "push in": "forward", "pull out": "backward", "dolly in": "forward", "dolly out": "backward",
                    "pan left": "left", "pan right": "right", "tilt up": "up", "tilt down": "down",
                    "still": "static", "fixed": "static", "none": "static"}


@dataclass(frozen=True)
class CameraMove:
    """A camera move of the closed set: ``direction`` in ``DIRECTIONS``, ``speed`` in ``SPEEDS``."""

    direction: str = "static"
    speed: str = "medium"

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS or self.speed not in SPEEDS:
            raise ValueError(f"camera move must be one of {DIRECTIONS} at one of {SPEEDS}, got "
                             f"{self.direction!r}, {self.speed!r}")

    def __str__(self) -> str:
        return self.direction if self.direction == "static" else f"{self.direction}, {self.speed}"

    @classmethod
    def parse(cls, text: str) -> CameraMove:
        """``"moving left, fast"``, ``"zoom in (slow)"``, ``"static"``, ``"right medium"`` -> a move.

        >>> CameraMove.parse("Zoom in, slow"), CameraMove.parse("moving right, fast")
        (CameraMove(direction='forward', speed='slow'), CameraMove(direction='right', speed='fast'))
        """
        words = re.sub(r"[^a-z -]+", " ", text.lower()).strip()
        speed = next((s for s in SPEEDS if re.search(rf"\b{s}\b", words)), "medium")
        direction = None
        for phrase, mapped in _DIRECTION_WORDS.items():
            if phrase in words:
                direction = mapped
                break
        if direction is None:
            direction = next((d for d in DIRECTIONS if re.search(rf"\b{d}\b", words)), None)
        if direction is None:
            raise ValueError(f"cannot read a camera move from {text!r}; use one of {', '.join(DIRECTIONS)} "
                             f"and a speed ({', '.join(SPEEDS)})")
        return cls(direction, speed)


@dataclass(frozen=True)
class Entity:
    """A common entity: ``kind`` is ``"foreground"`` (object or person) or ``"background"`` (a place)."""

    name: str
    description: str
    kind: str = "foreground"

    def __post_init__(self) -> None:
        if self.kind not in ("foreground", "background"):
            raise ValueError(f"entity kind must be foreground or background, got {self.kind!r}")


@dataclass(frozen=True)
class SceneScript:
    """One scene of the script (Eq. 1): prompt, foreground entity names, background entity name, camera."""

    prompt: str
    foreground: tuple[str, ...] = ()
    background: str | None = None
    camera: CameraMove = field(default_factory=CameraMove)


@dataclass(frozen=True)
class Script:
    """The scenes and the entity descriptions; ``source`` says which planner wrote it."""

    scenes: tuple[SceneScript, ...]
    entities: dict[str, Entity]
    source: str = ""

    def common_entities(self, min_scenes: int = 2) -> list[str]:
        """Entities named by at least ``min_scenes`` scenes (VideoStudio's "common entities"), in first-use order.

        >>> s = Script((SceneScript("a", ("cat",), "yard"), SceneScript("b", ("cat", "dog"), "yard")),
        ...            {n: Entity(n, n) for n in ("cat", "dog", "yard")})
        >>> s.common_entities(), s.common_entities(1)
        (['cat', 'yard'], ['cat', 'yard', 'dog'])
        """
        counts: dict[str, int] = {}
        for scene in self.scenes:
            for name in dict.fromkeys((*scene.foreground, *((scene.background,) if scene.background else ()))):
                counts[name] = counts.get(name, 0) + 1
        return [name for name, c in counts.items() if c >= min_scenes and name in self.entities]
