"""The scorer interface: how a metric family plugs into the evaluation runner.

A scorer works in two steps so that the runner can batch encoder work across items and cache it:

1. :meth:`Scorer.requests` lists what it needs for one item: encoded clips
   (:class:`ClipRequest`), encoded prompts (:class:`TextRequest`) or raw decoded frames
   (:class:`FrameRequest`). The runner decodes, encodes (batched, cached on disk) and hands back
   a mapping request -> result.
2. :meth:`Scorer.score` turns those into an :class:`ItemScore` (per-item metric values and
   inspection details; must be picklable so that ranks can gather them), and
   :meth:`Scorer.aggregate` turns all items' scores into metric summaries (default: mean with a
   bootstrap 95% CI over items, see :func:`mvbench.stats.summarize`).

A :class:`VideoRef` is a frame range ``[start, end)`` of one file of the submission (a scene file,
or a scene's range inside a per-item file); ``num_frames`` is the decoded length of that range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mvbench.config import Option, add_options_to_parser
from mvbench.suite import SuiteItem

if TYPE_CHECKING:
    from mvbench.video.protocols import FramePreprocess


def requested_in_family(options: Mapping[str, Any], family: Sequence[str], default: Sequence[str]) -> list[str]:
    """The metrics of ``family`` asked for in ``options["metrics"]`` (a list or a comma-separated string),
    in ``family`` order; ``default`` when no metrics are given.

    >>> requested_in_family({"metrics": "fid, clip_score"}, ("clip_score", "clipsim"), ("clipsim",))
    ['clip_score']
    >>> requested_in_family({}, ("clip_score", "clipsim"), ("clipsim",))
    ['clipsim']
    """
    raw = options.get("metrics")
    if isinstance(raw, str):
        raw = [m.strip() for m in raw.split(",")]
    return [m for m in family if m in raw] if raw else list(default)


@dataclass(frozen=True)
class VideoRef:
    """Frames ``[start, end)`` of ``path``; ``fps`` as stored in the file."""

    path: str
    start: int
    end: int
    fps: float

    @property
    def num_frames(self) -> int:
        return self.end - self.start

    def sub(self, start: int, end: int) -> VideoRef:
        """A sub-range, in frame indices relative to this ref."""
        if not (0 <= start < end <= self.num_frames):
            raise ValueError(f"sub-range [{start}, {end}) outside a {self.num_frames}-frame video")
        return VideoRef(self.path, self.start + start, self.start + end, self.fps)


@dataclass(frozen=True)
class ItemVideos:
    """The resolved videos of one suite item: one :class:`VideoRef` per scene, in order."""

    item: SuiteItem
    scenes: tuple[VideoRef, ...]

    @property
    def whole(self) -> tuple[VideoRef, ...]:
        return self.scenes


@dataclass(frozen=True)
class ClipRequest:
    """Encode a clip of ``video`` with ``encoder``.

    ``sampling``: a mode of :func:`mvbench.video.sampling.sample_indices` (``"middle"``: N frames at
    segment midpoints over the range; ``"first"``: the first N consecutive frames, with ``stride``;
    ``"uniform"``, ``"interval-middle"``, ``"step"``); ``num_frames`` None means the encoder's own
    clip length. ``videos`` may hold several refs whose frames are concatenated before sampling (e.g.
    a whole multi-scene video). ``preprocess`` (a :class:`~mvbench.video.protocols.FramePreprocess`)
    replaces the encoder's default resizing and normalisation (None: the encoder's own); it is part
    of the feature-cache key.
    """

    encoder: str
    videos: tuple[VideoRef, ...]
    sampling: str = "middle"
    num_frames: int | None = None
    stride: int = 1
    preprocess: FramePreprocess | None = None


@dataclass(frozen=True)
class TextRequest:
    """Encode ``text`` with the text tower of ``encoder``."""

    encoder: str
    text: str


@dataclass(frozen=True)
class FrameRequest:
    """Raw decoded frames (uint8 ``[N, H, W, 3]`` tensor at native size) sampled from ``video``."""

    video: VideoRef
    num_frames: int
    sampling: str = "middle"


Request = ClipRequest | TextRequest | FrameRequest


@dataclass(frozen=True)
class MetricInfo:
    name: str
    higher_is_better: bool
    description: str = ""


@dataclass
class ItemScore:
    """Per-item output of a scorer. ``values`` feed aggregates; ``details`` go to the results file."""

    values: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    #: scorer-private payload for :meth:`Scorer.aggregate` (e.g. FVD features); not written out
    payload: Any = None


class Scorer:
    """Base class; subclasses set ``name`` and ``metrics`` and implement requests/score."""

    name: str = ""
    metrics: tuple[MetricInfo, ...] = ()
    #: this scorer's own options (flags of ``mvbench evaluate``, keys of the options mapping); the
    #: runner validates them and fills in defaults before the scorer is built
    option_specs: tuple[Option, ...] = ()
    #: title of this scorer's group in ``mvbench evaluate --help``
    option_title: str | None = None

    def __init__(self, options: dict | None = None):
        #: every evaluation option (CLI flags as a dict: ``encoder``, ``batch_size``, ...); a
        #: scorer reads the keys it owns and ignores the rest
        self.options = dict(options or {})
        #: set-up problems found while planning (``validate`` builds scorers with the option
        #: ``_planning_only`` and reports these; ``evaluate`` raises the first at construction)
        self.setup_errors: list[Exception] = []

    @classmethod
    def add_cli_arguments(cls, parser) -> None:
        """Add this scorer's own ``mvbench evaluate`` flags (from :attr:`option_specs`) to a parser."""
        add_options_to_parser(parser, cls.option_specs, cls.option_title)

    #: whether a scene shorter than :meth:`frames_needed` can be scored by repeating frames
    #: (the ``pad`` policy for short scenes); False where the protocol needs distinct consecutive frames
    can_pad: bool = True

    def frames_needed(self) -> int:
        """Fewest frames a scene needs so that this scorer samples no frame twice."""
        return 1

    @classmethod
    def required_weights(cls, options: Mapping[str, Any]) -> list[str]:
        """Weights registry entries this scorer will load with ``options`` (checked before any work)."""
        return []

    def encoders(self) -> list[str]:
        """Encoder names this scorer uses (for the results file)."""
        return []

    def config(self) -> dict:
        """Options that change the numbers (recorded in the results file, part of comparability)."""
        return {}

    def requests(self, videos: ItemVideos) -> list[Request]:
        raise NotImplementedError

    def score(self, videos: ItemVideos, results: Mapping[Request, Any]) -> ItemScore:
        raise NotImplementedError

    def partial(self, scores: dict[str, ItemScore]) -> Any:
        """A mergeable summary of these items' payloads, or None (the default: each item's payload travels
        with its score to the process, or into the partial results file, that aggregates).

        A scorer whose payloads are large (FVD features) returns, e.g., sums here; the runner then strips
        the payloads before gathering and calls :meth:`aggregate_partials` with every part's summary."""
        return None

    def aggregate_partials(self, scores: dict[str, ItemScore], partials: list[Any], seed: int = 0) -> dict[str, dict]:
        """Summaries from per-item scores (payloads stripped) and the parts' :meth:`partial` summaries;
        only called for scorers whose :meth:`partial` is not None. Must equal :meth:`aggregate` on the
        whole set, whatever the split."""
        return self.aggregate(scores, seed)

    def aggregate(self, scores: dict[str, ItemScore], seed: int = 0) -> dict[str, dict]:
        """Summaries ``{metric: {"mean", "ci95", "n", "higher_is_better", ...}}`` over items."""
        from mvbench.stats import ci_options, summarize

        out = {}
        for info in self.metrics:
            vals = [s.values[info.name] for s in scores.values() if info.name in s.values]
            out[info.name] = summarize(vals, higher_is_better=info.higher_is_better, seed=seed,
                                       **ci_options(self.options))
        return out
