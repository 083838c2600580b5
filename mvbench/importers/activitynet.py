"""ActivityNet Captions (Krishna et al., 2017) dense-caption annotations -> a multi-scene suite.

The public annotation files (``train.json``, ``val_1.json``, ``val_2.json``) map a video id to its
events::

    {"v_QOlSCBRmfWY": {"duration": 82.73,
                       "timestamps": [[0.83, 19.86], [17.37, 60.81], [56.26, 79.42]],
                       "sentences": ["A young woman is seen standing in a room ...", " She then ...", "..."]}}

VideoStudio (Sec. 4.1) and VideoDirectorGPT (App. F.3) use the *event captions of a video as its scene
prompts*, on 165 videos sampled at random from the validation split. Here every video becomes one item
(id = the video id); its events, in time order (start, then end; annotation order breaks ties), become
the scenes, each prompt the caption with surrounding spaces removed. ``meta`` keeps the video's
duration, each scene's ``[start, end]`` and its index in the annotation file.

Which 165 videos the papers used is not published: ``sample`` draws ``n`` ids with ``random.Random(seed)``
from the sorted ids (so a given seed always gives the same subset, but not the papers'); ``ids`` keeps
the ids of a list (a JSON list such as ActivityNet's ``val_ids.json``, or one id per line).

Scene Consistency needs entities: VideoDirectorGPT takes as target object the *subject of the first
caption, found with the spaCy dependency parser*, and checks it in every scene. ``subject_parser`` (a
spaCy pipeline, e.g. ``spacy.load("en_core_web_sm")``; spaCy is not an mvbench dependency) does the same
(:func:`first_subject`); an entity side file (:mod:`mvbench.importers.entities`) can give them instead.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mvbench.errors import MvbenchError, SuiteError
from mvbench.importers.entities import read_json
from mvbench.suite import parse_suite

#: spaCy dependency labels of a clause subject
SUBJECT_DEPS = ("nsubj", "nsubjpass")


@dataclass(frozen=True)
class ActivityNetVideo:
    id: str
    duration: float
    events: tuple[tuple[float, float, str, int], ...]  # (start, end, caption, index in the file), time order


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SuiteError(f"{where}: expected a number, got {value!r}")
    return float(value)


def read_activitynet(path: str | Path) -> dict[str, ActivityNetVideo]:
    """The videos of an ActivityNet Captions annotation file, in file order; errors name file and video."""
    data = read_json(path, "ActivityNet Captions file")
    if not isinstance(data, dict) or not data:
        raise SuiteError(f"{path}: an ActivityNet Captions file is a non-empty JSON object "
                         '{video_id: {"duration", "timestamps", "sentences"}}')
    out: dict[str, ActivityNetVideo] = {}
    for vid, entry in data.items():
        where = f"{path}, video {vid!r}"
        if not isinstance(entry, dict):
            raise SuiteError(f"{where}: expected an object with 'duration', 'timestamps' and 'sentences'")
        sentences, stamps = entry.get("sentences"), entry.get("timestamps")
        if not isinstance(sentences, list) or not sentences:
            raise SuiteError(f"{where}: 'sentences' must be a non-empty list of captions")
        if not isinstance(stamps, list) or len(stamps) != len(sentences):
            raise SuiteError(f"{where}: 'timestamps' must be a list with one [start, end] per sentence "
                             f"({len(sentences)} sentences)")
        events = []
        for k, (sentence, stamp) in enumerate(zip(sentences, stamps)):
            if not isinstance(sentence, str) or not sentence.strip():
                raise SuiteError(f"{where}: sentence {k} is empty or not text")
            if not (isinstance(stamp, list) and len(stamp) == 2):
                raise SuiteError(f"{where}: timestamp {k} must be [start, end], got {stamp!r}")
            start, end = (_number(v, f"{where}, timestamp {k}") for v in stamp)
            events.append((start, end, sentence.strip(), k))
        events.sort(key=lambda e: (e[0], e[1], e[3]))
        duration = _number(entry.get("duration", 0.0), f"{where}, duration")
        out[str(vid)] = ActivityNetVideo(str(vid), duration, tuple(events))
    return out


def read_id_list(path: str | Path) -> list[str]:
    """Video ids from a JSON list (ActivityNet's ``val_ids.json``) or a text file with one id per line."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        data = read_json(path, "id list")
        if not isinstance(data, list) or not all(isinstance(v, str) for v in data):
            raise SuiteError(f"{path}: an id list is a JSON list of video ids")
        return [v.strip() for v in data if v.strip()]
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise SuiteError(f"cannot read id list {path}: {exc.strerror or exc}") from None
    return [line.strip() for line in lines if line.strip()]


def select_videos(videos: dict[str, ActivityNetVideo], ids: list[str] | None = None, sample: int | None = None,
                  seed: int = 0) -> list[ActivityNetVideo]:
    """The videos of ``ids`` (in that order; all, in file order, when None), then ``sample`` of them at random.

    >>> v = {k: ActivityNetVideo(k, 1.0, ((0.0, 1.0, "x", 0),)) for k in ("v_c", "v_a", "v_b")}
    >>> [x.id for x in select_videos(v, ids=["v_b", "v_c"])]
    ['v_b', 'v_c']
    >>> [x.id for x in select_videos(v, sample=2, seed=0)] == [x.id for x in select_videos(v, sample=2, seed=0)]
    True
    """
    if ids is not None:
        unknown = [i for i in ids if i not in videos]
        if unknown:
            raise SuiteError(f"{len(unknown)} id(s) of the id list are not in the annotation file, e.g. {unknown[:5]}")
        chosen = [videos[i] for i in dict.fromkeys(ids)]
    else:
        chosen = list(videos.values())
    if sample is not None:
        if not 1 <= sample <= len(chosen):
            raise SuiteError(f"cannot sample {sample} videos out of {len(chosen)}")
        keep = set(random.Random(seed).sample(sorted(v.id for v in chosen), sample))
        chosen = [v for v in chosen if v.id in keep]
    return chosen


def first_subject(sentence: str, nlp: Callable) -> str | None:
    """The subject of a caption as a spaCy pipeline parses it: the text of the first token whose
    dependency label is ``nsubj`` or ``nsubjpass`` (VideoDirectorGPT App. F.3), lower-cased; None if none.

    >>> class Tok:
    ...     def __init__(self, text, dep): self.text, self.dep_ = text, dep
    >>> fake_nlp = lambda s: [Tok("A", "det"), Tok("Man", "nsubj"), Tok("runs", "ROOT")]
    >>> first_subject("A man runs", fake_nlp)
    'man'
    """
    for token in nlp(sentence):
        if token.dep_ in SUBJECT_DEPS and token.text.strip():
            return token.text.strip().lower()
    return None


def load_spacy(model: str = "en_core_web_sm") -> Callable:
    """A spaCy pipeline (spaCy and the model are installed by the user; nothing is downloaded here)."""
    try:
        import spacy
    except ImportError:
        raise MvbenchError("finding caption subjects needs spaCy, which is not installed",
                           hint=f"pip install spacy && python -m spacy download {model}; or give the entities "
                                "in a side file (--entities)") from None
    try:
        return spacy.load(model)
    except OSError as exc:
        raise MvbenchError(f"spaCy cannot load the pipeline {model!r} ({str(exc).splitlines()[0]})",
                           hint=f"python -m spacy download {model}") from None


def activitynet_suite_dict(videos: list[ActivityNetVideo], name: str, source: str = "",
                           subject_nlp: Callable | None = None) -> dict:
    """The suite document of ``videos`` (see the module docstring); with ``subject_nlp`` every scene gets
    the subject of the video's first caption as its entity."""
    items = []
    for v in videos:
        scenes = [{"prompt": caption} for _, _, caption, _ in v.events]
        meta = {"source": "ActivityNet Captions", "video_id": v.id, "duration": v.duration,
                "timestamps": [[s, e] for s, e, _, _ in v.events], "annotation_index": [k for *_, k in v.events]}
        if subject_nlp is not None:
            subject = first_subject(v.events[0][2], subject_nlp)
            meta["subject"] = subject
            if subject:
                for scene in scenes:
                    scene["entities"] = [subject]
        items.append({"id": v.id, "scenes": scenes, "meta": meta})
    if not items:
        raise SuiteError(f"{source or 'ActivityNet Captions'}: no videos selected")
    return {"suite": name, "version": "1",
            "description": f"ActivityNet Captions event captions as scene prompts ({len(items)} videos"
                           + (f" of {Path(source).name}" if source else "") + "), imported by mvbench import activitynet",
            "items": items}


def load_activitynet(path: str | Path, *, name: str | None = None, ids: list[str] | None = None,
                     sample: int | None = None, seed: int = 0, subject_nlp: Callable | None = None) -> dict:
    """A validated suite document from an ActivityNet Captions annotation file."""
    videos = select_videos(read_activitynet(path), ids, sample, seed)
    doc = activitynet_suite_dict(videos, name or f"activitynet-{Path(path).stem.replace('_', '-')}", str(path),
                                 subject_nlp)
    parse_suite(doc, source=str(path))
    return doc
