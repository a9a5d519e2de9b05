"""Property tests: rendering always fits Discord's limits and loses nothing."""

from __future__ import annotations

import re

import discord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.discord.limits import (
    AUTHOR_NAME_LIMIT,
    CONTENT_LIMIT,
    EMBED_DESCRIPTION_LIMIT,
    EMBED_FIELDS_LIMIT,
    EMBED_TITLE_LIMIT,
    EMBEDS_PER_MESSAGE,
    EMBEDS_TOTAL_LIMIT,
    FIELD_NAME_LIMIT,
    FIELD_VALUE_LIMIT,
    FOOTER_LIMIT,
    URL_LIMIT,
)
from bot.discord.messages import render_answer, render_search, source_embeds
from bot.discord.split import split_text
from retrieval.core.types import Answer, Citation, Passage

# No example database: the tests must not write into the work tree.
SETTINGS = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

# Ordinary words: any printable unicode except whitespace and the characters that make markup, so that
# markers, links and fences only come from their own strategies.
word_chars = st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="`[]()")
words = st.text(word_chars, min_size=1, max_size=12).filter(lambda w: not any(c.isspace() for c in w))
markers = st.integers(1, 120).map(lambda n: f"[{n}]")
urls = st.builds(
    lambda host, path: f"https://{host}.example/{path}",
    st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12),
    st.text("abcdefghijklmnopqrstuvwxyz0123456789/_-.?=&", max_size=60),
)
labels = st.lists(words, min_size=1, max_size=5).map(" ".join)
links = st.builds(lambda label, url: f"[{label}]({url})", labels, urls)


def repeated(pieces: st.SearchStrategy[str], most: int) -> st.SearchStrategy[str]:
    """Long strings, cheaply: a short drawn string repeated (drawing thousands of characters is slow)."""
    return st.builds(lambda piece, times: piece * times, pieces, st.integers(1, most))


long_words = st.builds(
    lambda piece, times: piece * times,
    st.text("abcdefghijklmnopqrstuvwxyzé", min_size=2, max_size=30),
    st.integers(20, 200),
)
code_line = repeated(st.text("abcdefghijklmnopqrstuvwxyz0123456789 =+-*/(){}:;\"'", max_size=20), 8)
code_lines = st.builds(
    lambda lines, times: lines * times, st.lists(code_line, min_size=1, max_size=5), st.integers(1, 12)
)
code_blocks = st.builds(
    lambda lang, lines: f"```{lang}\n" + "\n".join(lines) + "\n```",
    st.sampled_from(["", "python", "js", "bash"]),
    code_lines,
)
tokens = st.one_of(
    words,
    words,
    words,
    st.builds(lambda w, m: w + m, words, markers),
    st.builds(lambda w, m: w + "." + m, words, markers),
    markers,
    urls,
    links,
    long_words,
)
separators = st.sampled_from([" ", " ", " ", "  ", "\n", "\n\n", ". ", ".\n\n", "\t"])


# Code blocks on their own lines, about one piece in fifteen.
pieces = st.one_of(*[tokens] * 14, code_blocks.map(lambda block: f"\n{block}\n"))


def answer_texts(most_pieces: int) -> st.SearchStrategy[str]:
    # A drawn length, not st.lists' own: its bias towards short lists would rarely need splitting.
    return (
        st.integers(0, most_pieces)
        .flatmap(lambda n: st.lists(st.tuples(pieces, separators), min_size=n, max_size=n))
        .map(lambda pairs: "".join(piece + separator for piece, separator in pairs))
    )


limits = st.one_of(st.just(CONTENT_LIMIT), st.integers(60, 600))


def without_fences(text: str) -> str:
    return re.sub(r"```[^\s`]*", " ", text)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", without_fences(text))


def occurrences(pattern: str, text: str, limit: int) -> list[str]:
    return [m.group() for m in re.finditer(pattern, text) if len(m.group()) <= limit]


@SETTINGS
@given(answer_texts(100), limits)
def test_split_text_fits_loses_nothing_and_cuts_no_token(text: str, limit: int) -> None:
    parts = split_text(text, limit)

    assert all(0 < len(part) <= limit for part in parts)
    assert all(part.strip() == part for part in parts if "```" not in part)
    for part in parts:
        assert part.count("```") % 2 == 0, "a code block is left open"
    # Nothing lost or reordered: the same characters, less whitespace and the fence lines added at cuts.
    assert squeeze("\n".join(parts)) == squeeze(text)
    # Words are only ever hard-split when they are too long for a part.
    if all(len(token) <= limit // 2 for token in text.split()):
        assert without_fences("\n".join(parts)).split() == without_fences(text).split()
    # Markers, URLs and links that fit in a part are never cut (a URL inside a link is the link's: when the two
    # overlap past the limit, "[label](https://x.example/a)." keeps the link whole).
    link = r"\[[^\[\]]*\]\([^\s()]*\)"
    for pattern, within in ((r"\[\d+\](?!\()", text), (r"https?://\S+", re.sub(link, " ", text)), (link, text)):
        for found in set(occurrences(pattern, within, limit)):
            assert sum(part.count(found) for part in parts) >= text.count(found), found


optional_text = st.one_of(st.none(), repeated(st.text(max_size=30), 10))
dates = st.one_of(
    st.none(),
    st.dates().map(str),
    st.datetimes().map(lambda d: d.isoformat()),
    st.just("Tue, 05 Mar 2024 10:00:00 GMT"),
    st.text(max_size=80),
)
long_urls = st.one_of(
    st.none(),
    urls,
    repeated(st.text("abcdefghijklmnopqrstuvwxyz/", min_size=1, max_size=30), 150).map(
        lambda path: f"https://x.example/{path}"
    ),
    st.text(max_size=50),
)


titles = repeated(st.text(max_size=40), 15)
quotes = repeated(st.text(max_size=80), 40)


def numbered(fields: list[tuple[str, str | None, str | None, str | None, str]]) -> list[Citation]:
    return [
        Citation(n=n, article_id=f"a{n}", title=title, source=source, url=url, published_at=date, quote=quote)
        for n, (title, source, url, date, quote) in enumerate(fields, start=1)
    ]


citation_lists = (
    st.integers(0, 40)
    .flatmap(
        lambda n: st.lists(st.tuples(titles, optional_text, long_urls, dates, quotes), min_size=n, max_size=n)
    )
    .map(numbered)
)


def assert_embed_limits(message: list[discord.Embed]) -> None:
    assert 0 < len(message) <= EMBEDS_PER_MESSAGE
    assert sum(len(embed) for embed in message) <= EMBEDS_TOTAL_LIMIT
    for embed in message:
        assert len(embed.title or "") <= EMBED_TITLE_LIMIT
        assert len(embed.description or "") <= EMBED_DESCRIPTION_LIMIT
        assert len(embed.fields) <= EMBED_FIELDS_LIMIT
        assert all(len(f.name or "") <= FIELD_NAME_LIMIT for f in embed.fields)
        assert all(len(f.value or "") <= FIELD_VALUE_LIMIT for f in embed.fields)
        assert len(embed.footer.text or "") <= FOOTER_LIMIT
        assert len(embed.author.name or "") <= AUTHOR_NAME_LIMIT
        assert embed.url is None or (len(embed.url) <= URL_LIMIT and embed.url.startswith("http"))
        embed.to_dict()


def cited_numbers(messages: list[list[discord.Embed]]) -> list[int]:
    titles = [embed.title or "" for message in messages for embed in message]
    return [int(m.group(1)) for t in titles if (m := re.match(r"\[(\d+)\]", t))]


@SETTINGS
@given(citation_lists)
def test_source_embeds_fit_and_keep_every_citation_in_order(citations: list[Citation]) -> None:
    messages = source_embeds(citations)

    for message in messages:
        assert_embed_limits(message)
    assert cited_numbers(messages) == [c.n for c in citations]
    embeds = [embed for message in messages for embed in message]
    for citation, embed in zip(citations, embeds, strict=True):
        quote = discord.utils.escape_markdown(citation.quote.strip())  # passage text shows as typed
        description = embed.description or ""
        assert description == quote or (description.endswith("…") and quote.startswith(description[:-1]))
        if citation.url and citation.url.startswith("https://") and len(citation.url) <= URL_LIMIT:
            if not any(c.isspace() for c in citation.url):
                assert embed.url == citation.url


@SETTINGS
@given(answer_texts(40), citation_lists, st.booleans())
def test_render_answer_fits(text: str, citations: list[Citation], abstained: bool) -> None:
    related = [
        Passage(chunk_id=f"c{c.n}", article_id=c.article_id, title=c.title, url=c.url, text=c.quote)
        for c in citations
    ]
    answer = Answer(
        answer=text, abstained=abstained, citations=[] if abstained else citations, related=related
    )

    messages = render_answer(answer)

    assert messages
    for message in messages:
        assert message.content or message.embeds
        assert message.content is None or len(message.content) <= CONTENT_LIMIT
        if message.embeds:
            assert_embed_limits(message.embeds)
    contents = [m.content for m in messages if m.content is not None]
    if text.strip():
        assert contents == split_text(text)
    embeds = [embed for m in messages for embed in m.embeds]
    assert len(embeds) == len(citations)
    if not abstained:
        assert cited_numbers([embeds]) == [c.n for c in citations]
    # Text comes first, then the sources.
    first_embed = next((i for i, m in enumerate(messages) if m.embeds), len(messages))
    assert all(m.content is None for m in messages[first_embed + 1 :])


@SETTINGS
@given(citation_lists)
def test_render_search_fits(citations: list[Citation]) -> None:
    passages = [
        Passage(chunk_id=f"c{c.n}", article_id=c.article_id, title=c.title, source=c.source, text=c.quote)
        for c in citations
    ]
    messages = render_search(passages)

    assert messages
    for message in messages:
        assert message.content or message.embeds
        if message.embeds:
            assert_embed_limits(message.embeds)
    assert sum(len(m.embeds) for m in messages) == len(passages)
