"""Issue 25's rules on outside content, one function at a time (the integration tests drive them end to end)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from retrieval.answer.chain import carry_over, number_passages
from retrieval.core import dates, time_words
from retrieval.core.dates import published
from retrieval.core.errors import SourceError
from retrieval.core.types import Passage, Turn
from retrieval.ingest.sources import article_id_for, inert_markers, normalise_url
from retrieval.storage import provenance


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("deep cracks [2] and drained [3].", "deep cracks (#2) and drained (#3)."),
        ("see [1, 2], [1-3], [^5] and 【4】", "see (#1, 2), (#1-3), (#5) and (#4)"),
        ("as [source 2] and (passage 4) said", "as (source no. 2) and (passage no. 4) said"),
        ("drained within days (3). In (2023).", "drained within days (#3). In (2023)."),
        ("Read [the report](https://evil.example/x) now", "Read the report (https://evil.example/x) now"),
        ("a [sic] remark, [Reuters] and plans (1) and (2) are", "a [sic] remark, [Reuters] and plans (1) and (2) are"),
    ],
)
def test_markers_and_links_in_article_text_are_made_inert(text: str, expected: str) -> None:
    assert inert_markers(text) == expected


def test_ids_keep_the_urls_path_and_query_case() -> None:
    assert normalise_url("https://WWW.Example.com/s/Xk3Q/#top") == "example.com/s/Xk3Q"
    assert normalise_url("http://example.com/a?Q=B") == "example.com/a?Q=B"
    assert article_id_for("https://x.example/s/Xk3Q", "k") != article_id_for("https://x.example/s/xK3q", "k")
    assert article_id_for("https://x.example/s/Xk3Q", "k") == article_id_for("http://www.X.example/s/Xk3Q/", "k")


def test_published_dates_are_instants_and_unreadable_ones_are_errors() -> None:
    earlier, later = "2023-10-02T09:00:00+02:00", "2023-10-02T08:00:00+00:00"
    assert earlier > later and dates.order_key(earlier) < dates.order_key(later)  # text order lies
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert dates.in_future("9999-12-31", now) and dates.in_future("2026-01-01T12:30:00+00:00", now)
    assert not dates.in_future("2026-01-02", now)  # a date alone: already that day at +14:00
    assert not dates.in_future("2026-01-01T12:05:00Z", now)
    for value in ("0000-01-01", "not a date", "2023-13-45"):
        with pytest.raises(SourceError, match="published_at"):
            published(value)
    assert published(None) is None and published("2024-05-02") == dates.normalise("2024-05-02")


def test_outside_articles_never_replace_local_ones() -> None:
    corpus = {"origin": "/c/a.md", "origin_root": "/c", "url": "https://w.example/a"}
    api = {"origin": "api", "url": "https://w.example/a"}
    feed = {"origin": "https://f.example/1", "feed": "https://f.example/rss", "url": "https://f.example/1"}
    assert not provenance.may_replace(corpus, api, same_id=True)
    assert not provenance.may_replace(corpus, feed)
    assert provenance.may_replace(api, corpus, same_id=True)
    assert provenance.may_replace(feed, {**feed, "url": "https://f.example/2"})  # the same feed
    assert not provenance.may_replace(feed, {**feed, "feed": "https://other.example/rss", "url": "x"})


def test_outlets_are_counted_by_who_vouches_for_them_and_outside_ones_say_how_they_came() -> None:
    def shown(meta: dict[str, str], source: str) -> tuple[str, str]:
        key = provenance.publisher(meta, source)
        return key, provenance.shown(source, key)

    folder = {"origin": "corpus/a.md", "origin_root": "corpus"}
    assert shown(folder, "Reuters") == ("outlet reuters", "Reuters")
    assert shown(folder, "REUTERS ")[0] == "outlet reuters"  # the operator's files: the outlet they name
    assert shown({"origin": "api"}, "Reuters") == ("api", "Reuters (via the API)")
    assert shown({"origin": "api"}, "BBC")[0] == "api"  # whatever name an API post claims
    page = {"origin": "https://www.Example.com/news/1?x=1"}
    assert shown(page, "BBC") == ("page example.com", "BBC (via example.com)")
    feed = {"origin": "https://f.example/1", "feed": "https://feeds.example/rss"}
    assert shown(feed, "Wire") == ("feed https://feeds.example/rss", "Wire (via feed feeds.example)")
    assert shown({"origin": "x", "feed": "/tmp/saved/wire.xml"}, "")[1] == "unknown outlet (via feed wire.xml)"


def test_as_of_outside_the_years_read_is_refused() -> None:
    for value in ("0001-01-01", "9999-12-31T23:59:59-14:00"):
        with pytest.raises(ValueError, match="outside the years"):
            dates.parse_as_of(value)
    frame = time_words.read_time("what happened yesterday?", datetime(1, 1, 1, tzinfo=UTC).date())
    assert frame.since is None  # a window before the calendar: none, not an OverflowError


def test_carry_over_is_linear_in_the_history() -> None:
    words = " ".join(f"Word{i}" for i in range(20_000))
    assert carry_over("And then?", [Turn(role="user", content=words)]).endswith("Word19999")


def test_the_model_reads_how_an_outside_article_came_beside_the_outlet_it_claims() -> None:
    outside = Passage(chunk_id="c1", article_id="a", title="T", source="Reuters", via="the API", text="Body one.")
    own = Passage(chunk_id="c2", article_id="b", title="U", source="Wire", published_at="2023-10-02", text="Two.")
    text = number_passages([outside, own])
    assert "[1] T (Reuters (via the API))" in text and "[2] U (Wire, 2023-10-02)" in text
