"""MovieBench shot annotations + character bank folders -> an mvbench suite (and the CLI command)."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from mvbench.errors import MvbenchError
from mvbench.importers.moviebench import (
    link_submission,
    load_moviebench,
    parse_shot_filename,
    parse_timestamp,
)
from mvbench.suite import load_suite


def _shot(folder, name, characters, plot="", **extra):
    folder.mkdir(parents=True, exist_ok=True)
    data = {"Characters": characters, "Plot": plot, "Background Description": "a kitchen",
            "Camera Motion": "static", "Style Elements": "warm", **extra}
    (folder / name).write_text(json.dumps(data))


@pytest.fixture
def dataset(tmp_path):
    ann = tmp_path / "ann" / "1004_Juno"
    # written out of time order on purpose
    _shot(ann, "1004_Juno_00.10.05.500-00.10.08.000.json", {"Leah": "a girl"}, "Leah laughs.")
    _shot(ann, "1004_Juno_00.02.01.000-00.02.04.250.json", {"Juno MacGuff": "red hoodie", "Leah": "braids"},
          "Juno talks to Leah.")
    _shot(ann, "1004_Juno_01.00.00.000-01.00.02.000.json", [], "An empty street.")
    (ann / "notes.json").write_text("{}")  # not a shot file: ignored
    bank = tmp_path / "bank" / "1004_Juno"
    bank.mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(bank / "Juno_MacGuff.jpg")
    (bank / "Olivia_Thirlby-Leah").mkdir()
    Image.new("RGB", (8, 8)).save(bank / "Olivia_Thirlby-Leah" / "1_0.jpg")
    Image.new("RGB", (8, 8)).save(bank / "Olivia_Thirlby-Leah" / "2_0.jpg")
    Image.new("RGB", (8, 8)).save(bank / "Mac_MacGuff.jpg")  # in the bank, in no shot
    return tmp_path


def test_shot_file_names():
    assert parse_timestamp("01.02.03.450") == pytest.approx(3723.45)
    assert parse_shot_filename("1004_Juno_00.02.01.000-00.02.04.250.json") == ("1004_Juno", 121.0, 124.25)
    with pytest.raises(MvbenchError, match="HH.MM.SS.mmm"):
        parse_shot_filename("1004_Juno.json")


def test_load_moviebench_builds_a_valid_suite(dataset, tmp_path):
    doc = load_moviebench(dataset / "ann", dataset / "bank")
    (item,) = doc["items"]
    assert item["id"] == "1004_Juno"
    assert [s["prompt"] for s in item["scenes"]] == ["Juno talks to Leah.", "Leah laughs.", "An empty street."]
    assert [s["characters"] for s in item["scenes"]] == [["Juno MacGuff", "Leah"], ["Leah"], []]
    chars = item["characters"]
    assert chars["Juno MacGuff"]["appearance"] == "red hoodie"
    assert [p.rsplit("/", 1)[-1] for p in chars["Leah"]["portraits"]] == ["1_0.jpg", "2_0.jpg"]
    assert "Mac MacGuff" in chars
    assert item["meta"]["shots"][0]["file"] == "1004_Juno_00.02.01.000-00.02.04.250.json"
    assert item["meta"]["shots"][1]["Camera Motion"] == "static"
    path = tmp_path / "suite.json"
    path.write_text(json.dumps(doc))
    suite = load_suite(path)
    assert suite.items[0].scenes[0].characters == ("Juno MacGuff", "Leah")
    assert len(suite.items[0].characters["Leah"].portraits) == 2
    # prompts from several fields
    doc2 = load_moviebench(dataset / "ann", prompt_fields=("Plot", "Background Description"))
    assert doc2["items"][0]["scenes"][0]["prompt"] == "Juno talks to Leah. a kitchen"


def test_errors_name_the_problem(tmp_path, dataset):
    with pytest.raises(MvbenchError, match="does not exist"):
        load_moviebench(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MvbenchError, match="no MovieBench shot files"):
        load_moviebench(tmp_path / "empty")
    with pytest.raises(MvbenchError, match="Bad_Santa"):
        load_moviebench(dataset / "ann", movies=["1017_Bad_Santa"])


def test_link_submission_and_cli(dataset, tmp_path):
    from mvbench.cli import main

    gen = tmp_path / "gen" / "1004_Juno"
    gen.mkdir(parents=True)
    doc = load_moviebench(dataset / "ann")
    for shot in doc["items"][0]["meta"]["shots"]:
        (gen / shot["file"].replace(".json", ".mp4")).write_bytes(shot["file"].encode())
    sub = link_submission(doc, tmp_path / "gen", tmp_path / "sub")
    assert (sub / "1004_Juno" / "scene_1.mp4").read_bytes() == b"1004_Juno_00.02.01.000-00.02.04.250.json"
    assert (sub / "submission.json").is_file()
    out = tmp_path / "cli_suite.json"
    assert main(["import-moviebench", str(dataset / "ann"), "--bank", str(dataset / "bank"), "--out", str(out)]) == 0
    assert load_suite(out).items[0].id == "1004_Juno"


def test_annotation_encoding_errors_and_bom(tmp_path):
    ann = tmp_path / "ann" / "Film"
    ann.mkdir(parents=True)
    bom = ann / "Film_00.00.01.000-00.00.02.000.json"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps({"Characters": {"Ann": "x"}, "Plot": "Ann waves."}).encode())
    doc = load_moviebench(tmp_path / "ann")
    assert doc["items"][0]["scenes"][0]["prompt"] == "Ann waves."
    bad = ann / "Film_00.00.03.000-00.00.04.000.json"
    bad.write_bytes('{"Characters": [], "Plot": "caf\u00e9"}'.encode("latin-1"))
    with pytest.raises(MvbenchError, match=r"Film_00.00.03.000-00.00.04.000.json: not UTF-8"):
        load_moviebench(tmp_path / "ann")


def test_non_ascii_movie_names_get_unique_recognisable_ids(tmp_path):
    import hashlib

    ann = tmp_path / "ann"
    names = ["東京物語", "東京の女", "Amélie", "Ame_lie", "Amelie"]
    for movie in names:
        _shot(ann / movie, f"{movie}_00.00.01.000-00.00.02.000.json", ["A"], f"plot of {movie}")
    doc = load_moviebench(ann)
    ids = {it["meta"]["movie"]: it["id"] for it in doc["items"]}

    def h(name):
        return hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]

    assert ids["東京物語"] == f"movie-{h('東京物語')}" and ids["東京の女"] == f"movie-{h('東京の女')}"
    # "Amélie" folds to "Amelie", which another movie already is: both get their hash, "Ame_lie" stays
    assert ids["Amélie"] == f"Amelie-{h('Amélie')}" and ids["Amelie"] == f"Amelie-{h('Amelie')}"
    assert ids["Ame_lie"] == "Ame_lie"
    assert len(set(ids.values())) == len(names)
    # a subset keeps the ids of the full import
    sub = load_moviebench(ann, movies=["Amélie"])
    assert sub["items"][0]["id"] == ids["Amélie"]
    alone = tmp_path / "alone"
    _shot(alone / "Amélie", "Amélie_00.00.01.000-00.00.02.000.json", ["A"], "p")
    assert load_moviebench(alone)["items"][0]["id"] == "Amelie"


def test_test_split_from_data_split_json(dataset, tmp_path):
    from mvbench.cli import main
    from mvbench.importers.moviebench import read_split

    ann = dataset / "ann"
    _shot(ann / "0001_American_Beauty", "0001_American_Beauty_00.00.43.459-00.00.43.636.json", ["Lester"], "x")
    split = tmp_path / "data_split.json"  # MovieBench's published layout
    split.write_text(json.dumps({"Train": ["0001_American_Beauty"], "Test": ["1004_Juno"]}), encoding="utf-8")
    assert read_split(split) == ["1004_Juno"] and read_split(split, "train") == ["0001_American_Beauty"]
    out = tmp_path / "test_split.json"
    assert main(["import", "moviebench", str(ann), "--split", str(split), "--out", str(out)]) == 0
    assert load_suite(out).ids == ["1004_Juno"]
    # --movies and --split together keep the movies in both
    assert main(["import", "moviebench", str(ann), "--split", str(split), "--split-name", "Train",
                 "--movies", "1004_Juno,0001_American_Beauty", "--out", str(out)]) == 0
    assert load_suite(out).ids == ["0001_American_Beauty"]
    with pytest.raises(MvbenchError, match=r"(?s)no split .Val.*splits in the file: Train, Test"):
        read_split(split, "Val")
    split.write_text(json.dumps({"Test": ["1004_Juno", "1017_Bad_Santa"]}), encoding="utf-8")
    with pytest.raises(MvbenchError, match="1017_Bad_Santa"):
        load_moviebench(ann, movies=read_split(split))
