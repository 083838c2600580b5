"""Cross-check against VBench's own code (opt-in: set MVBENCH_VBENCH_SRC to a Vchitect/VBench checkout).

VBench's ``MotionSmoothness`` and ``DynamicDegree`` classes (with their AMT-S and RAFT modules) and
mvbench's scorer functions score the same H.264 videos with the same fabricated checkpoints; motion
smoothness and every pair's top-5% flow magnitude must be equal bit for bit. VBench's package
``__init__`` imports its whole stack, so the needed files are copied into a bare package with stubs
for ``omegaconf``, ``easydict`` and VBench's distributed helpers, and run in a subprocess (needs
OpenCV and imageio, as VBench).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SRC = os.environ.get("MVBENCH_VBENCH_SRC")
pytestmark = pytest.mark.skipif(not SRC, reason="set MVBENCH_VBENCH_SRC to a VBench checkout to cross-check")

STUBS = {
    "vbench/__init__.py": "",
    "vbench/third_party/__init__.py": "",
    "vbench/utils.py": "def load_dimension_info(*a, **k):\n    raise NotImplementedError\n",
    "vbench/distributed.py": "".join(f"def {f}(*a, **k):\n    return {r}\n" for f, r in (
        ("get_world_size", "1"), ("get_rank", "0"), ("barrier", "None"), ("all_gather", "[a[0]]"),
        ("distribute_list_to_rank", "a[0]"), ("gather_list_of_dict", "a[0]"))),
    "omegaconf/__init__.py": "class OmegaConf:\n    pass\n",
    "easydict/__init__.py": ("class EasyDict(dict):\n    def __getattr__(self, k):\n        try:\n"
                             "            return self[k]\n        except KeyError:\n            raise AttributeError(k)\n"
                             "    def __setattr__(self, k, v):\n        self[k] = v\n"),
}

DRIVER = textwrap.dedent("""
    import importlib.util, json, sys
    import numpy as np, torch
    sys.path[:0] = [sys.argv[1], sys.argv[2]]
    from mvbench.encoders.amt import load_amt_s
    from mvbench.encoders.raft import load_raft
    from mvbench.scorers.vbench_motion import score_dynamic_degree, score_motion_smoothness
    from mvbench.video.decode import decode_frames, probe
    import vbench.motion_smoothness as vms
    import vbench.dynamic_degree as vdd
    from easydict import EasyDict
    from vbench.third_party.RAFT.core.utils_core.utils import InputPadder
    amt_path, raft_path = sys.argv[3], sys.argv[4]
    spec = importlib.util.spec_from_file_location("amts", sys.argv[1] + "/vbench/third_party/amt/networks/AMT-S.py")
    amts = importlib.util.module_from_spec(spec); spec.loader.exec_module(amts)

    class MS(vms.MotionSmoothness):
        def load_model(self):  # VBench's own, without OmegaConf: the AMT-S.yaml network parameters
            self.model = amts.Model(corr_radius=3, corr_lvls=4, num_flows=3)
            self.model.load_state_dict(torch.load(self.ckpt, map_location="cpu", weights_only=False)["state_dict"])
            self.model = self.model.to(self.device).eval()

    ms = MS(None, amt_path, "cpu")
    dd = vdd.DynamicDegree(EasyDict(model=raft_path, small=False, mixed_precision=False, alternate_corr=False), "cpu")
    mine_amt, mine_raft = load_amt_s(amt_path), load_raft(raft_path)
    out = []
    for path in sys.argv[5:]:
        n = probe(path, exact=True)
        frames = decode_frames(path, list(range(n.num_frames))).numpy()
        ref_frames = dd.get_frames(path)
        dd.set_params(frame=ref_frames[0], count=len(ref_frames))
        ref_scores = []
        with torch.no_grad():
            for a, b in zip(ref_frames[:-1], ref_frames[1:]):
                padder = InputPadder(a.shape)
                a, b = padder.pad(a, b)
                ref_scores.append(dd.get_score(a, dd.model(a, b, iters=20, test_mode=True)[1]))
        mine = score_dynamic_degree(frames, n.fps, mine_raft, early_exit=False)
        out.append({"ms": [float(ms.motion_score(path)), score_motion_smoothness(frames, mine_amt)["value"]],
                    "pairs": [ref_scores, mine["pair_scores"]],
                    "params": [[dd.params["thres"], dd.params["count_num"]], [mine["threshold"], mine["count_needed"]]],
                    "dynamic": [bool(dd.check_move(ref_scores)), bool(mine["value"])]})
    print(json.dumps(out))
""")


def test_scores_equal_vbench_on_the_same_videos(tmp_path):
    import _vbench_motion_weights as fab
    import numpy as np

    from mvbench.video.write import write_video

    src = Path(SRC)
    pkg = tmp_path / "vbref"
    for rel in ("vbench/motion_smoothness.py", "vbench/dynamic_degree.py"):
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src / rel, pkg / rel)
    for rel in ("vbench/third_party/amt", "vbench/third_party/RAFT"):
        shutil.copytree(src / rel, pkg / rel)
    for rel, text in STUBS.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    amt = fab.write_amt_checkpoint(tmp_path / "amt-s.pth")
    raft = fab.write_raft_checkpoint(tmp_path / "raft-things.pth")
    videos = []
    rng = np.random.default_rng(0)
    for n, h, w, fps in ((7, 130, 200, 24), (6, 128, 136, 16)):  # odd padding; 16 fps: every 2nd frame
        yy, xx = np.mgrid[0:h, 0:w]
        frames = np.stack([np.clip(np.stack([120 + 100 * np.sin((xx + 3 * t) / 9), 120 + 100 * np.cos((yy - 2 * t) / 7),
                                             128 + 60 * np.sin((xx + yy + 5 * t) / 13)], -1)
                                   + rng.normal(0, 4, (h, w, 3)), 0, 255).astype(np.uint8) for t in range(n)])
        videos.append(str(write_video(tmp_path / f"v{n}.mp4", frames, fps=fps)))
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-c", DRIVER, str(pkg), str(root), str(amt), str(raft), *videos],
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for row in json.loads(proc.stdout.strip().splitlines()[-1]):
        assert row["ms"][0] == row["ms"][1]
        assert row["params"][0] == row["params"][1]
        np.testing.assert_array_equal(np.array(row["pairs"][0]), np.array(row["pairs"][1]))
        assert row["dynamic"][0] == row["dynamic"][1]
