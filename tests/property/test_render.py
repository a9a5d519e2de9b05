"""Property tests: rendering always fits Discord's limits and loses nothing."""

from __future__ import annotations

import re

import discord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.render import (
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
    render_answer,
    render_search,
    source_embeds,
    split_text,
)
from retrieval.types import Answer, Citation, Passage

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

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
long_words = st.text("abcdefghijklmnopqrstuvwxyz", min_size=50, max_size=2500)
code_lines = st.lists(
    st.text("abcdefghijklmnopqrstuvwxyz0123456789 =+-*/(){}:;\"'", max_size=90), min_size=1, max_size=40
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


@st.composite
def answer_texts(draw: st.DrawFn) -> str:
    pieces: list[str] = []
    for _ in range(draw(st.integers(0, 150))):
        if draw(st.integers(0, 30)) == 0:
            pieces.append("\n" + draw(code_blocks) + "\n")
        else:
            pieces.append(draw(tokens))
        pieces.append(draw(separators))
    return "".join(pieces)


limits = st.one_of(st.just(CONTENT_LIMIT), st.integers(60, 600))


def without_fences(text: str) -> str:
    return re.sub(r"```[^\s`]*", " ", text)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", without_fences(text))


def occurrences(pattern: str, text: str, limit: int) -> list[str]:
    return [m.group() for m in re.finditer(pattern, text) if len(m.group()) <= limit]


@SETTINGS
@given(answer_texts(), limits)
def test_split_text_fits_and_loses_nothing(text: str, limit: int) -> None:
    parts = split_text(text, limit)

    assert all(0 < len(part) <= limit for part in parts)
    assert all(part.strip() == part for part in parts if "```" not in part)
    assert squeeze("".join(parts)) == squeeze(text)
    if all(len(token) <= limit // 2 for token in text.split()):
        assert without_fences(" ".join(parts)).split() == without_fences(text).split()
    for part in parts:
        assert part.count("```") % 2 == 0, "a code block is left open"


@SETTINGS
@given(answer_texts(), limits)
def test_split_text_keeps_markers_urls_and_links_whole(text: str, limit: int) -> None:
    parts = split_text(text, limit)
    for pattern in (r"\[\d+\](?!\()", r"https?://\S+", r"\[[^\[\]]*\]\([^\s()]*\)"):
        for found in set(occurrences(pattern, text, limit)):
            assert sum(part.count(found) for part in parts) >= text.count(found), found


optional_text = st.one_of(st.none(), st.text(max_size=300))
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
    st.text("abcdefghijklmnopqrstuvwxyz/", min_size=1, max_size=3000).map(lambda p: f"https://x.example/{p}"),
    st.text(max_size=50),
)


@st.composite
def citation_lists(draw: st.DrawFn) -> list[Citation]:
    count = draw(st.integers(0, 40))
    return [
        Citation(
            n=n,
            article_id=f"a{n}",
            title=draw(st.text(max_size=600)),
            source=draw(optional_text),
            url=draw(long_urls),
            published_at=draw(dates),
            quote=draw(st.text(max_size=3000)),
        )
        for n in range(1, count + 1)
    ]


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
@given(citation_lists())
def test_source_embeds_fit_and_keep_every_citation_in_order(citations: list[Citation]) -> None:
    messages = source_embeds(citations)

    for message in messages:
        assert_embed_limits(message)
    assert cited_numbers(messages) == [c.n for c in citations]
    embeds = [embed for message in messages for embed in message]
    for citation, embed in zip(citations, embeds, strict=True):
        quote = citation.quote.strip()
        description = embed.description or ""
        assert description == quote or (description.endswith("…") and quote.startswith(description[:-1]))
        if citation.url and citation.url.startswith("https://") and len(citation.url) <= URL_LIMIT:
            if not any(c.isspace() for c in citation.url):
                assert embed.url == citation.url


@SETTINGS
@given(answer_texts(), citation_lists(), st.booleans())
def test_render_answer_fits(text: str, citations: list[Citation], abstained: bool) -> None:
    related = [
        Passage(chunk_id=f"c{c.n}", article_id=c.article_id, title=c.title, url=c.url, text=c.quote) for c in citations
    ]
    answer = Answer(answer=text, abstained=abstained, citations=[] if abstained else citations, related=related)

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
@given(citation_lists())
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
