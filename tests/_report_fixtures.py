"""A synthetic run for the report and leaderboard tests: a suite (prompts may carry hostile payloads), real
video files rendered procedurally (one file per scene, or one per item with scene ranges in
submission.json), and a complete results file whose items carry the details the report shows (scene
semantic scores, the scene-pair matrix, Confusion Degree per prompt, character-ID shots), warnings and
failures. No encoder runs: the numbers are made up, deterministically."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mvbench.suite import parse_suite

INJECTED = "<script>document.body.setAttribute('data-pwned','script')</script>"
ONERROR = "<img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">"
HOSTILE_MODEL = f"evil {INJECTED} \"onerror=alert(1) {ONERROR}"
BACKGROUNDS = [("sky", "grass"), ("night", "purple"), ("sand", "orange"), ("teal", "white"), ("pink", "sky"),
               ("grey", "black"), ("grass", "brown"), ("yellow", "sand")]
SHAPES = ["red", "blue", "green", "yellow", "white", "orange"]
WORDS = ["lighthouse", "harbour", "forest", "desert", "market", "train", "garden", "castle", "river", "snow"]


def _suite_doc(n_items: int, n_scenes: int, hostile: bool) -> dict:
    items = []
    for i in range(n_items):
        word = WORDS[i % len(WORDS)]
        scenes, render = [], []
        for k in range(n_scenes):
            prompt = f"Actor1 walks through the {word} at hour {k + 1}, item {i}."
            if hostile and i == 1 and k == 0:
                prompt = f"Actor1 {INJECTED} meets {ONERROR} \"onerror=alert(1) in the {word}."
            scenes.append({"prompt": prompt, "characters": ["Actor1"], "frame_prompts": [f"{word} {k} a", f"{word} {k} b"]})
            bg = BACKGROUNDS[(i + k * (i % 3)) % len(BACKGROUNDS)]
            render.append({"background": list(bg), "shapes": [{"kind": "circle" if k % 2 == 0 else "square",
                                                               "color": SHAPES[(i + k) % len(SHAPES)], "radius": 0.2}]})
        items.append({"id": f"item_{i:03d}", "global_prompt": f"A short story in the {word} (item {i}).",
                      "characters": {"Actor1": "a person"}, "scenes": scenes, "meta": {"render": render}})
    return {"suite": "report-test", "version": "1", "items": items}


def _summary(values: list[float], higher: bool) -> dict:
    x = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(0)
    boots = rng.choice(x, size=(500, x.size)).mean(axis=1)
    return {"mean": round(float(x.mean()), 6), "ci95": [round(float(np.percentile(boots, 2.5)), 6),
                                                          round(float(np.percentile(boots, 97.5)), 6)],
            "n": int(x.size), "higher_is_better": higher, "std": round(float(x.std(ddof=1)), 6)}


def make_run(root: Path, *, model: str = "model-a", n_items: int = 6, n_scenes: int = 3, seed: int = 0,
             hostile: bool = False, videos: bool = True, per_item_files: bool = True, failed: int = 1,
             frames: int = 16, size: int = 32) -> dict[str, Path]:
    """Write ``suite.json``, ``videos/`` and ``results.json`` under ``root``; returns their paths."""
    root.mkdir(parents=True, exist_ok=True)
    doc = _suite_doc(n_items, n_scenes, hostile)
    suite_path = root / "suite.json"
    suite_path.write_text(json.dumps(doc), encoding="utf-8")
    suite = parse_suite(doc, str(suite_path))
    video_dir = root / "videos"
    if videos:
        _render(suite, video_dir, model, frames, size, per_item_files)
    rng = np.random.default_rng(seed)
    items, failures = {}, {}
    ids = [it.id for it in suite.items]
    for idx, item_id in enumerate(ids):
        if idx >= n_items - failed:
            failures[item_id] = {"stage": "decode", "kind": "truncated", "file": f"{item_id}/scene_2.mkv",
                                 "error": f"{item_id}/scene_2.mkv: truncated: the container lists 16 frames but only 9 "
                                          "are in the file"}
            continue
        base = rng.uniform(50, 90)
        m = np.full((n_scenes, n_scenes), 100.0)
        for a in range(n_scenes):
            for b in range(a + 1, n_scenes):
                m[a, b] = m[b, a] = round(float(np.clip(base - 6 * (b - a) + rng.normal(0, 4), 0, 99)), 4)
        semantic = [round(float(rng.uniform(15, 30)), 4) for _ in range(n_scenes)]
        vc = float(np.mean([m[a, b] for a in range(n_scenes) for b in range(a + 1, n_scenes)]))
        sc = float(np.mean(semantic))
        f = 2 * n_scenes
        cd = [round(float(rng.uniform(0.0, 0.5)), 6) for _ in range(f)]
        details = {
            "consistency": {"scene_semantic": semantic, "scene_similarity": m.tolist()},
            "confusion": {"F": f, "boundaries": ["frame_prompts"], "segments": [[k // 2 + 1, (k % 2) * 8, (k % 2) * 8 + 8]
                                                                                for k in range(f)],
                          "frame_text_per_prompt": [round(float(rng.uniform(0.1, 0.3)), 6) for _ in range(f)],
                          "cd_per_prompt": cd, "degenerate_prompts": 0, "warnings": [],
                          "s_tt": np.round(rng.uniform(0.3, 1.0, (f, f)), 4).tolist(),
                          "s_tf": np.round(rng.uniform(0.1, 0.3, (f, f)), 4).tolist()},
            "character_id": {"tp": 2, "fp": 1, "fn": 1, "bank": ["Actor1", "Actor2"],
                             "shots": [{"scene": k + 1, "scripted": ["Actor1"],
                                        "predicted": ["Actor1"] if k != 1 else ["Actor2"],
                                        "faces": [{"name": "Actor1" if k != 1 else "Actor2", "distance": 0.61,
                                                   "frame": 4}]} for k in range(n_scenes)],
                             "per_character": {"Actor1": [2, 0, 1], "Actor2": [0, 1, 0]}},
        }
        if hostile and idx == 1:
            details["consistency"]["note"] = INJECTED
        rec = {"scores": {"visual_consistency": round(vc, 6), "semantic_consistency": round(sc, 6),
                          "sequence_consistency": round((vc + sc) / 2, 6), "confusion_degree": round(float(np.mean(cd)), 6)},
               "details": details}
        if idx == 2:
            rec["warnings"] = [f"[short_scene] item {item_id!r} {item_id}/scene_3.mkv: scene 3 has 6 frame(s), fewer "
                               "than the 8 the protocol samples; frames are repeated (--short-scenes pad)"]
        items[item_id] = rec
    metrics = {}
    for name, higher in (("visual_consistency", True), ("semantic_consistency", True), ("sequence_consistency", True),
                         ("confusion_degree", False)):
        metrics[name] = _summary([r["scores"][name] for r in items.values()], higher)
    results = {
        "schema": "mvbench.results/1",
        "model": {"name": model, "version": "1", "notes": "synthetic", "fps": 8.0},
        "suite": {"name": suite.name, "version": suite.version, "content_hash": suite.content_hash,
                  "source": str(suite_path), "n_items": len(suite.items), "n_items_in_scope": len(suite.items)},
        "mvbench_version": "0.1.0",
        "encoders": {"tiny": {"name": "tiny", "weights": None, "weights_sha256": "ab" * 32, "calibrated": True,
                              "preprocess": {"num_frames": 8, "size": 32, "sampling": "middle"}}},
        "config": {"metrics": list(metrics), "seed": 0, "bootstrap_resamples": 500,
                   "scorers": {"consistency": {"encoder": "tiny", "vc_pairs": "all", "clip_sampling": "middle"}},
                   "options": {"encoder": "tiny"}},
        "calibrated": True, "created": "2025-01-01T00:00:00+00:00",
        "environment": {"python": "3.11", "torch": "2.x", "platform": "linux", "device": "cpu"},
        "metrics": metrics, "items": items, "failures": failures,
        "warnings": ["1 item(s) have warnings (see items.ITEM.warnings and failures)"],
    }
    results_path = root / "results.json"
    results_path.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return {"results": results_path, "videos": video_dir, "suite": suite_path}


def _render(suite, out_dir: Path, model: str, frames: int, size: int, per_item_files: bool) -> None:
    """Scene files from :func:`mvbench.demo.render_submission`; with ``per_item_files`` every second item is
    re-written as one file with its scene ranges in submission.json (both layouts are exercised)."""
    from mvbench.demo import render_submission
    from mvbench.video.decode import decode_frames
    from mvbench.video.write import write_video

    render_submission(suite, out_dir, n_frames=frames, size=size)
    meta = json.loads((out_dir / "submission.json").read_text())
    meta["model"] = model
    entries = {}
    if per_item_files:
        for idx, item in enumerate(suite.items):
            if idx % 2 == 0:
                continue
            files = [out_dir / item.id / f"scene_{k}.mkv" for k in range(1, len(item.scenes) + 1)]
            clips = [decode_frames(f, list(range(frames))).numpy() for f in files]
            write_video(out_dir / f"{item.id}.mkv", np.concatenate(clips), fps=8.0)
            for f in files:
                f.unlink()
            (out_dir / item.id).rmdir()
            entries[item.id] = {"scenes": [[k * frames, (k + 1) * frames] for k in range(len(item.scenes))]}
    meta["items"] = entries
    (out_dir / "submission.json").write_text(json.dumps(meta), encoding="utf-8")
