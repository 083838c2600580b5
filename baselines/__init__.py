"""Generation baselines: turn an mvbench suite into a submission folder with a reference model.

``create_baseline(name, model_dir, **options)`` builds one of ``BASELINES`` over a local diffusers folder;
``generate_submission(baseline, suite, out_dir)`` writes ``ITEM_ID/scene_K.mp4`` (or ``ITEM_ID.mp4`` with
scene boundaries) + ``submission.json``. Importing this package needs only torch; diffusers and transformers
(``pip install -e ".[models]"``) are imported when the models are loaded. See docs/baselines.md.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from mvbench.errors import MvbenchError

from .base import Baseline, ItemVideo
from .cogvideox_concat import CogVideoXConcat
from .generate import GenerationSummary, generate_submission
from .long_video import FIFOLongVideo, PMWDLongVideo, SlidingLongVideo
from .mask2dit_joint import Mask2DiTJoint
from .options import GenerationOptions, item_seed
from .videostudio import VideoStudio

#: name -> baseline class, in the order ``mvbench generate --help`` lists them
BASELINES: dict[str, type[Baseline]] = {cls.name: cls for cls in (
    CogVideoXConcat, Mask2DiTJoint, PMWDLongVideo, SlidingLongVideo, FIFOLongVideo, VideoStudio)}

_GENERATION_FIELDS = {f.name for f in fields(GenerationOptions)}


def create_baseline(name: str, model_dir: str | Path, **options) -> Baseline:
    """Build baseline ``name`` over ``model_dir``.

    ``options``: ``GenerationOptions`` fields (unset ones take the baseline's model defaults, e.g. 480x832 at
    16 fps for Wan) and the baseline's own options (``BASELINES[name].extra_options``). Nothing is loaded until
    the first item is generated.
    """
    if name not in BASELINES:
        raise MvbenchError(f"unknown baseline {name!r}", hint="choose one of: " + ", ".join(BASELINES))
    cls = BASELINES[name]
    extra = {k: options.pop(k) for k in list(options) if k not in _GENERATION_FIELDS}
    wrong = sorted(k for k, v in extra.items() if k not in cls.extra_options and v is not None)
    if wrong:
        takers = {k: [n for n, c in BASELINES.items() if k in c.extra_options] for k in wrong}
        detail = "; ".join(f"{k} applies to {', '.join(v) or 'no baseline'}" for k, v in takers.items())
        raise MvbenchError(f"options {', '.join(wrong)} do not apply to the {name} baseline ({detail})")
    extra = {k: v for k, v in extra.items() if v is not None}
    try:
        generation = GenerationOptions(**{**cls.defaults, **options})
    except TypeError as error:
        raise MvbenchError(f"baseline {name!r}: {error}") from error
    return cls(model_dir, generation, **extra)


__all__ = ["BASELINES", "Baseline", "CogVideoXConcat", "FIFOLongVideo", "GenerationOptions", "GenerationSummary",
           "ItemVideo", "Mask2DiTJoint", "PMWDLongVideo", "SlidingLongVideo", "VideoStudio", "create_baseline",
           "generate_submission", "item_seed"]
