"""Reading VBench-2.0 prompt files (the three published shapes) and the frame-prompt side file."""

from __future__ import annotations

import json

import pytest

from mvbench.cli import main
from mvbench.errors import SuiteError
from mvbench.importers.vbench import load_vbench_suite
from mvbench.suite import load_suite

# made-up prompts in the VBench-2.0 file layouts
LONG = ("A lighthouse keeper climbs the spiral stairs at dusk, lights the lamp, then watches a storm roll in "
        "over the bay while a small sailboat struggles toward the harbor and finally reaches the pier safely. ") * 2


def test_plain_text_one_prompt_per_line(tmp_path):
    f = tmp_path / "Complex_Plot.txt"
    f.write_text(f"{LONG}\n\nA fox crosses a frozen river.\n", encoding="utf-8")
    suite = load_vbench_suite(f)
    assert suite.name == "vbench2-complex-plot"
    assert suite.ids == ["Complex_Plot-000", "Complex_Plot-001"]
    item = suite.items[0]
    assert item.global_prompt == LONG.strip() and item.scenes[0].prompt == LONG.strip()
    assert item.scenes[0].frame_prompts == ()
    assert item.meta["video_name"] == LONG.strip()[:180] and item.meta["index"] == 0
    assert item.meta["dimensions"] == ["Complex_Plot"]


def test_meta_info_json_with_auxiliary_frame_prompts(tmp_path):
    f = tmp_path / "Complex_Landscape.json"
    f.write_text(json.dumps([
        {"prompt_en": "Dawn over a salt flat, then clouds gather.", "dimension": "Complex_Landscape",
         "auxiliary_info": ["Dawn over a salt flat.", "Clouds gather above the salt flat."]},
        {"prompt_en": "A canyon at noon.", "dimension": "Complex_Landscape", "auxiliary_info": [{"q": "?"}]},
    ]), encoding="utf-8")
    plain = load_vbench_suite(f)
    assert all(not s.frame_prompts for it in plain.items for s in it.scenes)
    aux = load_vbench_suite(f, aux_as_frame_prompts=True)
    assert aux.items[0].scenes[0].frame_prompts == ("Dawn over a salt flat.", "Clouds gather above the salt flat.")
    assert aux.items[1].scenes[0].frame_prompts == ()  # non-string auxiliary info is ignored


def test_full_text_info_json_filtered_by_dimension(tmp_path):
    f = tmp_path / "VBench2_full_text_info.json"
    f.write_text(json.dumps({
        "A dog runs.": {"caption": "A dog runs.", "dimension": ["Diversity", "Human_Anatomy"]},
        LONG[:180]: {"caption": LONG.strip(), "dimension": ["Diversity", "Complex_Plot"]},
        "A kite rises.": {"caption": "A kite rises.", "dimension": ["Complex_Plot"]},
    }), encoding="utf-8")
    suite = load_vbench_suite(f, dimension="Complex_Plot")
    assert [it.global_prompt for it in suite.items] == [LONG.strip(), "A kite rises."]
    assert suite.ids == ["Complex_Plot-000", "Complex_Plot-001"]
    assert load_vbench_suite(f).ids[0] == "vbench2-000"
    with pytest.raises(SuiteError, match="no prompts found for dimension 'Thermotics'"):
        load_vbench_suite(f, dimension="Thermotics")


def test_side_file_by_index_and_by_id_with_ranges(tmp_path):
    prompts = tmp_path / "Complex_Plot.txt"
    prompts.write_text("first story\nsecond story\nthird story\n", encoding="utf-8")
    side = tmp_path / "frames.json"
    side.write_text(json.dumps({"schema": "mvbench.frame_prompts/1", "items": {
        "0": ["a", "b", "c"],
        "Complex_Plot-002": {"frame_prompts": ["x", "y"], "frame_ranges": [[0, 40], [40, 81]]},
    }}), encoding="utf-8")
    suite = load_vbench_suite(prompts, frame_prompts=side)
    assert suite.items[0].scenes[0].frame_prompts == ("a", "b", "c")
    assert suite.items[1].scenes[0].frame_prompts == ()
    assert suite.items[2].scenes[0].frame_prompts == ("x", "y")
    assert suite.items[2].scenes[0].frame_ranges == ((0, 40), (40, 81))


def test_side_file_errors_name_file_and_key(tmp_path):
    prompts = tmp_path / "Complex_Plot.txt"
    prompts.write_text("one\ntwo\n", encoding="utf-8")
    bad_key = tmp_path / "k.json"
    bad_key.write_text(json.dumps({"items": {"7": ["a"]}}), encoding="utf-8")
    with pytest.raises(SuiteError, match=r"k.json: keys \['7'\] match no prompt index \(0-1\)"):
        load_vbench_suite(prompts, frame_prompts=bad_key)
    bad_value = tmp_path / "v.json"
    bad_value.write_text(json.dumps({"items": {"0": "not a list"}}), encoding="utf-8")
    with pytest.raises(SuiteError, match=r"v.json, items\['0'\]"):
        load_vbench_suite(prompts, frame_prompts=bad_value)
    bad_ranges = tmp_path / "r.json"
    bad_ranges.write_text(json.dumps({"items": {"1": {"frame_prompts": ["a", "b"], "frame_ranges": [[0, 4]]}}}),
                          encoding="utf-8")
    with pytest.raises(SuiteError, match="'frame_ranges' has 1 entries but 'frame_prompts' has 2"):
        load_vbench_suite(prompts, frame_prompts=bad_ranges)


def test_cli_writes_a_loadable_suite(tmp_path, capsys):
    prompts = tmp_path / "Complex_Plot.txt"
    prompts.write_text(f"{LONG}\nsecond\n", encoding="utf-8")
    side = tmp_path / "frames.json"
    side.write_text(json.dumps({"items": {"0": ["a", "b"]}}), encoding="utf-8")
    out = tmp_path / "suite.json"
    assert main(["import-vbench", str(prompts), "--out", str(out), "--frame-prompts", str(side)]) == 0
    assert "2 items (1 with frame-level prompts)" in capsys.readouterr().out
    suite = load_suite(out)
    assert suite.items[0].scenes[0].frame_prompts == ("a", "b") and suite.items[1].global_prompt == "second"


def test_bom_crlf_text_folders_and_non_utf8_files(tmp_path, capsys):
    f = tmp_path / "Complex_Plot.txt"
    f.write_bytes("\ufeffA fox crosses a frozen river.\r\nAn owl lands on a birch.\r\n".encode())
    suite = load_vbench_suite(f)
    assert [it.scenes[0].prompt for it in suite.items] == ["A fox crosses a frozen river.", "An owl lands on a birch."]
    meta = tmp_path / "meta.json"
    meta.write_bytes(b"\xef\xbb\xbf" + json.dumps([{"prompt_en": "A fox.", "dimension": "Complex_Plot"}]).encode())
    assert load_vbench_suite(meta).items[0].scenes[0].prompt == "A fox."
    folder = tmp_path / "prompts"
    folder.mkdir()
    with pytest.raises(SuiteError, match="prompts is a folder, not a file"):
        load_vbench_suite(folder)
    latin = tmp_path / "Latin.txt"
    latin.write_bytes("Un caf\u00e9 \u00e0 Paris.\n".encode("latin-1"))
    with pytest.raises(SuiteError, match="Latin.txt is not UTF-8"):
        load_vbench_suite(latin)
    side = tmp_path / "side.json"
    side.write_bytes(b'{"items": {"0": ["caf\xe9"]}}')
    with pytest.raises(SuiteError, match="side.json is not UTF-8"):
        load_vbench_suite(f, frame_prompts=side)
    # the CLI reports them as errors (exit 2), not tracebacks
    assert main(["import-vbench", str(folder), "--out", str(tmp_path / "s.json")]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_import_command_family_and_old_alias_write_the_same_suite(tmp_path):
    prompts = tmp_path / "Complex_Plot.txt"
    prompts.write_text("A fox crosses a frozen river.\nA kite rises over a beach.\n", encoding="utf-8")
    new, old = tmp_path / "new.json", tmp_path / "old.json"
    assert main(["import", "vbench", str(prompts), "--out", str(new)]) == 0
    assert main(["import-vbench", str(prompts), "--out", str(old)]) == 0
    assert new.read_text(encoding="utf-8") == old.read_text(encoding="utf-8")
    assert load_suite(new).ids == ["Complex_Plot-000", "Complex_Plot-001"]
    with pytest.raises(SystemExit):  # argparse: unknown format
        main(["import", "no-such-format", str(prompts), "--out", str(new)])
