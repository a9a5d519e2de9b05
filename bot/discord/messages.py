"""Turn engine answers and passages into Discord messages and embeds that respect Discord's size limits.

Pure functions: no client, no network. The bot sends each RenderedMessage in order; mention safety is
handled when sending (allowed_mentions). Passage text in embeds is escaped (discord.utils.escape_markdown): an
article's markdown, a masked link above all, shows as typed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import discord

from bot.discord.limits import (
    EMBED_TITLE_LIMIT,
    EMBEDS_PER_MESSAGE,
    EMBEDS_TOTAL_LIMIT,
    FIELD_VALUE_LIMIT,
    URL_LIMIT,
    truncate,
)
from bot.discord.split import split_text
from retrieval.core import dates
from retrieval.core.types import Answer, Citation, Outlet, Passage, outlet_label, outlet_name

# Quotes are kept to a field's size (well under the description limit) so several sources share a message.
QUOTE_LIMIT = FIELD_VALUE_LIMIT
OUTLET_LIMIT = 200
RAW_DATE_LIMIT = 40

NO_ANSWER = "No answer."
NO_PASSAGES = "No matching passages."
SOURCES_HEADING = "Sources"
RELATED_HEADING = "Related passages"
SEARCH_HEADING = "Search results"

SOURCE_COLOUR = discord.Colour.blurple()
RELATED_COLOUR = discord.Colour.light_grey()


@dataclass(frozen=True)
class RenderedMessage:
    """One Discord message to send: text content (or None) and its embeds."""

    content: str | None
    embeds: list[discord.Embed] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------------------
# Answers
# ---------------------------------------------------------------------------------------------------------


def render_answer(answer: Answer) -> list[RenderedMessage]:
    """The answer text, split to fit, followed by its sources (or related passages when it abstained)."""
    if answer.abstained and answer.related:
        groups = _pack(_passage_embeds(answer.related, RELATED_HEADING, numbered=False))
    else:
        groups = source_embeds(answer.citations)
    return _assemble(split_text(answer.answer), groups, empty=NO_ANSWER)


def render_search(passages: Sequence[Passage]) -> list[RenderedMessage]:
    """Top passages for /search, ranked, as embeds only."""
    groups = _pack(_passage_embeds(passages, SEARCH_HEADING, numbered=True))
    return _assemble([], groups, empty=NO_PASSAGES)


def _assemble(texts: list[str], groups: list[list[discord.Embed]], empty: str) -> list[RenderedMessage]:
    # Embeds go on the last text message so that the sources read after the whole answer; Discord's
    # 6,000-character embed budget does not count message content, so they always fit there.
    if not texts and not groups:
        return [RenderedMessage(empty)]
    messages = [RenderedMessage(text) for text in texts]
    if groups:
        first, *rest = groups
        if messages:
            messages[-1] = RenderedMessage(messages[-1].content, first)
        else:
            messages.append(RenderedMessage(None, first))
        messages.extend(RenderedMessage(None, group) for group in rest)
    return messages


# ---------------------------------------------------------------------------------------------------------
# Embeds
# ---------------------------------------------------------------------------------------------------------


def quoted(citation: Citation) -> str:
    """Every sentence the citation's claims rest on, in order, "…" between them."""
    return "\n…\n".join(citation.quotes or [citation.quote])


def source_embeds(citations: Sequence[Citation]) -> list[list[discord.Embed]]:
    """One embed per citation, in order, grouped into messages that each respect Discord's embed limits."""
    embeds = [
        _embed(
            title=f"[{c.n}] {c.title}",
            url=c.url,
            text=quoted(c),
            source=outlet_label(c.source, c.via),
            published_at=c.published_at,
            colour=SOURCE_COLOUR,
            also=c.also_reported_by,
        )
        for c in citations
    ]
    if embeds:
        embeds[0].set_author(name=SOURCES_HEADING)
    return _pack(embeds)


def _passage_embeds(passages: Sequence[Passage], heading: str, *, numbered: bool) -> list[discord.Embed]:
    embeds = [
        _embed(
            title=f"{rank}. {p.title}" if numbered else p.title,
            url=p.url,
            text=p.text,
            source=outlet_label(p.source, p.via),
            published_at=p.published_at,
            colour=RELATED_COLOUR,
            also=p.also_reported_by,
        )
        for rank, p in enumerate(passages, start=1)
    ]
    if embeds:
        embeds[0].set_author(name=heading)
    return embeds


def _embed(
    *,
    title: str,
    url: str | None,
    text: str,
    source: str | None,
    published_at: str | None,
    colour: discord.Colour,
    also: Sequence[Outlet] = (),
) -> discord.Embed:
    embed = discord.Embed(
        title=truncate(title.strip() or "(untitled)", EMBED_TITLE_LIMIT),
        url=_link(url),
        # passage text is data: its markdown (a planted [text](url) masked link, bold, spoilers) shows as typed
        description=truncate(discord.utils.escape_markdown(text.strip()), QUOTE_LIMIT) or None,
        colour=colour,
    )
    footer = " · ".join(
        part
        for part in (truncate((source or "").strip(), OUTLET_LIMIT), format_date(published_at), also_reported(also))
        if part
    )
    if footer:
        embed.set_footer(text=footer)
    return embed


def _pack(embeds: Sequence[discord.Embed]) -> list[list[discord.Embed]]:
    """Group embeds, in order, into messages of at most 10 embeds and 6,000 embed characters."""
    messages: list[list[discord.Embed]] = []
    size = 0
    for embed in embeds:
        if not messages or len(messages[-1]) == EMBEDS_PER_MESSAGE or size + len(embed) > EMBEDS_TOTAL_LIMIT:
            messages.append([])
            size = 0
        messages[-1].append(embed)
        size += len(embed)
    return messages


def _link(url: str | None) -> str | None:
    """The url if Discord will accept it as an embed link (http(s), no spaces, not too long)."""
    if url and len(url) <= URL_LIMIT and re.fullmatch(r"https?://\S+", url):
        return url
    return None


def also_reported(also: Sequence[Outlet]) -> str | None:
    """ "also reported by 3 outlets (Reuters, AP, BBC)": the story's other copies, for a footer."""
    outlets = list(dict.fromkeys(outlet_name(o.source or "another outlet", o.via) for o in also))
    if not also:
        return None
    names = truncate(", ".join(outlets), OUTLET_LIMIT * 3)
    return f"also reported by {len(also)} {'outlet' if len(also) == 1 else 'outlets'} ({names})"


def format_date(published_at: str | None) -> str | None:
    """An ISO or RFC 2822 date/datetime as YYYY-MM-DD; anything else as given (shortened)."""
    if not published_at or not published_at.strip():
        return None
    parsed = dates.day(published_at)
    return parsed.isoformat() if parsed else truncate(published_at.strip(), RAW_DATE_LIMIT)
