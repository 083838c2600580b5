"""Generation baselines: turn an mvbench suite into a submission folder with a reference model.

``create_baseline(name, model_dir, **options)`` builds one of ``BASELINES`` over a local CogVideoX diffusers
folder; ``generate_submission(baseline, suite, out_dir)`` writes ``ITEM_ID/scene_K.mp4`` + ``submission.json``.
Importing this package needs only torch; diffusers and transformers (``pip install -e ".[models]"``) are
imported when the models are loaded. See docs/baselines.md.
"""

from __future__ import annotations

from pathlib import Path

from mvbench.errors import MvbenchError

from .base import Baseline
from .cogvideox_concat import CogVideoXConcat
from .generate import GenerationSummary, generate_submission
from .mask2dit_joint import Mask2DiTJoint
from .options import GenerationOptions, item_seed

#: name -> baseline class
BASELINES: dict[str, type[Baseline]] = {cls.name: cls for cls in (CogVideoXConcat, Mask2DiTJoint)}

#: options that belong to one baseline only (everything else is a ``GenerationOptions`` field)
_BASELINE_OPTIONS = {"transformer_dir", "model_name", "variant", "attention_backend", "temporal_positions"}
_MASK2DIT_ONLY = {"variant", "attention_backend", "temporal_positions"}


def create_baseline(name: str, model_dir: str | Path, **options) -> Baseline:
    """Build baseline ``name`` over ``model_dir``; ``options``: ``GenerationOptions`` fields, ``transformer_dir``,
    ``model_name`` and, for ``mask2dit``, ``variant``, ``attention_backend``, ``temporal_positions``.
    Nothing is loaded until the first item is generated."""
    if name not in BASELINES:
        raise MvbenchError(f"unknown baseline {name!r}", hint="choose one of: " + ", ".join(BASELINES))
    extra = {k: options.pop(k) for k in list(options) if k in _BASELINE_OPTIONS}
    if name != Mask2DiTJoint.name:
        given = sorted(k for k in _MASK2DIT_ONLY if extra.pop(k, None) is not None)
        if given:
            raise MvbenchError(f"options {', '.join(given)} apply to the mask2dit baseline only, not {name!r}")
    try:
        generation = GenerationOptions(**options)
    except TypeError as error:
        raise MvbenchError(f"baseline {name!r}: {error}") from error
    return BASELINES[name](model_dir, generation, **extra)


__all__ = ["BASELINES", "Baseline", "CogVideoXConcat", "GenerationOptions", "GenerationSummary", "Mask2DiTJoint",
           "create_baseline", "generate_submission", "item_seed"]
