"""retrieval/storage/stories.py: near-duplicate articles (one wire story, many outlets) share a story id."""

from __future__ import annotations

from datasketch import MinHash

from retrieval.core.types import ChunkMeta
from retrieval.storage import stories
from tests.support import wire


def sig(text: str) -> MinHash:
    found = stories.signature([text])
    assert found is not None
    return found


def test_copies_of_a_wire_story_are_alike_and_another_story_is_not() -> None:
    original = sig(wire.ORIGINAL)
    for copy in (wire.REORDERED, wire.CUT, wire.NEW_LEDE):
        assert original.jaccard(sig(copy)) >= stories.STORY_SIMILARITY
    assert original.jaccard(sig(wire.OTHER_STORY)) < 0.1
    assert original.jaccard(sig(wire.CORRECTED)) >= stories.SAME_VERSION_SIMILARITY


def test_placing_articles_builds_stories() -> None:
    found = stories.Stories()
    for aid, source, day, text in [
        ("wire", "Wire", "2023-10-02", wire.ORIGINAL),
        ("a", "Outlet A", "2023-10-02", wire.REORDERED),
        ("b", "Outlet B", "2023-10-03", wire.CUT),
        ("c", "Outlet C", "2023-10-03", wire.NEW_LEDE),
        ("other", "Outlet A", "2023-10-04", wire.OTHER_STORY),
    ]:
        placed = found.place(aid, source, day, sig(text))
        assert placed.replaces == [] and placed.replaced_by is None
        found.add(stories.Member(aid, placed.story_id, source, day, sig(text)))
    assert {m.article_id: m.story_id for m in found.members.values()} == {
        "wire": "wire",
        "a": "wire",
        "b": "wire",
        "c": "wire",
        "other": "other",
    }


def test_a_later_version_from_the_same_outlet_replaces_the_earlier() -> None:
    found = stories.Stories([stories.Member("v1", "v1", "Wire", "2023-10-02T08:00:00", sig(wire.ORIGINAL))])
    later = found.place("v2", "Wire", "2023-10-02T11:00:00", sig(wire.CORRECTED))
    assert (later.story_id, later.replaces, later.replaced_by) == ("v1", ["v1"], None)
    earlier = found.place("v0", "wire", "2023-10-01", sig(wire.CORRECTED))  # outlets compared without case
    assert earlier.replaced_by == "v1"
    elsewhere = found.place("x", "Outlet A", "2023-10-03", sig(wire.CORRECTED))  # another outlet: a copy
    assert (elsewhere.story_id, elsewhere.replaces, elsewhere.replaced_by) == ("v1", [], None)


def test_a_near_identical_article_under_another_title_is_not_a_version() -> None:
    """A weekly column: the same boilerplate, another instalment. Alike enough, but replacing it would lose it."""
    week5 = stories.Member("w5", "w5", "Sports", "2023-10-05", sig(wire.ORIGINAL), "Lineup decisions: Week 5")
    found = stories.Stories([week5])
    week6 = found.place("w6", "Sports", "2023-10-12", sig(wire.CORRECTED), "Lineup decisions: Week 6")
    assert (week6.story_id, week6.replaces, week6.replaced_by) == ("w5", [], None)
    same_url = found.place("w5b", "Sports", "2023-10-06", sig(wire.CORRECTED), "Lineup decisions (updated)", "")
    assert same_url.replaces == []
    week5.url = "https://sports.example/w5"
    moved = found.place("w5c", "Sports", "2023-10-06", sig(wire.CORRECTED), "Lineup calls", week5.url)
    assert moved.replaces == ["w5"]
    retitled = found.place("w5d", "sports", "2023-10-06", sig(wire.CORRECTED), "LINEUP decisions — week 5!")
    assert retitled.replaces == ["w5"]  # the same words, other case and punctuation


def test_signatures_round_trip_and_short_texts_stand_alone() -> None:
    original = sig(wire.ORIGINAL)
    decoded = stories.decode(stories.encode(original))
    assert decoded is not None and decoded.jaccard(original) == 1.0
    assert stories.decode("legacy:AAAA") is None and stories.decode("affine32:not base64!") is None
    assert stories.signature(["Dock workers struck on Monday."]) is None
    assert stories.Stories().place("short", "Wire", "2023-10-02", None).story_id == "short"


def test_an_old_index_gets_signatures_from_its_chunk_texts() -> None:
    metas: list[ChunkMeta] = [
        {"index": i, "source": "Wire", "published_at": "2023-10-02"} for i in range(len(wire.PARAGRAPHS))
    ]
    member = stories.member_from_chunks("wire", metas, lambda: wire.PARAGRAPHS)
    assert member.story_id == "wire" and member.minhash is not None
    assert member.minhash.jaccard(sig(wire.ORIGINAL)) >= 0.9


def test_a_labelled_article_is_read_from_its_metadata_alone() -> None:
    def unread() -> list[str]:
        raise AssertionError("the texts of a labelled article were read")

    stored: ChunkMeta = {"index": 0, "story_id": "s1", "minhash": stories.encode(sig(wire.ORIGINAL))}
    member = stories.member_from_chunks("wire", [stored], unread)
    assert member.story_id == "s1" and member.minhash is not None
    short = stories.member_from_chunks("brief", [{"index": 0, "story_id": "brief"}], unread)
    assert short.minhash is None


def test_indexed_articles_are_found_through_their_band_keys() -> None:
    """What the lexical file's LSH table does for a sync: a lookup by band keys finds the indexed copies."""
    indexed = {
        "wire": stories.Member("wire", "wire", "Wire", "2023-10-02", sig(wire.ORIGINAL)),
        "other": stories.Member("other", "other", "Outlet A", "2023-10-04", sig(wire.OTHER_STORY)),
    }
    table: dict[str, set[str]] = {}
    for aid, member in indexed.items():
        assert member.minhash is not None
        for key in stories.band_keys(member.minhash):
            table.setdefault(key, set()).add(aid)

    def lookup(minhash: MinHash) -> list[stories.Member]:
        return [indexed[a] for key in stories.band_keys(minhash) for a in sorted(table.get(key, ()))]

    found = stories.Stories(indexed=lookup)
    assert found.place("a", "Outlet A", "2023-10-02", sig(wire.REORDERED)).story_id == "wire"
    assert found.place("x", "Outlet B", "2023-10-05", sig(wire.OTHER_STORY)).story_id == "other"
    found.forget("wire")  # leaving in this sync: no longer a match
    assert found.place("b", "Outlet B", "2023-10-03", sig(wire.CUT)).story_id == "b"
    assert len(set(stories.band_keys(sig(wire.ORIGINAL)))) == len(stories.band_keys(sig(wire.ORIGINAL))) > 1
