"""News-native answers on a real index: questions about time (as_of, windows, latest, timelines) and one
story told by many outlets (story ids at ingest, one passage per story, also_reported_by, corrections)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser

from bot.api import create_app
from retrieval.core.types import Article, Question
from retrieval.service import Newsdesk
from tests.integration.bot.test_web_page import WAIT_MS, browser  # noqa: F401 (the browser fixture)
from tests.support import wire
from tests.support.chip_plant import CHIP_PLANT
from tests.support.inside import (
    chroma_metadata,
    chunk_metadata,
    lexical_file,
    manifest,
    removals_killed,
    strip_story_labels,
)
from tests.support.live_server import live_server

pytestmark = pytest.mark.integration

COPIES = [  # (id, outlet, day, body): one wire story as four outlets ran it
    ("wire", "Wire", "2023-10-02T06:00:00+00:00", wire.ORIGINAL),
    ("copy-a", "Outlet A", "2023-10-02T09:00:00+00:00", wire.REORDERED),
    ("copy-b", "Outlet B", "2023-10-03T07:00:00+00:00", wire.CUT),
    ("copy-c", "Outlet C", "2023-10-03T10:00:00+00:00", wire.NEW_LEDE),
]


def article(aid: str, source: str, day: str, title: str, body: str) -> Article:
    url = f"https://{source.replace(' ', '')}.example/{aid}"
    return Article(id=aid, title=title, body=body, source=source, url=url, published_at=day, origin=f"test:{aid}")


@pytest.fixture
def newsroom(make_service: Callable[..., Newsdesk]) -> Newsdesk:
    service = make_service()
    articles = [article(aid, "Tech Daily", day, title, body) for aid, day, title, body in CHIP_PLANT]
    articles += [article(aid, source, day, wire.TITLE, body) for aid, source, day, body in COPIES]
    articles.append(article("port-volumes", "Outlet A", "2023-10-20", "Rotterdam volumes rise", wire.OTHER_STORY))
    report = service.add_articles(articles)
    assert len(report.added) == len(articles), report
    return service


def stories_of(service: Newsdesk) -> dict[str, str]:
    return {str(m["article_id"]): str(m["story_id"]) for m in chunk_metadata(service).values()}


# ------------------------------------------------------------------ stories


def test_republications_share_a_story_and_search_shows_it_once(newsroom: Newsdesk) -> None:
    story = stories_of(newsroom)
    assert {story[aid] for aid, *_ in COPIES} == {"wire"}
    assert story["port-volumes"] == "port-volumes" and story["chip-1"] == "chip-1"
    first_chunks = [m for m in chunk_metadata(newsroom).values() if m["index"] == 0]
    assert all(str(m.get("minhash", "")).startswith("affine32:") for m in first_chunks)

    passages = newsroom.search("Rotterdam dock workers strike over pay, union demands", k=10)
    shown = [p for p in passages if p.story_id == "wire"]
    assert shown and len({p.article_id for p in shown}) == 1  # one copy shows the story
    others = shown[0].also_reported_by
    assert len(others) == 3 and shown[0].article_id not in {o.article_id for o in others}
    assert {o.source for o in others} | {shown[0].source} == {"Wire", "Outlet A", "Outlet B", "Outlet C"}
    assert [o.published_at for o in others] == sorted(o.published_at or "" for o in others)
    assert any(p.article_id == "port-volumes" for p in passages)  # the same port, another story: still shown

    answer = newsroom.ask(Question(question="What raise did employers offer the striking Rotterdam dock workers?"))
    assert not answer.abstained
    assert any(len(c.also_reported_by) == 3 for c in answer.citations)


def test_a_correction_replaces_the_earlier_version_and_an_older_one_is_skipped(newsroom: Newsdesk) -> None:
    corrected = article("wire-v2", "Wire", "2023-10-02T11:00:00+00:00", wire.TITLE, wire.CORRECTED)
    report = newsroom.add_articles([corrected])
    assert report.added == ["wire-v2"] and report.removed == ["wire"]
    assert any("newer version" in d for d in report.duplicates)
    assert "wire" not in manifest(newsroom)
    story = stories_of(newsroom)
    assert story["wire-v2"] == story["copy-a"] == "wire"  # the story keeps its id

    again = newsroom.add_articles([article("wire", "Wire", COPIES[0][2], wire.TITLE, wire.ORIGINAL)])
    assert not again.added and any("older version" in d for d in again.duplicates)
    passages = newsroom.search("Rotterdam dock workers strike union members", k=10)
    assert "wire" not in {p.article_id for p in passages}


def test_a_replacement_a_crash_interrupted_is_finished_by_the_next_sync(
    newsroom: Newsdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    corrected = article("wire-v2", "Wire", "2023-10-02T11:00:00+00:00", wire.TITLE, wire.CORRECTED)
    with removals_killed(newsroom), pytest.raises(KeyboardInterrupt):
        newsroom.add_articles([corrected])
    assert {"wire", "wire-v2"} <= set(manifest(newsroom).articles)  # both versions are indexed

    report = newsroom.add_articles([])
    assert report.removed == ["wire"] and "wire" not in manifest(newsroom)
    assert stories_of(newsroom)["wire-v2"] == "wire"
    assert newsroom.add_articles([]).summary() == newsroom.add_articles([]).summary()  # nothing left to do


def test_deleting_the_copy_that_started_a_story_keeps_the_others_together(newsroom: Newsdesk) -> None:
    newsroom.delete("wire")
    story = stories_of(newsroom)
    assert {story["copy-a"], story["copy-b"], story["copy-c"]} == {"wire"}
    passages = [p for p in newsroom.search("Rotterdam dock workers strike over pay", k=10) if p.story_id == "wire"]
    assert len({p.article_id for p in passages}) == 1 and len(passages[0].also_reported_by) == 2
    newsroom.add_articles([article("copy-d", "Outlet D", "2023-10-04", wire.TITLE, wire.REORDERED + " Updated.")])
    assert stories_of(newsroom)["copy-d"] == "wire"


def test_an_index_from_before_stories_gets_them_at_its_next_sync(
    newsroom: Newsdesk, make_service: Callable[..., Newsdesk]
) -> None:
    expected = stories_of(newsroom)
    ids = list(chunk_metadata(newsroom))
    # Chroma's update merges metadata keys; a None value removes one
    strip_story_labels(newsroom, ids)
    lexical_file(newsroom).put({"format": "3"})  # its lexical file is of the format before stories: rebuilt from Chroma
    reopened = make_service()
    assert not any("story_id" in m for m in chroma_metadata(reopened).values())

    report = reopened.add_articles([])
    assert not (report.added or report.updated or report.removed)
    assert stories_of(reopened) == expected
    stored = chroma_metadata(reopened)
    assert {str(m["article_id"]): m["story_id"] for m in stored.values()} == expected  # in Chroma, not just memory
    assert reopened.add_articles([]).summary() == report.summary()  # labelled once


# ------------------------------------------------------------------ time


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


def test_a_window_filters_by_date_and_an_empty_one_declines(newsroom: Newsdesk) -> None:
    answer = newsroom.ask(
        Question(question="What happened at the Dresden chip plant last month?", as_of=at("2023-11-05"))
    )
    assert not answer.abstained
    assert {c.article_id for c in answer.citations} == {"chip-2"}  # October, and only October
    assert answer.evidence_dates is not None and answer.evidence_dates.first == "2023-10-10"

    declined = newsroom.ask(
        Question(question="What happened at the Dresden chip plant in February?", as_of=at("2023-12-01"))
    )
    assert declined.abstained and not declined.citations
    assert "in February (2023-02-01 to 2023-02-28)" in declined.answer
    assert declined.related and {p.article_id for p in declined.related} & {"chip-1", "chip-2", "chip-3"}

    found = newsroom.search("Dresden chip plant", as_of=at("2023-10-31"))
    assert found and all((p.published_at or "") < "2023-11" for p in found)  # nothing from after as_of


def test_a_fact_asked_of_a_window_that_does_not_hold_it_comes_from_other_dates_and_says_so(
    newsroom: Newsdesk,
) -> None:
    """People ask about the news they read in the words of its week ("how many people will it employ this
    week?"): the archive's articles of other dates answer, and the answer says they are of other dates."""
    answer = newsroom.ask(
        Question(question="How many people will the Dresden chip plant employ this week?", as_of=at("2024-03-01"))
    )
    assert not answer.abstained and [c.article_id for c in answer.citations] == ["chip-1"]
    first, note = answer.answer.splitlines()[0], answer.answer.splitlines()[-1]
    assert "2,000" in first
    assert note.startswith("No article published this week (") and "September 5, 2023" in note
    what = newsroom.ask(Question(question="What happened at the Dresden chip plant this week?", as_of=at("2024-03-01")))
    assert what.abstained and "Nothing in the archive was published this week" in what.answer  # the week is asked


def test_latest_leads_with_the_most_recent_evidence_as_of_the_question(newsroom: Newsdesk) -> None:
    latest = newsroom.ask(
        Question(question="What is the latest on the Silicon Forge chip plant in Dresden?", as_of=at("2023-12-01"))
    )
    assert latest.citations[0].article_id == "chip-3"
    assert latest.answer.startswith("As of November 20, 2023, ")
    earlier = newsroom.ask(
        Question(question="What is the latest on the Silicon Forge chip plant in Dresden?", as_of=at("2023-10-15"))
    )
    assert earlier.citations[0].article_id == "chip-2"
    assert "chip-3" not in {c.article_id for c in earlier.citations}


def test_the_latest_on_a_subject_is_its_newest_passage_even_when_the_wording_gate_would_decline(
    make_service: Callable[..., Newsdesk],
) -> None:
    strict = make_service(abstain_threshold=0.99)  # the extractive gate now declines every question
    strict.add_articles([article(aid, "Tech Daily", day, title, body) for aid, day, title, body in CHIP_PLANT])
    as_of = at("2023-12-01")
    latest = strict.ask(Question(question="What is the latest on Silicon Forge?", as_of=as_of))
    assert not latest.abstained and latest.citations[0].article_id == "chip-3"
    assert strict.ask(
        Question(question="What did Silicon Forge announce?", as_of=as_of)
    ).abstained  # not about recency: gated
    assert strict.ask(
        Question(question="What is the latest on Lufthansa?", as_of=as_of)
    ).abstained  # no passage names it
    assert strict.ask(
        Question(question="How much has Silicon Forge spent lately?", as_of=as_of)
    ).abstained  # a fact is asked for


def test_how_did_it_develop_gets_a_dated_chronology(newsroom: Newsdesk) -> None:
    answer = newsroom.ask(
        Question(question="How did the Silicon Forge chip plant in Dresden develop?", as_of=at("2023-12-31"))
    )
    lines = answer.answer.splitlines()
    assert len(lines) >= 2 and all(line.startswith("- 2023-") for line in lines)
    assert [line[2:12] for line in lines] == sorted(line[2:12] for line in lines)


def test_http_takes_as_of_in_the_body_and_the_query(newsroom: Newsdesk) -> None:
    with TestClient(create_app(newsroom.settings, newsroom)) as client:
        body = {"question": "What happened at the Dresden chip plant last month?", "as_of": "2023-11-05"}
        answer = client.post("/v1/ask", json=body).json()
        assert [c["article_id"] for c in answer["citations"]] == ["chip-2"]
        assert answer["evidence_dates"] == {"first": "2023-10-10", "last": "2023-10-10"}
        assert answer["as_of"] == "2023-11-05"
        search = client.get("/v1/search", params={"q": "Rotterdam dock strike pay", "as_of": "2023-12-01"}).json()
        copies = [p for p in search["passages"] if p["story_id"] == "wire"]
        assert len({p["article_id"] for p in copies}) == 1 and len(copies[0]["also_reported_by"]) == 3
        bad = client.post("/v1/ask", json={**body, "as_of": "last tuesday"})
        assert bad.status_code == 422 and "YYYY-MM-DD" in json.dumps(bad.json())


def test_cli_refuses_an_unreadable_as_of_before_opening_anything(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bot.cli import app

    bad = CliRunner().invoke(app, ["ask", "anything", "--as-of", "soon"], env={"NEWSDESK_DATA_DIR": str(tmp_path)})
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
    assert not any(tmp_path.iterdir())


async def test_discord_reads_the_question_at_the_time_it_was_sent(newsroom: Newsdesk) -> None:
    from tests.integration.bot.test_discord_bot import make_bot, posted_citations, run
    from tests.support.discord_fakes import FakeDiscord

    world = FakeDiscord()
    bot = await make_bot(newsroom, world)
    asked = world.interaction(world.member("ada"))
    asked.created_at = at("2023-11-05")
    await run(bot, "ask", asked, question="What happened at the Dresden chip plant last month?")
    cited = posted_citations(world.transcript.visible())
    assert [c["title"] for c in cited] == ["Construction of the Dresden chip plant begins"]

    await run(
        bot,
        "ask",
        world.interaction(world.member("ada")),
        question="What raise did employers offer the striking Rotterdam dock workers?",
    )
    footers = [c["footer"] for c in posted_citations(world.transcript.visible())]
    assert any("also reported by 3 outlets" in (f or "") for f in footers)


def test_the_web_page_shows_the_other_outlets_and_the_evidence_dates(
    newsroom: Newsdesk,
    browser: Browser,  # noqa: F811 (the fixture imported above)
) -> None:
    from playwright.sync_api import expect

    with live_server(create_app(newsroom.settings, newsroom)) as base:
        context = browser.new_context(base_url=base)
        page = context.new_page()
        page.goto("/")
        page.get_by_label("Your question").fill("What raise did employers offer the striking Rotterdam dock workers?")
        page.get_by_role("button", name="Ask").click()
        turn = page.locator(".turn").first
        also = turn.locator(".citations .card .also").filter(has_text="Also reported by 3 outlets")
        expect(also.first).to_be_visible(timeout=WAIT_MS)
        expect(also.first.locator("a")).to_have_count(3)
        expect(turn.locator(".evidence")).to_contain_text("Evidence from")
        context.close()
