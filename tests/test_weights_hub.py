"""Weights hosted on the Hugging Face Hub go through huggingface_hub (issue 14). No test touches the
network: hf_hub_download is replaced by a fake that fails the test if it is called unexpectedly."""

from __future__ import annotations

import hashlib
import os

import pytest

from mvbench import weights
from mvbench.cli import main
from mvbench.errors import MvbenchError

CONTENT = b"pretend hub checkpoint" * 50
REV = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize("url,expected", [
    ("https://huggingface.co/OpenGVLab/ViCLIP/resolve/main/ViClip-InternVid-10M-FLT.pth",
     ("OpenGVLab/ViCLIP", "ViClip-InternVid-10M-FLT.pth", "main", "model")),
    ("https://huggingface.co/OpenGVLab/InternVideoMAE_models/resolve/main/mae-g/vit_g_hybrid_pt_1200e_ssv2_ft.pth",
     ("OpenGVLab/InternVideoMAE_models", "mae-g/vit_g_hybrid_pt_1200e_ssv2_ft.pth", "main", "model")),
    ("https://huggingface.co/datasets/org/stats/resolve/v1.0/fvd/real.npz?download=true",
     ("org/stats", "fvd/real.npz", "v1.0", "dataset")),
    ("https://huggingface.co/org/net/resolve/refs%2Fpr%2F3/model%20v2.bin",
     ("org/net", "model v2.bin", "refs/pr/3", "model")),
    ("https://huggingface.co/gpt2/resolve/" + REV + "/config.json", ("gpt2", "config.json", REV, "model")),
    ("https://huggingface.co/org/net/blob/main/model.bin", None),  # a web page, not a file
    ("https://huggingface.co/org/net/resolve/main/", None),
    ("http://huggingface.co/org/net/resolve/main/model.bin", None),
    ("https://github.com/org/net/releases/download/v1/model.bin", None),
    ("file:///tmp/model.bin", None),
])
def test_parse_hub_url(url, expected):
    got = weights.parse_hub_url(url)
    assert (None if got is None else (got.repo_id, got.filename, got.revision, got.repo_type)) == expected


def test_registered_hub_entries_parse():
    hub = [s for s in weights.REGISTRY.values() if "huggingface.co" in s.url]
    assert hub and all(weights.parse_hub_url(s.url) is not None for s in hub)


@pytest.fixture
def hub_entry(tmp_path, monkeypatch):
    """A registered entry on the Hub, an empty HF_HOME, and a hf_hub_download that must not be called."""
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    calls = []

    def no_network(*args, **kwargs):
        calls.append((args, kwargs))
        raise AssertionError("hf_hub_download called: the test expected no download")

    monkeypatch.setattr("huggingface_hub.hf_hub_download", no_network)
    spec = weights.WeightSpec(name="unit-hub-net", filename="net.pth",
                              url="https://huggingface.co/unit-org/unit-net/resolve/main/weights/net.pth",
                              size=len(CONTENT), sha256=hashlib.sha256(CONTENT).hexdigest())
    weights.register(spec)
    yield spec, calls
    weights.REGISTRY.pop("unit-hub-net", None)


def _fabricate_hf_cache(hub_root, content=CONTENT):
    """The hub cache layout: models--ORG--NAME/{blobs/ETAG, snapshots/REV/FILE -> blob, refs/main}."""
    repo = hub_root / "models--unit-org--unit-net"
    blob = repo / "blobs" / hashlib.sha256(content).hexdigest()
    blob.parent.mkdir(parents=True)
    blob.write_bytes(content)
    snap = repo / "snapshots" / REV / "weights" / "net.pth"
    snap.parent.mkdir(parents=True)
    snap.symlink_to(os.path.relpath(blob, snap.parent))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(REV)
    return blob


def test_existing_hf_cache_is_reused_without_network(hub_entry, tmp_path, capsys):
    spec, calls = hub_entry
    blob = _fabricate_hf_cache(tmp_path / "hf" / "hub")
    assert weights.hub_cache_dir() == tmp_path / "hf" / "hub"
    assert main(["weights", "fetch", "unit-hub-net"]) == 0
    out = capsys.readouterr().out
    assert "from the Hugging Face cache" in out and "size and sha256 verified" in out
    dest = weights.weight_path("unit-hub-net")
    assert dest.read_bytes() == CONTENT and dest.is_symlink() and dest.resolve() == blob.resolve()
    assert calls == []
    assert weights.verify("unit-hub-net").status == "ok"
    assert weights.fetch_report("unit-hub-net").source == "present"


def test_verbosity_goes_through_logging(hub_entry, tmp_path, capsys):
    _fabricate_hf_cache(tmp_path / "hf" / "hub")
    assert main(["-v", "weights", "fetch", "unit-hub-net"]) == 0
    assert "mvbench: INFO: unit-hub-net: reusing unit-org/unit-net/weights/net.pth@main" in capsys.readouterr().err
    weights.weight_path("unit-hub-net").unlink()
    assert main(["-q", "weights", "fetch", "unit-hub-net"]) == 0
    assert capsys.readouterr().err == ""


def test_hf_hub_cache_variable_wins(hub_entry, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "elsewhere"))
    _fabricate_hf_cache(tmp_path / "elsewhere")
    assert weights.fetch_report("unit-hub-net", progress=False).source == "hub-cache"


def test_cached_file_with_wrong_content_is_refused(hub_entry, tmp_path):
    _fabricate_hf_cache(tmp_path / "hf" / "hub", content=b"x" * len(CONTENT))  # right size, wrong bytes
    with pytest.raises(MvbenchError, match="does not match the sha256"):
        weights.fetch("unit-hub-net", progress=False)
    assert not weights.weight_path("unit-hub-net").exists()


def test_offline_mode_without_cache_is_a_clear_error(hub_entry, monkeypatch):
    spec, calls = hub_entry
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(MvbenchError) as err:
        weights.fetch("unit-hub-net", progress=False)
    text = str(err.value)
    assert "HF_HUB_OFFLINE is set" in text and "unit-org/unit-net/weights/net.pth@main" in text
    assert "mvbench weights import unit-hub-net PATH" in text
    assert calls == [] and not weights.weight_path("unit-hub-net").exists()


def test_download_goes_through_huggingface_hub(hub_entry, tmp_path, monkeypatch):
    """Not cached, online: hf_hub_download gets the repo, file, revision, cache folder and mirror."""
    monkeypatch.setenv("HF_ENDPOINT", "https://hf-mirror.example")
    seen = {}

    def fake_download(repo_id, filename, **kwargs):
        seen.update(kwargs, repo_id=repo_id, filename=filename)
        path = tmp_path / "downloaded" / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(CONTENT[:-1])  # one byte short: the size check must catch it
        return str(path)

    monkeypatch.setattr("huggingface_hub.hf_hub_download", fake_download)
    with pytest.raises(MvbenchError, match=f"has {len(CONTENT) - 1} bytes"):
        weights.fetch("unit-hub-net", progress=False)
    assert not weights.weight_path("unit-hub-net").exists()
    assert seen["repo_id"] == "unit-org/unit-net" and seen["filename"] == "weights/net.pth"
    assert seen["revision"] == "main" and seen["repo_type"] == "model"
    assert seen["endpoint"] == "https://hf-mirror.example" and seen["cache_dir"] == tmp_path / "hf" / "hub"


def test_gated_repository_names_the_token(hub_entry, monkeypatch):
    from huggingface_hub.errors import GatedRepoError

    def gated(*args, **kwargs):
        exc = GatedRepoError.__new__(GatedRepoError)  # built without an HTTP response object
        Exception.__init__(exc, "401 Client Error: access to model unit-org/unit-net is restricted")
        raise exc

    monkeypatch.setattr("huggingface_hub.hf_hub_download", gated)
    with pytest.raises(MvbenchError, match="gated repository") as err:
        weights.fetch("unit-hub-net", progress=False)
    assert "HF_TOKEN" in str(err.value)


def test_plain_url_download_checks_the_size(tmp_path):
    src = tmp_path / "up.bin"
    src.write_bytes(b"12345")
    weights.register(weights.WeightSpec("unit-size", "size.bin", src.as_uri(), size=6))
    try:
        with pytest.raises(MvbenchError, match="has 5 bytes, the registry says 6"):
            weights.fetch("unit-size", progress=False)
        assert not weights.weight_path("unit-size").exists()
        weights.register(weights.WeightSpec("unit-size", "size.bin", src.as_uri(), size=5))
        report = weights.fetch_report("unit-size", progress=False)
        assert report.source == "url" and report.verified == "size verified; no published sha256"
    finally:
        weights.REGISTRY.pop("unit-size", None)
