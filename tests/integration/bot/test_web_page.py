"""The page at / in a real headless Chromium: ask the seed question, watch the answer and its citation card."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot.api import create_app
from retrieval.service import Newsdesk
from tests.conftest import SEED_QUESTION
from tests.support.live_server import live_server

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
WAIT_MS = 60_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists() and shutil.which("chromium"), "install Debian's chromium (see .ci/run)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(seed_service: Newsdesk, browser: Browser) -> Iterator[Page]:
    with live_server(create_app(seed_service.settings, seed_service)) as base:
        context = browser.new_context(base_url=base)
        opened = context.new_page()
        opened.goto("/")
        yield opened
        context.close()


def test_seed_question_streams_an_answer_with_a_citation_card(page: Page) -> None:
    expect(page).to_have_title("Newsdesk")
    page.get_by_label("Your question").fill(SEED_QUESTION)
    page.get_by_role("button", name="Ask").click()

    turn = page.locator(".turn").first
    expect(turn.locator(".question")).to_have_text(SEED_QUESTION)
    expect(turn.locator(".answer-text")).to_contain_text("300,000", timeout=WAIT_MS)
    card = turn.locator(".citations .card").first
    expect(card).to_be_visible()
    expect(card.locator(".number")).to_have_text("[1]")
    expect(card.locator(".title")).to_contain_text("Xiaomi")
    expect(card.locator(".title")).to_have_attribute("href", "/v1/articles/" + card_article_id(page))
    expect(card.locator("time")).to_have_attribute("datetime", "2022-09-03")
    expect(card.locator("mark.quote")).to_contain_text("300,000")
    # the [1] in the answer links to its card
    marker = turn.locator(".answer-text sup a")
    expect(marker).to_have_text("[1]")
    assert marker.get_attribute("href") == "#" + str(card.get_attribute("id"))
    expect(page.get_by_role("button", name="Ask")).to_be_enabled()


def card_article_id(page: Page) -> str:
    response = page.request.get("/v1/articles")
    return str(response.json()["items"][0]["id"])


def test_follow_up_keeps_the_conversation_and_abstention_shows_related(page: Page) -> None:
    box = page.get_by_label("Your question")
    box.fill(SEED_QUESTION)
    box.press("Enter")
    expect(page.locator(".turn").first.locator(".citations .card")).to_have_count(1, timeout=WAIT_MS)

    with page.expect_request("**/v1/ask/stream") as sent:
        box.fill("Who won the 2018 FIFA World Cup final?")
        box.press("Enter")
    sent_body = sent.value.post_data_json
    assert sent_body is not None
    history = sent_body["history"]
    assert [turn["role"] for turn in history] == ["user", "assistant"]
    assert history[0]["content"] == SEED_QUESTION and "300,000" in history[1]["content"]

    second = page.locator(".turn").nth(1)
    expect(second.locator(".answer-text")).to_contain_text("do not answer", timeout=WAIT_MS)
    expect(second.locator(".related .card").first).to_be_visible()
    expect(second.locator(".citations")).to_be_hidden()
    expect(page.locator(".turn")).to_have_count(2)
    expect(page.locator(".turn").first.locator(".answer-text")).to_contain_text("300,000")

    page.get_by_role("button", name="New conversation").click()
    expect(page.locator(".turn")).to_have_count(0)


def test_a_refused_question_shows_the_servers_message(page: Page) -> None:
    box = page.get_by_label("Your question")
    box.fill("why " * 600)
    box.press("Enter")
    expect(page.locator(".turn .error")).to_contain_text("NEWSDESK_MAX_QUESTION_CHARS", timeout=WAIT_MS)
