"""Meta-evaluation of the character-ID metrics on real faces: do they move the right way?

From real photographs (:mod:`mvbench.faces.photos`) it builds a multi-scene "movie" per perturbation,
scores every one with the ``character_id`` scorer and compares each with correct casting.

Script (``cast`` = the first 2-4 people): one solo scene per cast member, then pair scenes of
consecutive cast members (``[A] [B] [A, B]`` for two; ``[A] [B] [C] [D] [A, B] [C, D]`` for four).

Cases (each changes one scene of the correct casting):

``correct``   every scene shows exactly its scripted characters
``swap``      scene 1 shows cast member B instead of the scripted A          (FP + 1, FN + 1)
``missing``   the first pair scene shows only its first character            (FN + 1)
``extra``     scene 2 also shows cast member A, who is not scripted there    (FP + 1)
``stranger``  scene 2 also shows someone who is in no bank (needs a person   (no change: the
              outside the cast)                                              recogniser must reject them)

Rendering: each person is a soft-edged crop of their photograph around the face (box enlarged
2.4x) pasted on a gradient background, side by side in 180-pixel slots, in frames 192 pixels high
and as wide as the most crowded scene needs (360 pixels for two people). Every (scene, person) draws its own augmentation from a seeded generator: scale 0.85-1.2
(face about 72 pixels wide), shift up to 10 pixels, brightness x0.75-1.25, Gaussian blur sigma 0-1.2,
rotation up to 8 degrees, plus a drift of up to 1 pixel per frame; scenes are encoded with H.264
(crf 18) and decoded by mvbench like any submission. A scene that two cases share is the same file.

Bank: one portrait per cast member, a held-out crop that no scene shows: from a second photograph
of the person when there is one, otherwise from the same photograph mirrored left-right, cropped
tighter (1.6x the face box) and brightened; strangers have no portrait.

Expected values: precision, recall and F1 a perfect recogniser would get (the people on screen who
are in the bank, against the script); similarity's expected direction: lower when a scripted
character is not on screen in some scene, otherwise unchanged (within :data:`SIM_TOLERANCE`). A
metric "moves the wrong way" when its change from correct casting has another sign than the
expected one (a change where none is expected, or no decrease where one is); :func:`violations`
lists them and the command exits non-zero.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from metrics.identity import id_scores
from mvbench.faces.backend import FaceBackend, FaceBox
from mvbench.faces.photos import Person

log = logging.getLogger(__name__)

SLOT_W, FRAME_H = 180, 192
FACE_W = 72  # face width in the frame before the scale augmentation
SCENE_CROP = 2.4  # scene sprite: face box enlarged this much
BANK_CROP = 1.6  # bank portrait: tighter framing than any scene
FPS = 8.0
#: "unchanged" similarity means |measured - correct| <= this (cosine units)
SIM_TOLERANCE = 0.02
METRICS = ("id_precision", "id_recall", "id_f1", "character_similarity")


@dataclass(frozen=True)
class Augment:
    """Per (scene, person) appearance: sprite scale, offset (px), brightness, blur sigma, rotation (deg),
    drift (px per frame)."""

    scale: float = 1.0
    dx: float = 0.0
    dy: float = 0.0
    brightness: float = 1.0
    blur: float = 0.0
    angle: float = 0.0
    vx: float = 0.0
    vy: float = 0.0

    @classmethod
    def sample(cls, rng: np.random.Generator) -> Augment:
        return cls(scale=float(rng.uniform(0.85, 1.2)), dx=float(rng.uniform(-10, 10)),
                   dy=float(rng.uniform(-10, 10)), brightness=float(rng.uniform(0.75, 1.25)),
                   blur=float(rng.uniform(0.0, 1.2)), angle=float(rng.uniform(-8, 8)),
                   vx=float(rng.uniform(-1, 1)), vy=float(rng.uniform(-1, 1)))


@dataclass(frozen=True)
class Case:
    """A perturbation: who is on screen in each scene."""

    name: str
    description: str
    shown: tuple[tuple[str, ...], ...]


@dataclass
class Plan:
    """The script (scripted characters per scene), the cast (banked), strangers and the cases."""

    script: tuple[tuple[str, ...], ...]
    cast: tuple[str, ...]
    strangers: tuple[str, ...]
    cases: list[Case] = field(default_factory=list)


def make_plan(cast: list[str], strangers: list[str] = ()) -> Plan:
    """The script and cases for ``cast`` (2 to 4 names) and optional ``strangers`` (see the module docstring).

    >>> p = make_plan(["A", "B"])
    >>> p.script, [c.name for c in p.cases]
    ((('A',), ('B',), ('A', 'B')), ['correct', 'swap', 'missing', 'extra'])
    >>> [c.shown for c in p.cases][1:]
    [(('B',), ('B',), ('A', 'B')), (('A',), ('B',), ('A',)), (('A',), ('B', 'A'), ('A', 'B'))]
    """
    cast = list(dict.fromkeys(cast))
    if not 2 <= len(cast) <= 4:
        raise ValueError(f"the meta-evaluation needs 2 to 4 cast members, got {len(cast)}")
    script = [(c,) for c in cast] + [tuple(cast[i:i + 2]) for i in range(0, len(cast) - 1, 2)]
    script_t = tuple(script)
    a, b = cast[0], cast[1]
    pair = len(cast)  # index of the first pair scene
    cases = [Case("correct", "every scene shows its scripted characters", script_t)]

    def changed(k: int, shown: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
        return tuple(shown if i == k else s for i, s in enumerate(script_t))

    cases.append(Case("swap", f"scene 1 shows {b} instead of {a}", changed(0, (b,))))
    cases.append(Case("missing", f"scene {pair + 1} shows only {script_t[pair][0]} (no {script_t[pair][1]})",
                      changed(pair, script_t[pair][:1])))
    cases.append(Case("extra", f"scene 2 also shows {a} (cast, not scripted there)", changed(1, (b, a))))
    if strangers:
        s = strangers[0]
        cases.append(Case("stranger", f"scene 2 also shows {s} (in no bank)", changed(1, (b, s))))
    return Plan(script_t, tuple(cast), tuple(strangers), cases)


def expected_scores(plan: Plan, case: Case) -> dict[str, float]:
    """Precision/recall/F1 x100 of a perfect recogniser: banked people on screen vs the script.

    >>> p = make_plan(["A", "B"])
    >>> expected_scores(p, p.cases[1])  # swap: scene 1 shows B for A -> TP 3, FP 1, FN 1
    {'id_precision': 75.0, 'id_recall': 75.0, 'id_f1': 75.0}
    """
    bank = set(plan.cast)
    s = id_scores([set(shown) & bank for shown in case.shown], [set(x) for x in plan.script])
    return {"id_precision": round(100 * s.precision, 6), "id_recall": round(100 * s.recall, 6),
            "id_f1": round(100 * s.f1, 6)}


def expected_directions(plan: Plan, case: Case) -> dict[str, str]:
    """Per metric, ``"<"``, ``"="`` or ``">"``: how ``case`` should compare with correct casting.

    >>> p = make_plan(["A", "B"], ["S"])
    >>> [expected_directions(p, c) for c in p.cases[2:]]  # doctest: +NORMALIZE_WHITESPACE
    [{'id_precision': '=', 'id_recall': '<', 'id_f1': '<', 'character_similarity': '<'},
     {'id_precision': '<', 'id_recall': '=', 'id_f1': '<', 'character_similarity': '='},
     {'id_precision': '=', 'id_recall': '=', 'id_f1': '=', 'character_similarity': '='}]
    """
    base = expected_scores(plan, plan.cases[0])
    mine = expected_scores(plan, case)
    out = {}
    for k in ("id_precision", "id_recall", "id_f1"):
        out[k] = "<" if mine[k] < base[k] - 1e-9 else (">" if mine[k] > base[k] + 1e-9 else "=")
    absent = any(c not in shown for scripted, shown in zip(plan.script, case.shown) for c in scripted)
    out["character_similarity"] = "<" if absent else "="
    return out


def moved_as_expected(direction: str, base: float | None, value: float | None, tolerance: float = 0.0) -> bool:
    """Whether ``value`` compares with ``base`` as ``direction`` says (``=`` within ``tolerance``).

    >>> moved_as_expected("<", 100.0, 80.0), moved_as_expected("=", 0.95, 0.96, 0.02), moved_as_expected("<", 0, 0)
    (True, True, False)
    """
    base = 0.0 if base is None else float(base)
    value = 0.0 if value is None else float(value)
    if direction == "<":
        return value < base - 1e-9
    if direction == ">":
        return value > base + 1e-9
    return abs(value - base) <= tolerance + 1e-9


# ----------------------------------------------------------------------------------------------- rendering
def _crop_around(image: np.ndarray, box: FaceBox, scale: float) -> np.ndarray:
    """A square crop of ``image`` centred on the face box, side ``scale * max(w, h)``, edge-padded."""
    side = int(round(scale * max(box.w, box.h)))
    cx, cy = box.x + box.w / 2.0, box.y + box.h / 2.0
    x0, y0 = int(round(cx - side / 2.0)), int(round(cy - side / 2.0))
    pad = side
    padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), mode="edge")
    return padded[y0 + pad:y0 + pad + side, x0 + pad:x0 + pad + side]


def _sprite(image: np.ndarray, box: FaceBox, aug: Augment):
    """The person's augmented RGBA sprite (PIL image) with a soft elliptical edge."""
    from PIL import Image, ImageEnhance, ImageFilter

    crop = _crop_around(image, box, SCENE_CROP)
    face_w = FACE_W * aug.scale
    side = max(8, int(round(crop.shape[0] * face_w / max(box.w, box.h))))
    im = Image.fromarray(np.ascontiguousarray(crop)).resize((side, side), Image.Resampling.LANCZOS)
    im = ImageEnhance.Brightness(im).enhance(aug.brightness)
    if aug.blur > 0:
        im = im.filter(ImageFilter.GaussianBlur(aug.blur))
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32)
    r = ((xx - side / 2) / (side * 0.46)) ** 2 + ((yy - side / 2) / (side * 0.5)) ** 2
    alpha = np.clip((1.0 - r) / 0.25, 0.0, 1.0)
    rgba = im.convert("RGBA")
    rgba.putalpha(Image.fromarray((alpha * 255).astype(np.uint8)))
    return rgba.rotate(aug.angle, resample=Image.Resampling.BICUBIC)


def _background(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    top, bottom = rng.uniform(30, 220, size=3), rng.uniform(30, 220, size=3)
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    return np.broadcast_to((1 - ramp) * top + ramp * bottom, (height, width, 3)).astype(np.float32)


def render_scene(people: list[tuple[Person, int, Augment]], n_frames: int, seed: int, slots: int = 0) -> np.ndarray:
    """Frames ``[n_frames, 192, 180 * max(slots, len(people)), 3]`` (uint8) of ``(person, view index,
    augment)``, the people side by side in the middle."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    width = SLOT_W * max(1, slots, len(people))
    left = (width - SLOT_W * len(people)) / 2
    bg = _background(width, FRAME_H, rng)
    sprites = [(_sprite(*person.views[view], aug), aug) for person, view, aug in people]
    frames = np.empty((n_frames, FRAME_H, width, 3), dtype=np.uint8)
    for t in range(n_frames):
        canvas = Image.fromarray(np.clip(bg + rng.normal(0, 2.0, bg.shape), 0, 255).astype(np.uint8)).convert("RGBA")
        for k, (sprite, aug) in enumerate(sprites):
            cx = left + SLOT_W * k + SLOT_W / 2 + aug.dx + aug.vx * t
            cy = FRAME_H / 2 + aug.dy + aug.vy * t
            canvas.alpha_composite(sprite, (int(round(cx - sprite.width / 2)), int(round(cy - sprite.height / 2))))
        frames[t] = np.asarray(canvas.convert("RGB"))
    return frames


def bank_portrait(person: Person) -> np.ndarray:
    """The held-out bank portrait of a person (see the module docstring)."""
    from PIL import Image, ImageEnhance

    image, box = person.views[0]
    crop = _crop_around(image, box, BANK_CROP)
    im = Image.fromarray(np.ascontiguousarray(crop))
    if not person.held_out_photo:
        im = ImageEnhance.Brightness(im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)).enhance(1.1)
    side = int(round(BANK_CROP * 100))  # face about 100 pixels wide
    return np.asarray(im.resize((side, side), Image.Resampling.LANCZOS).convert("RGB"))


# ---------------------------------------------------------------------------------------------- building
def _seed(*parts) -> int:
    import hashlib

    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "little")


def build(plan: Plan, people: dict[str, Person], out: str | Path, n_frames: int = 8, seed: int = 0) -> dict:
    """Write ``out/suite.json``, ``out/bank/NAME.png`` and ``out/submission/CASE/scene_K.mp4``.

    A person's appearance in scene ``k`` depends only on ``(seed, k, name)``, so a scene that two
    cases share is one video (copied). Returns ``{"suite", "bank", "submission"}`` paths.
    """
    from PIL import Image

    from mvbench.video.write import write_video

    out = Path(out)
    bank, sub, cache = out / "bank", out / "submission", out / ".scenes"
    for d in (bank, sub, cache):
        d.mkdir(parents=True, exist_ok=True)
    for name in plan.cast:
        Image.fromarray(bank_portrait(people[name])).save(bank / f"{name}.png")
    rendered: dict[tuple, Path] = {}
    slots = max(len(shown) for case in plan.cases for shown in case.shown)  # one frame size for all files
    for case in plan.cases:
        for k, shown in enumerate(case.shown, start=1):
            key = (k, shown)
            if key not in rendered:
                cast = []
                for name in shown:
                    person = people[name]
                    view = 1 + (k % (len(person.views) - 1)) if person.held_out_photo else 0
                    cast.append((person, view, Augment.sample(np.random.default_rng(_seed(seed, k, name)))))
                frames = render_scene(cast, n_frames, _seed(seed, k, "background"), slots)
                rendered[key] = write_video(cache / f"scene{k}_{len(rendered)}.mp4", frames, fps=FPS, crf=18)
            dest = sub / case.name / f"scene_{k}.mp4"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(rendered[key], dest)
    (sub / "submission.json").write_text(json.dumps(
        {"model": "meta-eval-character-id", "version": "1",
         "notes": "real photographs re-composed per scene; see mvbench/faces/meta_eval.py"}, indent=1))
    sources = {n: people[n].sources for n in list(plan.cast) + list(plan.strangers)}
    suite = {
        "suite": "meta-eval-character-id", "version": "1",
        "items": [{
            "id": case.name,
            "characters": {n: f"the person in {', '.join(sources[n])}" for n in plan.cast},
            "scenes": [{"prompt": f"scene {k}: " + " and ".join(scripted), "characters": list(scripted)}
                       for k, scripted in enumerate(plan.script, start=1)],
            "meta": {"case": case.description, "shown": [list(s) for s in case.shown]},
        } for case in plan.cases],
    }
    (out / "suite.json").write_text(json.dumps(suite, indent=1))
    shutil.rmtree(cache, ignore_errors=True)
    return {"suite": out / "suite.json", "bank": bank, "submission": sub}


# ----------------------------------------------------------------------------------------------- scoring
def score_cases(paths: dict, backend: FaceBackend, options: dict | None = None) -> dict[str, dict]:
    """Score every case (suite item) with the ``character_id`` scorer: ``{case: {metric: value}}``.

    Each case is aggregated on its own (micro-summed over its shots), exactly as a one-item run.
    """
    from mvbench.compute import compute_requests
    from mvbench.scorers.character_id import CharacterIdScorer
    from mvbench.submission import open_submission
    from mvbench.suite import load_suite

    suite = load_suite(str(paths["suite"]))
    resolution = open_submission(paths["submission"]).resolve(suite)
    opts = {"character_bank": str(paths["bank"]), "no_cache": True, "progress": False, "device": "cpu",
            "bootstrap": 10, **(options or {})}
    scorer = CharacterIdScorer(opts, backend=backend)
    out: dict[str, dict] = {}
    for item in suite.items:
        videos = resolution.items[item.id]
        reqs = scorer.requests(videos)
        got = compute_requests(reqs, opts)
        bad = [g for g in got.values() if isinstance(g, Exception)]
        if bad:
            raise bad[0]
        score = scorer.score(videos, got)
        agg = scorer.aggregate({item.id: score})
        out[item.id] = {m: agg[m]["mean"] for m in METRICS}
        out[item.id]["details"] = score.details
    return out


def table_rows(plan: Plan, measured: dict[str, dict]) -> list[dict]:
    """One row per case: expected and measured values, expected directions and whether each held."""
    base = measured["correct"]
    rows = []
    for case in plan.cases:
        exp = expected_scores(plan, case)
        dirs = expected_directions(plan, case)
        got = measured[case.name]
        ok = {}
        for m in METRICS:
            if case.name == "correct":
                ok[m] = True
            else:
                tol = SIM_TOLERANCE if m == "character_similarity" else 0.0
                ok[m] = moved_as_expected(dirs[m], base[m], got[m], tol)
        rows.append({"case": case.name, "description": case.description, "expected": exp,
                     "directions": dirs, "measured": {m: got[m] for m in METRICS}, "ok": ok})
    return rows


def violations(rows: list[dict]) -> list[str]:
    """``"case: metric expected <dir> correct casting, got ..."`` for every metric that moved the wrong way."""
    base = rows[0]["measured"]
    out = []
    for r in rows[1:]:
        for m, good in r["ok"].items():
            if not good:
                out.append(f"{r['case']}: {m} should be {r['directions'][m]} correct casting "
                           f"({_fmt(base[m], m)}), got {_fmt(r['measured'][m], m)}")
    return out


def _fmt(v, metric: str) -> str:
    if v is None:
        return "-"
    return f"{v:.3f}" if metric == "character_similarity" else f"{v:.1f}"


def format_table(rows: list[dict]) -> str:
    """A Markdown table: expected vs measured P / R / F1 (x100) and similarity per case."""
    head = ("| case | P exp | P | R exp | R | F1 exp | F1 | similarity (exp.) | ok |\n"
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :-: |")
    lines = [head]
    for r in rows:
        e, m, d = r["expected"], r["measured"], r["directions"]
        sim_dir = "" if r["case"] == "correct" else f" ({d['character_similarity']})"
        ok = "yes" if all(r["ok"].values()) else "NO"
        lines.append(f"| {r['case']} | {e['id_precision']:.1f} | {_fmt(m['id_precision'], 'p')} | "
                     f"{e['id_recall']:.1f} | {_fmt(m['id_recall'], 'r')} | {e['id_f1']:.1f} | "
                     f"{_fmt(m['id_f1'], 'f')} | {_fmt(m['character_similarity'], 'character_similarity')}{sim_dir} | "
                     f"{ok} |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ driver
@dataclass
class MetaEvalResult:
    """Everything one meta-evaluation produced."""

    plan: Plan
    rows: list[dict]
    people: list[str]
    sources: list[str]
    missing_sources: dict[str, str]
    backend: dict
    protocol: dict
    paths: dict
    #: face distances over all cases: largest of a recognised face, smallest of an unrecognised one
    margins: dict = field(default_factory=dict)

    @property
    def violations(self) -> list[str]:
        return violations(self.rows)

    def as_dict(self) -> dict:
        return {"cast": list(self.plan.cast), "strangers": list(self.plan.strangers),
                "script": [list(s) for s in self.plan.script], "rows": self.rows, "people": self.people,
                "sources": self.sources, "missing_sources": self.missing_sources, "face_backend": self.backend,
                "protocol": self.protocol, "margins": self.margins, "violations": self.violations}


def run_meta_eval(backend: FaceBackend, out: str | Path, *, photos=None, sources=None, cast=None, strangers=None,
                  n_cast: int = 4, n_frames: int = 8, seed: int = 0, options: dict | None = None) -> MetaEvalResult:
    """Find the people, plan, render, score and compare (see the module docstring).

    ``photos``: a user folder (else the bundled ``sources``, default all that are installed);
    ``cast``/``strangers``: names of people to use (default: the first ``n_cast`` people found are
    the cast and the others strangers); ``options``: character-ID scorer options (``id_frames``...).
    """
    from mvbench.errors import MvbenchError
    from mvbench.faces.backend import MemoizedBackend
    from mvbench.faces.photos import bundled_photos, find_people, folder_photos
    from mvbench.scorers.character_id import CharacterIdScorer

    memo = backend if isinstance(backend, MemoizedBackend) else MemoizedBackend(backend)
    options = dict(options or {})
    protocol = CharacterIdScorer(options, backend=memo).protocol
    if photos is not None:
        found, missing = folder_photos(photos), {}
    else:
        found, missing = bundled_photos(sources)
    people = find_people(memo, found, protocol.min_confidence)
    by_name = {p.name: p for p in people}
    names = [p.name for p in people]
    unknown = [n for n in list(cast or []) + list(strangers or []) if n not in by_name]
    if unknown:
        raise MvbenchError(f"no person named {', '.join(unknown)} in the photographs",
                           hint="people found: " + ", ".join(names))
    cast = list(cast) if cast else names[:n_cast]
    if strangers is None:
        strangers = [n for n in names if n not in cast]
    if len(cast) < 2:
        how = "; ".join(f"{k}: {v}" for k, v in missing.items())
        raise MvbenchError(f"the meta-evaluation needs at least 2 people, found {len(names)} ({', '.join(names)})",
                           hint=("install more sources (" + how + ")") if how else "add photographs to the folder")
    plan = make_plan(cast, list(strangers))
    paths = build(plan, by_name, out, n_frames=n_frames, seed=seed)
    log.info("scoring %d cases x %d scenes", len(plan.cases), len(plan.script))
    measured = score_cases(paths, memo, options)
    return MetaEvalResult(plan, table_rows(plan, measured), names, [str(p.path) for p in found], missing,
                          memo.describe(), protocol.as_dict(), {k: str(v) for k, v in paths.items()},
                          distance_margins(measured, memo.threshold))


def distance_margins(measured: dict[str, dict], threshold: float) -> dict:
    """Largest distance of a face that was recognised and smallest of one that was not, over all cases.

    >>> d = {"c": {"details": {"shots": [{"faces": [{"name": "A", "distance": 0.2}, {"name": None, "distance": 0.5}]}]}}}
    >>> distance_margins(d, 0.4)
    {'threshold': 0.4, 'recognised_max': 0.2, 'unrecognised_min': 0.5, 'faces': 2}
    """
    known, unknown = [], []
    for res in measured.values():
        for shot in res["details"]["shots"]:
            for f in shot["faces"]:
                if f.get("distance") is None:
                    continue
                (known if f["name"] is not None else unknown).append(float(f["distance"]))
    return {"threshold": threshold, "recognised_max": max(known) if known else None,
            "unrecognised_min": min(unknown) if unknown else None, "faces": len(known) + len(unknown)}
