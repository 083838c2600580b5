"""`benchmarks/gpu_all.sh --dry-run` runs every section of the GPU benchmark on the CPU at toy size, so the
script the GPU machine runs cannot rot."""

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: sections that must run here (CPU, toy size); the others may be skipped (torchcodec, absent scorers)
MUST_RUN = ("environment", "scenes", "consistency_e2e_pyav", "viclip_encoder_only", "i3d", "videomae",
            "mask2dit_attention", "pmwd_cost")


@pytest.mark.timeout(1200)
def test_gpu_all_dry_run_writes_every_section(tmp_path):
    proc = subprocess.run(["bash", "benchmarks/gpu_all.sh", "--dry-run", "--out", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=1150)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    doc = json.loads((tmp_path / "gpu_all.json").read_text())
    assert doc["dry_run"] is True and doc["device"] == "cpu"
    sections = doc["sections"]
    for name in MUST_RUN:
        assert sections[name]["status"] == "ok", (name, sections[name])
    assert all(s["status"] in ("ok", "skipped", "error") for s in sections.values())
    e2e = sections["consistency_e2e_pyav"]
    assert e2e["clips"] == 4 and e2e["files_decoded"] == 4 and e2e["clips_per_s"] > 0
    enc = sections["viclip_encoder_only"]
    assert enc["sdpa_vs_math_max_abs_diff"] < 1e-4  # fp32 on the CPU: the two attentions agree
    # metrics of other issues are reported whether or not their scorers are here
    # (metrics timed by one script share a section: "metric:a,b,c")
    covered = {m for name in sections if name.startswith("metric:") for m in name[len("metric:"):].split(",")}
    assert {"temporal_flickering", "fid", "motion_smoothness"} <= covered, sorted(sections)
    table = (tmp_path / "gpu_all.md").read_text()
    for name in MUST_RUN:
        assert f"| {name} |" in table
