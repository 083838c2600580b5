"""One ``--vbench-mode`` for both VBench scorers (appearance and motion): one flag, one option, one set
of values; the removed ``--vbench-motion-mode`` and the former values ``clip`` / ``whole`` are refused
with a pointer to the new name."""

from __future__ import annotations

import re

import pytest

from mvbench.cli import build_parser, main
from mvbench.errors import ConfigError
from mvbench.options import resolve_options
from mvbench.scorers.vbench_appearance import VBenchAppearanceScorer
from mvbench.scorers.vbench_motion import VBenchMotionScorer
from mvbench.scorers.vbench_options import VBENCH_MODE


def _evaluate_help(capsys) -> str:
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "--help"])
    assert exc.value.code == 0
    return capsys.readouterr().out


def test_both_scorers_declare_the_same_option_object():
    for scorer in (VBenchAppearanceScorer, VBenchMotionScorer):
        specs = [s for s in scorer.option_specs if "mode" in s.name and "vbench" in s.name]
        assert specs == [VBENCH_MODE] and specs[0] is VBENCH_MODE, scorer.name
    assert VBENCH_MODE.default == "scene" and VBENCH_MODE.choices == ("scene", "video", "long")


def test_evaluate_help_shows_one_vbench_mode_flag(capsys):
    text = _evaluate_help(capsys)
    assert len(re.findall(r"^\s+--vbench-mode\b", text, re.M)) == 1, text  # one flag in the option list
    assert text.count("[--vbench-mode ") == 1  # and once in the usage line
    assert "--vbench-motion-mode" not in text
    assert "{scene,video,long}" in text
    flat = " ".join(text.split())  # argparse wraps the help text
    assert "temporal_flickering" in flat and "dynamic_degree" in flat  # the help names both scorers' metrics


def test_one_value_reaches_both_scorers():
    opts = resolve_options({"vbench_mode": "video", "device": "cpu"})
    assert opts["vbench_mode"] == "video"
    appearance = VBenchAppearanceScorer({**opts, "metrics": ["temporal_flickering"]})
    motion = VBenchMotionScorer({**opts, "metrics": ["motion_smoothness"]}, interpolator=object())
    assert appearance.config()["mode"] == motion.config()["mode"] == "video"
    default = resolve_options({"device": "cpu"})
    assert VBenchAppearanceScorer({**default, "metrics": ["temporal_flickering"]}).config()["mode"] == "scene"
    assert VBenchMotionScorer({**default, "metrics": ["motion_smoothness"]}, interpolator=object()).config()["mode"] \
        == "scene"


@pytest.mark.parametrize("old, new", [("clip", "scene"), ("whole", "video")])
def test_former_values_name_their_new_name(old, new):
    with pytest.raises(ConfigError) as err:
        resolve_options({"vbench_mode": old})
    text = str(err.value)
    assert "'vbench_mode' (--vbench-mode)" in text and f"{old!r} is now {new!r}" in text


def test_removed_motion_flag_suggests_the_shared_one():
    with pytest.raises(ConfigError, match="unknown option 'vbench_motion_mode'; did you mean 'vbench_mode'"):
        resolve_options({"vbench_motion_mode": "video"})


def test_command_line_refuses_former_value_and_removed_flag(capsys):
    parser = build_parser()
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(["evaluate", "--suite", "s", "--videos", "v", "--vbench-mode", "whole"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--vbench-mode" in err and "'whole' is now 'video'" in err
    with pytest.raises(SystemExit):
        parser.parse_args(["evaluate", "--suite", "s", "--videos", "v", "--vbench-mode", "frames"])
    assert "invalid choice: 'frames'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parser.parse_args(["evaluate", "--suite", "s", "--videos", "v", "--vbench-motion-mode", "video"])
    assert "--vbench-motion-mode" in capsys.readouterr().err
    args = parser.parse_args(["evaluate", "--suite", "s", "--videos", "v", "--vbench-mode", "long"])
    assert args.vbench_mode == "long"
