"""The Discord renderings of the features: streaming previews, thread names, status, help, re-index text."""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.discord.ask import CURSOR, render_preview, thread_name
from bot.discord.desk import apology
from bot.discord.limits import (
    CONTENT_LIMIT,
    EMBED_DESCRIPTION_LIMIT,
    EMBEDS_TOTAL_LIMIT,
    FIELD_VALUE_LIMIT,
    THREAD_NAME_LIMIT,
)
from bot.discord.reindex import render_ingest_report, render_progress
from bot.discord.status import render_help, render_status
from bot.feedback import FeedbackCounts
from retrieval.core.types import Failure, IngestReport, Stats

SETTINGS = settings(max_examples=150, deadline=None, database=None)

chunks = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["```python\n", "\n```\n", " [1]", " [12].", "\n\n", "https://example.com/a b "]),
    st.text("ab ", min_size=100, max_size=400),
)
texts = st.lists(chunks, max_size=120).map("".join)


@SETTINGS
@given(texts, st.one_of(st.just(CONTENT_LIMIT), st.integers(60, 500)))
def test_preview_fits_and_shows_the_latest_text(text: str, limit: int) -> None:
    preview = render_preview(text, limit)

    assert 0 < len(preview) <= limit
    assert preview.count("```") % 2 == 0, "a half-written code block must still render as one"
    body = text.strip()
    if body:
        assert preview.endswith(CURSOR)
        shown = preview.removesuffix(CURSOR)
        if body.count("```") % 2:
            shown = shown.removesuffix("\n```")  # the fence closed for display
        last_word = body.split()[-1]
        assert shown.endswith(last_word[-20:])
    if len(body) + len(CURSOR) + 4 <= limit:
        assert preview.startswith(body)


def test_preview_of_a_long_text_starts_at_a_word() -> None:
    text = " ".join(f"word{i}" for i in range(1000))
    preview = render_preview(text)
    assert preview.startswith("…word")
    assert preview.removesuffix(CURSOR).endswith("word999")


@SETTINGS
@given(st.text(max_size=400))
def test_thread_names_fit(question: str) -> None:
    name = thread_name(question)
    assert 0 < len(name) <= THREAD_NAME_LIMIT
    assert "\n" not in name


def test_status_embed_shows_the_numbers() -> None:
    stats = Stats(
        articles=609,
        chunks=4321,
        embedder="onnx all-MiniLM-L6-v2",
        answer_mode="extractive",
        last_sync="2024-03-05T10:00:00+00:00",
    )
    embed = render_status(stats, FeedbackCounts(answers=12, up=5, down=2), "started by ada, 3 / 10 articles")
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Articles"] == "609"
    assert fields["Passages"] == "4,321"
    assert fields["Answer mode"] == "extractive"
    assert fields["Feedback"] == "12 answers · 👍 5 · 👎 2"
    last_sync, reindex = fields["Last sync"], fields["Re-index"]
    assert last_sync is not None and re.search(r"<t:1709632800:f>", last_sync)
    assert reindex is not None and "3 / 10" in reindex
    assert len(embed) <= EMBEDS_TOTAL_LIMIT
    assert all(len(v or "") <= FIELD_VALUE_LIMIT for v in fields.values())
    never = render_status(stats.model_copy(update={"last_sync": None}), FeedbackCounts())
    assert {f.name: f.value for f in never.fields}["Last sync"] == "never"


def test_help_lists_each_command_with_its_options_and_description() -> None:
    async def ask(interaction: discord.Interaction, question: str, private: bool = False) -> None: ...

    async def status(interaction: discord.Interaction) -> None: ...

    listed: list[app_commands.Command[Any, ..., None]] = [
        app_commands.Command(name="ask", description="Answer a question, with sources", callback=ask),
        app_commands.Command(name="status", description="What is indexed", callback=status),
    ]
    text = render_help(listed).description or ""
    assert "**/ask** `question` `[private]` — Answer a question, with sources." in text
    assert "**/status** — What is indexed." in text
    assert text.index("/ask") < text.index("/status")
    assert "Mention me" in text and "👍" in text  # what the commands' descriptions do not say
    assert len(text) <= EMBED_DESCRIPTION_LIMIT


def test_progress_and_report_fit_one_message() -> None:
    assert "reading" in render_progress(0, None)
    assert "nothing new" in render_progress(0, 0)
    line = render_progress(30, 120)
    assert "30 / 120" in line and "25%" in line and len(line) <= CONTENT_LIMIT
    report = IngestReport(
        added=["a"] * 3,
        skipped=["s"] * 600,
        failed=[Failure(origin=f"corpus/{i}.md" * 30, reason="bad front matter " * 40) for i in range(50)],
        chunks_embedded=40,
        seconds=12.34,
    )
    text = render_ingest_report(report)
    assert len(text) <= CONTENT_LIMIT
    assert text.startswith("Re-index finished in 12.3 s: 3 added, 0 updated, 0 removed, 600 unchanged")
    listed = text.count("\n- corpus/")
    assert 1 <= listed <= 5
    assert text.endswith(f"and {50 - listed} more (see the log)")
    few = render_ingest_report(IngestReport(failed=[Failure(origin="corpus/x.md", reason="no title")]))
    assert few.endswith("\n- corpus/x.md: no title")


def test_apology_carries_the_error_id() -> None:
    text = apology("deadbeef")
    assert "`deadbeef`" in text and "Traceback" not in text and len(text) < 300
