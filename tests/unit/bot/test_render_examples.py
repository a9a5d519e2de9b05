"""Examples of how answers, sources and search results are rendered for Discord."""

from __future__ import annotations

import re

from bot.discord.limits import EMBEDS_PER_MESSAGE, EMBEDS_TOTAL_LIMIT, truncate
from bot.discord.messages import (
    NO_ANSWER,
    NO_PASSAGES,
    RELATED_HEADING,
    SOURCES_HEADING,
    RenderedMessage,
    format_date,
    render_answer,
    render_search,
    source_embeds,
)
from bot.discord.split import split_text
from retrieval.core.types import Answer, Citation, Passage


def citation(n: int, **overrides: object) -> Citation:
    values: dict[str, object] = {
        "n": n,
        "article_id": f"a{n}",
        "title": f"Title {n}",
        "source": "Reuters",
        "url": f"https://news.example/{n}",
        "published_at": "2024-05-01T10:00:00Z",
        "quote": f"Quoted passage {n}.",
    }
    values.update(overrides)
    return Citation.model_validate(values)


def passage(i: int) -> Passage:
    return Passage(chunk_id=f"c{i}", article_id=f"a{i}", title=f"Passage {i}", text=f"Text {i}.")


# split_text ------------------------------------------------------------------------------------------------


def test_short_text_is_one_part_and_blank_text_none() -> None:
    assert split_text("  Xiaomi plans 300,000 cars a year.[1]\n") == ["Xiaomi plans 300,000 cars a year.[1]"]
    assert split_text("") == []
    assert split_text(" \n\n ") == []


def test_prefers_paragraph_breaks_then_sentence_ends_then_spaces() -> None:
    first = "First paragraph, short but not tiny at all."
    second = "Second paragraph. It goes on and on for a while."
    assert split_text(f"{first}\n\n{second}", 60) == [first, second]

    text = "One sentence here.[1] Another sentence that runs past the limit."
    assert split_text(text, 50) == ["One sentence here.[1]", "Another sentence that runs past the limit."]

    assert split_text("alpha beta gamma delta", 12) == ["alpha beta", "gamma delta"]


def test_never_cuts_a_marker_a_link_or_a_url() -> None:
    text = (
        "word " * 7
        + "claim[12] and [a linked label](https://x.example/a_(b)) then https://x.example/long/path"
    )
    parts = split_text(text, 45)
    assert all(len(part) <= 45 for part in parts)
    assert any("claim[12]" in part for part in parts)
    assert any("[a linked label](https://x.example/a_(b))" in part for part in parts)
    assert "https://x.example/long/path" in parts[-1]


def test_hard_splits_only_a_word_longer_than_the_limit_and_not_inside_a_marker() -> None:
    assert split_text("short " + "x" * 25, 10) == ["short", "x" * 10, "x" * 10, "x" * 5]
    assert split_text("y" * 8 + "[12]", 10) == ["y" * 8, "[12]"]


def test_long_code_block_is_closed_and_reopened_with_its_language() -> None:
    code = "\n".join(f"print({i})" for i in range(12))
    parts = split_text(f"Example:\n```python\n{code}\n```\nDone.", 60)

    assert parts[0] == "Example:"
    assert parts[-1] == "Done."
    blocks = parts[1:-1]
    assert len(blocks) > 1
    assert all(block.startswith("```python\n") and block.endswith("\n```") for block in blocks)
    assert all(len(block) <= 60 for block in blocks)
    lines = [line for block in blocks for line in block.splitlines() if not line.startswith("```")]
    assert lines == code.splitlines()


def test_short_code_block_moves_whole_to_the_next_part() -> None:
    text = "Intro words here. " + "```\na = 1\nb = 2\n```"
    assert split_text(text, 25) == ["Intro words here.", "```\na = 1\nb = 2\n```"]


def test_inline_code_is_not_cut() -> None:
    assert split_text("run `make test now` please", 16) == ["run", "`make test now`", "please"]


# embeds ----------------------------------------------------------------------------------------------------


def test_source_embed_shows_title_link_outlet_date_and_quote() -> None:
    [[embed]] = source_embeds([citation(1)])

    assert embed.title == "[1] Title 1"
    assert embed.url == "https://news.example/1"
    assert embed.description == "Quoted passage 1."
    assert embed.footer.text == "Reuters · 2024-05-01"
    assert embed.author.name == SOURCES_HEADING


def test_source_embed_without_url_outlet_or_date() -> None:
    [[embed]] = source_embeds([citation(2, url=None, source=None, published_at=None)])

    assert embed.url is None
    assert embed.footer.text is None
    assert embed.title == "[2] Title 2"


def test_long_quote_and_title_are_truncated_with_an_ellipsis() -> None:
    [[embed]] = source_embeds([citation(3, title="T" * 400, quote="q" * 5000)])

    assert embed.title is not None and len(embed.title) == 256 and embed.title.endswith("…")
    assert embed.description is not None and len(embed.description) <= 1024
    assert embed.description.endswith("…")


def test_many_sources_spill_into_follow_up_messages_in_order() -> None:
    citations = [citation(n, quote="q" * 2000) for n in range(1, 26)]
    messages = source_embeds(citations)

    assert len(messages) > 1
    assert all(len(m) <= EMBEDS_PER_MESSAGE for m in messages)
    assert all(sum(len(e) for e in m) <= EMBEDS_TOTAL_LIMIT for m in messages)
    titles = [e.title for m in messages for e in m]
    assert titles == [f"[{n}] Title {n}" for n in range(1, 26)]


def test_dates() -> None:
    assert format_date("2024-05-01") == "2024-05-01"
    assert format_date("2024-05-01T23:59:00+02:00") == "2024-05-01"
    assert format_date("Tue, 05 Mar 2024 10:00:00 GMT") == "2024-03-05"
    assert format_date("last spring") == "last spring"
    assert format_date(None) is None
    assert format_date(" ") is None


def test_truncate() -> None:
    assert truncate("abc", 3) == "abc"
    assert truncate("abcd efgh", 6) == "abcd…"


# messages --------------------------------------------------------------------------------------------------


def test_answer_then_sources_in_one_message() -> None:
    answer = Answer(answer="Xiaomi plans 300,000 cars.[1]", abstained=False, citations=[citation(1)])
    [message] = render_answer(answer)

    assert message.content == "Xiaomi plans 300,000 cars.[1]"
    assert [e.title for e in message.embeds] == ["[1] Title 1"]


def test_long_answer_puts_sources_after_the_last_part() -> None:
    text = "A sentence of the answer. " * 150
    answer = Answer(answer=text, abstained=False, citations=[citation(1), citation(2)])
    messages = render_answer(answer)

    assert len(messages) == 2
    assert messages[0].embeds == []
    assert messages[1].content is not None and len(messages[1].embeds) == 2


def test_abstained_answer_shows_related_passages() -> None:
    answer = Answer(answer="I could not find this.", abstained=True, related=[passage(1), passage(2)])
    [message] = render_answer(answer)

    assert message.content == "I could not find this."
    assert [e.title for e in message.embeds] == ["Passage 1", "Passage 2"]
    assert message.embeds[0].author.name == RELATED_HEADING


def test_empty_answer_still_renders_something() -> None:
    assert render_answer(Answer(answer="", abstained=True)) == [RenderedMessage(NO_ANSWER, [])]


def test_search_results_are_ranked_embeds() -> None:
    [message] = render_search([passage(1), passage(2)])

    assert message.content is None
    assert [e.title for e in message.embeds] == ["1. Passage 1", "2. Passage 2"]
    assert render_search([]) == [RenderedMessage(NO_PASSAGES, [])]


def test_text_is_rendered_as_is() -> None:
    text = "**bold** @everyone <#123> _x_"
    assert render_answer(Answer(answer=text, abstained=False))[0].content == text


def test_passage_markdown_in_an_embed_shows_as_typed() -> None:
    """Issue 25, item 18: a planted [text](https://...) showed as a masked link."""
    planted = citation(1).model_copy(
        update={"quote": "Read [the full report](https://evil.example/x) now, **urgently**.", "quotes": []}
    )
    [[embed]] = source_embeds([planted])
    assert embed.description is not None
    assert re.search(r"(?<!\\)\[the full report\]\(", embed.description) is None  # no unescaped masked link
    assert "\\[the full report](" in embed.description
    assert "\\*\\*urgently\\*\\*" in embed.description


def test_an_outside_article_shows_how_it_came_beside_the_outlet_it_names() -> None:
    outside = citation(
        1, via="the API", also_reported_by=[{"article_id": "b", "source": "AP", "via": "feed feeds.example"}]
    )
    [[embed]] = source_embeds([outside])
    footer = embed.footer.text or ""
    assert footer.startswith("Reuters (via the API) · 2024-05-01")
    assert "also reported by 1 outlet (AP (via feed feeds.example))" in footer
    [[own]] = source_embeds([citation(2)])
    assert (own.footer.text or "").startswith("Reuters · ")  # the corpus's own articles: the name alone
