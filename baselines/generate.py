"""Run a baseline over a suite and write the submission folder, skipping items already complete."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mvbench.suite import Suite

from .base import Baseline
from .writer import SubmissionWriter


@dataclass
class GenerationSummary:
    out_dir: Path
    generated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def generate_submission(baseline: Baseline, suite: Suite, out_dir: str | Path, limit: int | None = None,
                        progress: bool = True) -> GenerationSummary:
    """Generate the first ``limit`` items of ``suite`` (all by default) into ``out_dir``.

    Item i (its position in the suite) is seeded with ``seed + i``; an item whose video files all exist is
    skipped, so an interrupted run resumes where it stopped and produces the same videos.
    """
    from tqdm import tqdm

    writer = SubmissionWriter(out_dir, baseline.metadata(), baseline.options.fps, baseline.layout)
    writer.start()
    summary = GenerationSummary(writer.root)
    items = list(enumerate(suite.items))[:limit] if limit is not None else list(enumerate(suite.items))
    bar = tqdm(items, desc=f"{baseline.name} -> {writer.root.name}", unit="item", disable=not progress)
    for index, item in bar:
        if writer.is_complete(item):
            summary.skipped.append(item.id)
        else:
            writer.write_item(item, baseline.generate_item(item, index))
            summary.generated.append(item.id)
        bar.set_postfix(generated=len(summary.generated), skipped=len(summary.skipped))
    return summary
