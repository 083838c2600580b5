"""The Python API: score videos held in memory (or a submission folder) from a notebook, a training
or validation loop, with the command line's preprocessing, caching policy and results dict.

:func:`evaluate` takes

* a **folder** (path): exactly ``mvbench evaluate --videos FOLDER``;
* a **mapping** ``item id -> list of scene tensors``, or an **iterable** of ``(item id, scenes)``
  pairs: each scene is ``[T, H, W, 3]`` uint8 or ``[T, 3, H, W]`` float in ``[0, 1]`` (numpy or
  torch, any device), converted as :mod:`mvbench.video.memory` documents. The frames are registered
  under pseudo-paths ``mem://<run>/<item>/scene_<k>`` for the duration of the call and go through
  the same runner, scorers and feature cache as files (cache keys hash the frame bytes). No video
  file is written. An iterable is read once, up front (the runner plans every item before scoring).

The numbers equal ``mvbench evaluate`` on a lossless (FFV1 ``.mkv``) copy of the same frames.

:func:`embed_scenes` and :func:`embed_texts` return the embeddings the scorers see (same sampling,
resizing, batching and padding), for the stateful metrics in :mod:`metrics.stateful`.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mvbench.errors import MvbenchError
from mvbench.submission import Problem, Resolution, Submission

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "in-memory"


def _scene_list(scenes, item_id: str) -> list:
    """A list of scene tensors from a list/tuple, or from a 5-D stack ``[S, ...]`` of equal-length scenes."""
    if isinstance(scenes, (list, tuple)):
        return list(scenes)
    ndim = getattr(scenes, "ndim", None)
    if ndim == 5:
        return [scenes[k] for k in range(scenes.shape[0])]
    raise MvbenchError(f"item {item_id!r}: expected a list of scene tensors, got {type(scenes).__name__}"
                       + (f" with {ndim} dimensions" if ndim is not None else ""),
                       hint="pass {item_id: [scene_1, scene_2, ...]}, each scene [T, H, W, 3] uint8 or "
                            "[T, 3, H, W] float in [0, 1]")


@dataclass
class MemorySubmission(Submission):
    """A submission whose scenes are frame tensors (see the module docstring); the runner treats it
    like a folder. :meth:`close` forgets the registered frames."""

    videos: dict[str, list] = field(default_factory=dict)
    run_id: str = ""

    @classmethod
    def from_videos(cls, videos: Mapping | Iterable, model: str | None = None, version: str = "",
                    fps: float | None = None, notes: str = "") -> MemorySubmission:
        pairs = videos.items() if isinstance(videos, Mapping) else videos
        table: dict[str, list] = {}
        for pair in pairs:
            try:
                item_id, scenes = pair
            except (TypeError, ValueError):
                raise MvbenchError(f"expected (item id, scenes) pairs, got {type(pair).__name__}",
                                   hint="pass a mapping {item_id: [scene tensors]} or an iterable of "
                                        "(item_id, [scene tensors]) pairs") from None
            item_id = str(item_id)
            if item_id in table:
                raise MvbenchError(f"item {item_id!r} is given twice")
            table[item_id] = _scene_list(scenes, item_id)
        run_id = uuid.uuid4().hex[:12]
        return cls(root=Path(f"mem://{run_id}"), model=model or DEFAULT_MODEL_NAME, version=version,
                   fps=fps, notes=notes, videos=table, run_id=run_id)

    def scene_path(self, item_id: str, k: int) -> str:
        return f"mem://{self.run_id}/{item_id}/scene_{k}"

    def close(self) -> None:
        """Forget every frame tensor this submission registered."""
        from mvbench.video import memory

        for path in memory.registered(f"mem://{self.run_id}/"):
            memory.unregister(path)

    def resolve(self, suite, exact: bool = False, min_frames: int = 1, progress: bool = False,
                pad_min_frames: int | None = None, limit: int | None = None, **_ignored: Any) -> Resolution:
        """Like :meth:`Submission.resolve` (same problems and short-scene policy), from the tensors. Other
        keyword arguments of :meth:`Submission.resolve` (e.g. sharding the probing of files over ranks) are
        accepted and ignored: knowing a tensor's length costs nothing, so every rank resolves every item."""
        from mvbench.scorers.base import ItemVideos, VideoRef
        from mvbench.video import memory

        res = Resolution()
        items = suite.items if limit is None else suite.items[:limit]
        blocking_min = min_frames if pad_min_frames is None else pad_min_frames
        for item in items:
            scenes = self.videos.get(item.id)
            n = len(item.scenes)
            if scenes is None:
                res.problems.append(Problem("missing_item", item.id, None,
                                            f"no frames given for this item (it has {n} scene(s))"))
                continue
            if len(scenes) != n:
                kind = "missing_scene" if len(scenes) < n else "bad_entry"
                res.problems.append(Problem(kind, item.id, None,
                                            f"{len(scenes)} scene tensor(s) given, the suite item has {n} scene(s)"))
                continue
            refs = []
            short = False
            for k, frames in enumerate(scenes, start=1):
                path = memory.register(_scene_frames(frames, item.id, k), self.scene_path(item.id, k),
                                       fps=self.fps or 0.0)
                info = memory.probe(path)
                rel = f"{item.id}/scene_{k}"
                res.infos[rel] = info
                res.file_items[rel] = item.id
                refs.append(VideoRef(path, 0, info.num_frames, info.fps))
                if info.num_frames < blocking_min:
                    res.problems.append(Problem("too_few_frames", item.id, rel,
                                                f"scene {k} has {info.num_frames} frame(s); the protocol samples "
                                                f"{blocking_min}"))
                    short = True
                elif info.num_frames < min_frames:
                    res.problems.append(Problem("short_scene", item.id, rel,
                                                f"scene {k} has {info.num_frames} frame(s), fewer than the "
                                                f"{min_frames} the protocol samples; frames are repeated "
                                                "(short_scenes='pad')"))
            if not short:
                res.items[item.id] = ItemVideos(item, tuple(refs))
        known = set(suite.ids)
        for item_id in self.videos:
            if item_id not in known:
                res.problems.append(Problem("unknown_item", item_id, None,
                                            f"not an item of suite {suite.name!r}; it is ignored"))
        self._check_consistency(res)
        return res


def _scene_frames(frames, item_id: str, k: int):
    from mvbench.video.memory import to_uint8_frames

    return to_uint8_frames(frames, f"item {item_id!r} scene {k}")


def _metric_list(metrics) -> list[str] | None:
    if metrics is None:
        return None
    if isinstance(metrics, str):
        return [m.strip() for m in metrics.split(",") if m.strip()]
    return list(metrics)


def evaluate(videos, suite, metrics: str | list[str] | None = None, config: Mapping[str, Any] | None = None, *,
             model: str | None = None, fps: float | None = None, encoders: dict | None = None,
             out: str | os.PathLike | None = None, **options: Any) -> dict:
    """Score ``videos`` on ``suite`` and return the results dict (the content of a results file,
    ``"schema": "mvbench.results/1"``; see docs/results.md).

    ``videos``: a submission folder, a mapping ``item id -> [scene tensors]`` or an iterable of
    ``(item id, [scene tensors])`` (see the module docstring). ``suite``: a bundled suite name, a
    suite file path or a :class:`~mvbench.suite.Suite`. ``metrics``: names or groups (list or
    comma-separated; default visual, semantic and sequence consistency). ``config`` and keyword
    ``options``: the evaluation options under their ``mvbench evaluate`` names with ``_`` for ``-``
    (``encoder="tiny"``, ``device="cpu"``, ``no_cache=True``, ``progress=False``, ``vc_pairs=...``);
    unknown names are an error. ``model``/``fps`` describe in-memory videos in the results.
    ``encoders`` supplies prebuilt encoders by name (skips the weight-file check). ``out`` also writes
    the results file. Under ``torchrun`` every rank calls this with the same arguments; rank 0 gets
    the results, the other ranks an empty dict, as with the command.

    >>> import numpy as np, mvbench
    >>> rng = np.random.default_rng(0)
    >>> scenes = lambda: [rng.integers(0, 256, (8, 32, 32, 3), dtype=np.uint8) for _ in range(3)]
    >>> videos = {item: scenes() for item in ["demo_01_persistent_pair", "demo_02_changing_world"]}
    >>> res = mvbench.evaluate(videos, "mvbench-demo", encoder="tiny", device="cpu", no_cache=True,
    ...                        progress=False, limit=2)
    >>> sorted(res["metrics"]), res["metrics"]["visual_consistency"]["n"]
    (['semantic_consistency', 'sequence_consistency', 'visual_consistency'], 2)
    """
    from mvbench.options import resolve_options
    from mvbench.runner import check_weights_present, plan_run, run_evaluation
    from mvbench.submission import open_submission
    from mvbench.suite import Suite, load_suite

    suite_obj = suite if isinstance(suite, Suite) else load_suite(str(suite))
    opts = {**dict(config or {}), **options}
    metric_names = _metric_list(metrics)
    if isinstance(videos, (str, os.PathLike)):
        submission: Submission = open_submission(videos)
        if model:
            submission.model = model
    else:
        submission = MemorySubmission.from_videos(videos, model=model, fps=fps)
    try:
        resolve_options(opts)  # unknown or bad options first: a typo is reported before anything else
        if encoders is None:
            check_weights_present(metric_names or _default_metrics(), opts)
        plan = plan_run(suite_obj, submission, metric_names, opts)
        log.info("scoring %d item(s) of suite %s (model %s)", len(plan.item_requests), suite_obj.name,
                 submission.model)
        results = run_evaluation(suite_obj, submission, metric_names, opts, encoders=encoders, plan=plan)
    finally:
        if isinstance(submission, MemorySubmission):
            submission.close()
    if out is not None and results:
        from mvbench.results import write_results

        write_results(out, results)
    return results


def _default_metrics() -> list[str]:
    from mvbench.scorers import DEFAULT_METRICS

    return list(DEFAULT_METRICS)


def _pool(encoder, device: str | None):
    from mvbench.compute import EncoderPool
    from mvbench.options import resolve_options

    dev = resolve_options({"device": device})["device"]
    if isinstance(encoder, str):
        return encoder, EncoderPool(dev)
    name = getattr(encoder, "name", None) or "custom"
    return name, EncoderPool(dev, {name: encoder})


def embed_scenes(scenes, encoder="viclip-l14", *, num_frames: int | None = None, sampling: str = "middle",
                 stride: int = 1, device: str | None = None, batch_size: int = 16):
    """Video embeddings ``[n, d]`` (float32 numpy) of ``n`` scene tensors, exactly as the scorers get them:
    ``num_frames`` frames (default: the encoder's clip length) sampled with ``sampling``
    (``middle``, ``first``, ``uniform``), resized and normalised by the encoder's preprocessing,
    encoded in padded batches. ``encoder`` is a name (``tiny``, ``viclip-l14``, ...) or a built encoder.
    Nothing is cached.

    >>> import numpy as np
    >>> frames = np.zeros((8, 32, 32, 3), dtype=np.uint8)
    >>> embed_scenes([frames, frames], "tiny", device="cpu").shape
    (2, 32)
    """
    import numpy as np

    from mvbench.compute import compute_requests
    from mvbench.scorers.base import ClipRequest, VideoRef
    from mvbench.video import memory

    name, pool = _pool(encoder, device)
    run = f"mem://embed-{uuid.uuid4().hex[:12]}/"
    try:
        reqs = []
        for k, frames in enumerate(_scene_list(scenes, "scenes"), start=1):
            path = memory.register(_scene_frames(frames, "scenes", k), f"{run}scene_{k}")
            ref = VideoRef(path, 0, memory.probe(path).num_frames, 0.0)
            reqs.append(ClipRequest(name, (ref,), sampling, num_frames, stride))
        got = compute_requests(reqs, {"device": pool.device, "no_cache": True, "progress": False,
                                      "batch_size": batch_size}, encoders=pool)
    finally:
        for path in memory.registered(run):
            memory.unregister(path)
    for r in reqs:
        if isinstance(got[r], Exception):
            raise got[r]
    return np.stack([got[r] for r in reqs])


def embed_texts(texts: list[str], encoder="viclip-l14", *, device: str | None = None, batch_size: int = 16):
    """Text embeddings ``[n, d]`` (float32 numpy) of prompts with the encoder's text tower, exactly as the
    scorers get them (same tokenizer, context length and padded batches).

    >>> embed_texts(["a red circle", "a blue square"], "tiny", device="cpu").shape
    (2, 32)
    """
    import numpy as np

    from mvbench.compute import compute_requests
    from mvbench.scorers.base import TextRequest

    name, pool = _pool(encoder, device)
    reqs = [TextRequest(name, str(t)) for t in texts]
    got = compute_requests(reqs, {"device": pool.device, "no_cache": True, "progress": False,
                                  "batch_size": batch_size}, encoders=pool)
    return np.stack([got[r] for r in reqs])
