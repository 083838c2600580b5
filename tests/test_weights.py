"""Weights registry, cache, fetch (from a local file:// URL: no network), import and verify."""

import hashlib

import pytest

from mvbench import weights
from mvbench.cli import main
from mvbench.errors import MvbenchError, WeightsMissingError


@pytest.fixture
def fake_entry(tmp_path):
    src = tmp_path / "upstream" / "model.pth"
    src.parent.mkdir()
    src.write_bytes(b"pretend checkpoint bytes" * 100)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    spec = weights.WeightSpec(name="unit-test-net", filename="model.pth", url=src.as_uri(),
                              size=src.stat().st_size, sha256=digest)
    weights.register(spec)
    yield spec, src
    weights.REGISTRY.pop("unit-test-net", None)


def test_catalogue_entries_are_complete():
    assert {"viclip-l14", "viclip-b16"} <= set(weights.REGISTRY)
    for spec in weights.REGISTRY.values():
        assert spec.filename and spec.url.startswith(("https://", "http://")), spec.name
        assert spec.location in weights.LOCATIONS


def test_missing_file_error_names_both_commands(fake_entry):
    with pytest.raises(WeightsMissingError) as info:
        weights.require("unit-test-net")
    text = str(info.value)
    assert "mvbench weights fetch unit-test-net" in text
    assert "mvbench weights import unit-test-net PATH" in text


def test_fetch_import_verify_cycle(fake_entry, tmp_path, capsys):
    spec, src = fake_entry
    path = weights.fetch("unit-test-net", progress=False)
    assert path.read_bytes() == src.read_bytes()
    assert weights.verify("unit-test-net").status == "ok"
    assert weights.require("unit-test-net") == path
    # corrupt the cached file: verify reports a mismatch, the CLI exits 1
    path.write_bytes(b"tampered")
    assert weights.verify("unit-test-net").status == "MISMATCH"
    assert main(["weights", "verify", "unit-test-net"]) == 1
    # import refuses a file with the wrong hash, accepts the right one
    wrong = tmp_path / "wrong.pth"
    wrong.write_bytes(b"other")
    with pytest.raises(MvbenchError, match="sha256"):
        weights.import_file("unit-test-net", wrong)
    assert main(["weights", "import", "unit-test-net", str(src)]) == 0
    assert weights.verify("unit-test-net").status == "ok"
    assert main(["weights", "list"]) == 0
    assert "unit-test-net" in capsys.readouterr().out


def test_unknown_name_and_nothing_fetched_implicitly(tmp_path):
    with pytest.raises(MvbenchError, match="unknown weights"):
        weights.get_spec("no-such-net")
    from mvbench.encoders import create_encoder

    with pytest.raises(WeightsMissingError, match="viclip-l14"):
        create_encoder("viclip-l14")
    assert not (weights.mvbench_home() / "weights" / "ViClip-InternVid-10M-FLT.pth").exists()
