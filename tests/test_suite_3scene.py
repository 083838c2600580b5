"""The bundled ``mvbench-3scene`` suite: the structure of Mask²DiT's evaluation set (Fig. 5, sec. 4.1).

50 settings x 3 scene prompts, one or two characters per scene written as ``ActorN (appearance)`` with the
same appearance text wherever the character recurs, plus a global prompt per item. Checks read the raw
JSON file with :mod:`json` where possible, so they do not depend only on the loader under test.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from importlib import resources

import pytest

from mvbench.suite import bundled_suites, load_suite, parse_suite, suite_to_dict

SUITE_NAME = "mvbench-3scene"
#: Frozen content hash of version 2.0. Results files record this hash, so scores are only comparable
#: while it holds. If you changed the suite on purpose, bump "version" and update this value.
FROZEN_HASH_V2_0 = "1ac55c41129851c5dbd69738a481623fa261446968fd47ebac54bfef93641f9c"
ACTOR_TOKEN = re.compile(r"\bActor(\d+)\b")
CATEGORIES = {"city", "nature", "historic", "sci-fi", "fantasy", "everyday"}
#: ViCLIP/CLIP text context (tokens, SOT and EOT included) -> usable content tokens.
VICLIP_CONTENT_TOKENS = 32 - 2


@pytest.fixture(scope="module")
def raw() -> dict:
    text = resources.files("mvbench").joinpath(f"data/suites/{SUITE_NAME}.json").read_text(encoding="utf-8")
    return json.loads(text)


@pytest.fixture(scope="module")
def suite():
    return load_suite(SUITE_NAME)


def all_scene_prompts(raw: dict) -> list[str]:
    return [sc["prompt"] for it in raw["items"] for sc in it["scenes"]]


def test_bundled_and_loads_by_name(suite, raw):
    assert SUITE_NAME in bundled_suites()
    assert suite.name == raw["suite"] == SUITE_NAME
    assert suite.version == raw["version"] == "2.0"
    assert "Mask2DiT" in raw["description"] and suite.description == raw["description"]


def test_exactly_50_items_of_3_scenes(suite, raw):
    assert len(raw["items"]) == 50 and len(suite.items) == 50
    for it in suite.items:
        assert len(it.scenes) == 3, it.id


def test_ids_unique_numbered_and_slugged(raw):
    ids = [it["id"] for it in raw["items"]]
    assert len(set(ids)) == 50
    for n, item_id in enumerate(ids, start=1):
        assert re.fullmatch(rf"{n:03d}_[a-z0-9]+(_[a-z0-9]+)*", item_id), item_id


def test_every_item_has_a_global_prompt(suite):
    for it in suite.items:
        assert it.global_prompt and len(it.global_prompt.split()) >= 10, it.id
        assert "Actor" not in it.global_prompt, f"{it.id}: the global prompt describes the setting only"


def test_characters_declared_named_in_order_and_used(suite):
    for it in suite.items:
        names = list(it.characters)
        assert names == [f"Actor{k}" for k in range(1, len(names) + 1)], it.id
        assert 1 <= len(names) <= 2, it.id
        used = set()
        for k, sc in enumerate(it.scenes, start=1):
            assert 1 <= len(sc.characters) <= 2, f"{it.id} scene {k}"
            assert len(set(sc.characters)) == len(sc.characters), f"{it.id} scene {k}"
            assert set(sc.characters) <= set(names), f"{it.id} scene {k}"
            used |= set(sc.characters)
        assert used == set(names), f"{it.id}: a declared character never appears"


def test_appearance_text_is_clean_and_distinct(suite):
    for it in suite.items:
        texts = [c.appearance for c in it.characters.values()]
        assert len(set(texts)) == len(texts), it.id
        for t in texts:
            assert t.strip() == t and len(t.split()) >= 3, it.id
            assert 2 <= len(t.split(", ")) <= 3, f"{it.id}: two or three short descriptors, like the paper's"
            assert "(" not in t and ")" not in t, f"{it.id}: parentheses would break 'ActorN (...)'"


def test_each_listed_character_appears_with_its_exact_appearance(suite):
    for it in suite.items:
        for k, sc in enumerate(it.scenes, start=1):
            for name in sc.characters:
                mention = f"{name} ({it.characters[name].appearance})"
                assert mention in sc.prompt, f"{it.id} scene {k}: missing {mention!r}"


def test_every_actor_token_is_a_full_listed_mention(suite):
    """No bare 'Actor2', no abbreviated appearance, no unlisted character in a prompt."""
    for it in suite.items:
        for k, sc in enumerate(it.scenes, start=1):
            tokens = [f"Actor{m}" for m in ACTOR_TOKEN.findall(sc.prompt)]
            assert set(tokens) == set(sc.characters), f"{it.id} scene {k}"
            for name, count in Counter(tokens).items():
                full = sc.prompt.count(f"{name} ({it.characters[name].appearance})")
                assert full == count, f"{it.id} scene {k}: {name} mentioned without its appearance text"


def test_prompts_start_with_a_character_and_are_short_sentences(suite):
    """Mask²DiT's example prompts (Fig. 5, Fig. 10-17) are one sentence of about 24 words: character first,
    then the action. Ours: one sentence of 15-25 words ending with a full stop."""
    for it in suite.items:
        for k, sc in enumerate(it.scenes, start=1):
            assert re.match(r"Actor\d+ \(", sc.prompt), f"{it.id} scene {k}: put the character first"
            assert 15 <= len(sc.prompt.split()) <= 25, f"{it.id} scene {k}: {len(sc.prompt.split())} words"
            assert sc.prompt.endswith(".") and sc.prompt.count(". ") == 0, f"{it.id} scene {k}: one sentence"


def test_the_action_is_more_than_the_characters(suite):
    """Short appearances leave room for the action: without the character mentions a one-character prompt
    keeps at least 11 words and a two-character prompt at least 6 (the paper's shortest: "laughs softly as
    ... harmonizes, both enjoying the peaceful night")."""
    for it in suite.items:
        for k, sc in enumerate(it.scenes, start=1):
            rest = re.sub(r"Actor\d+ \([^)]*\)", "", sc.prompt)
            assert len(rest.split()) >= (11 if len(sc.characters) == 1 else 6), f"{it.id} scene {k}: {rest!r}"


def test_no_prompt_duplicated(raw):
    scene_prompts = all_scene_prompts(raw)
    assert len(set(scene_prompts)) == len(scene_prompts) == 150
    globals_ = [it["global_prompt"] for it in raw["items"]]
    assert len(set(globals_)) == 50
    assert not set(globals_) & set(scene_prompts)
    # the same character description is not reused in another item either
    appearances = [a for it in raw["items"] for a in it["characters"].values()]
    assert len(set(appearances)) == len(appearances)


def test_one_and_two_character_items_are_balanced(suite):
    n_chars = Counter(len(it.characters) for it in suite.items)
    assert set(n_chars) == {1, 2}
    assert 20 <= n_chars[1] <= 30 and 20 <= n_chars[2] <= 30, n_chars
    two = [it for it in suite.items if len(it.characters) == 2]
    solo_scenes = [it.id for it in two if any(len(sc.characters) == 1 for sc in it.scenes)]
    together = [it.id for it in two if any(len(sc.characters) == 2 for sc in it.scenes)]
    assert len(solo_scenes) >= 15 and len(together) == len(two)


def test_settings_are_varied(raw):
    metas = [it["meta"] for it in raw["items"]]
    cats = Counter(m["category"] for m in metas)
    assert set(cats) == CATEGORIES and min(cats.values()) >= 4, cats
    assert {"indoor", "outdoor"} <= {m["location"] for m in metas}
    assert len({m["time_of_day"] for m in metas}) >= 8
    assert len({m["weather"] for m in metas}) >= 8


def test_content_hash_is_stable_and_frozen(suite, raw, tmp_path):
    again = load_suite(SUITE_NAME)
    assert again.content_hash == suite.content_hash
    assert re.fullmatch(r"[0-9a-f]{64}", suite.content_hash)
    # documented definition (docs/suites.md): sha256 of the canonical JSON of suite, version and items
    canonical = json.dumps({"suite": raw["suite"], "version": raw["version"], "items": raw["items"]},
                           sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert suite.content_hash == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    # formatting and key order do not matter; the same file elsewhere gives the same hash
    copy = tmp_path / "copy.json"
    copy.write_text(json.dumps(dict(reversed(list(raw.items()))), indent=None), encoding="utf-8")
    assert load_suite(copy).content_hash == suite.content_hash
    assert suite.content_hash == FROZEN_HASH_V2_0, (
        "mvbench-3scene content changed: bump its 'version' and update FROZEN_HASH_V2_0")


def test_one_changed_character_changes_the_hash(raw):
    edited = json.loads(json.dumps(raw))
    p = edited["items"][17]["scenes"][1]["prompt"]
    edited["items"][17]["scenes"][1]["prompt"] = p[:-1] + ("!" if p[-1] != "!" else ".")
    assert parse_suite(edited).content_hash != parse_suite(raw).content_hash


def test_round_trip_through_suite_to_dict_keeps_everything(suite):
    back = parse_suite(suite_to_dict(suite), "round-trip")
    assert back.content_hash == suite.content_hash
    assert back.items == suite.items


def test_every_prompt_fits_the_viclip_text_context(suite):
    """ViCLIP reads 32 tokens (SOT + 30 + EOT; a longer prompt is cut and its 32nd id overwritten by EOT):
    every scene prompt, with its characters and full action, and every global prompt fits whole. Uses the
    project's ViCLIP tokenizer (CLIP BPE, InternVid cleaning) and its truncation flag."""
    tokenizer_mod = pytest.importorskip("mvbench.encoders.viclip_tokenizer")
    tok = tokenizer_mod.ViclipTokenizer(context_length=32)
    for it in suite.items:
        for k, text in enumerate([it.global_prompt, *(sc.prompt for sc in it.scenes)]):
            n = len(tok.encode(text))
            assert n <= VICLIP_CONTENT_TOKENS, f"{it.id} prompt {k}: {n} tokens"
            ids, truncated = tok([text])
            assert truncated == [False], f"{it.id} prompt {k}"
            assert int(ids[0, n + 1]) == tokenizer_mod.EOT_ID  # the text feature is read at the real end
