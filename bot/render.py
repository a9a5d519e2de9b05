"""Turn engine answers and passages into Discord messages that respect Discord's size limits.

Pure functions: no client, no network. The bot sends each RenderedMessage in order; mention safety is
handled when sending (allowed_mentions), so text is rendered as is.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import discord

from bot.feedback import FeedbackCounts
from retrieval import dates
from retrieval.types import Answer, Citation, IngestReport, Outlet, Passage, Stats

# Discord's limits, in characters.
CONTENT_LIMIT = 2000
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FIELDS_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
AUTHOR_NAME_LIMIT = 256
URL_LIMIT = 2048
EMBEDS_PER_MESSAGE = 10
EMBEDS_TOTAL_LIMIT = 6000  # title + description + fields + footer + author of all embeds of one message

# Quotes are kept to a field's size (well under the description limit) so several sources share a message.
QUOTE_LIMIT = FIELD_VALUE_LIMIT
OUTLET_LIMIT = 200
RAW_DATE_LIMIT = 40
ELLIPSIS = "…"

NO_ANSWER = "No answer."
NO_PASSAGES = "No matching passages."
SOURCES_HEADING = "Sources"
RELATED_HEADING = "Related passages"
SEARCH_HEADING = "Search results"

SOURCE_COLOUR = discord.Colour.blurple()
RELATED_COLOUR = discord.Colour.light_grey()
STATUS_COLOUR = discord.Colour.teal()

THREAD_NAME_LIMIT = 100
CURSOR = " ▌"
PROGRESS_BAR = 20
REPORT_FAILURES = 5


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
            source=c.source,
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
            source=p.source,
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
        description=truncate(text.strip(), QUOTE_LIMIT) or None,
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
    outlets = list(dict.fromkeys((o.source or "another outlet").strip() for o in also))
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


def truncate(text: str, limit: int) -> str:
    """text, cut to at most limit characters with an ellipsis when it is longer."""
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS


# ---------------------------------------------------------------------------------------------------------
# Splitting text
# ---------------------------------------------------------------------------------------------------------

_FENCE = re.compile(r"(`{3,})(.*?)\1", re.DOTALL)
_LANG = re.compile(r"[^\s`]*\n")
_LINK = re.compile(r"\[[^\[\]]*\]\((?:[^\s()]|\([^\s()]*\))*\)")
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_URL = re.compile(r"https?://\S+")
_MARKER = re.compile(r"\[\d+\]")
_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*(?:\[\d+\])*$")

# Cut preference, best first.
_PARAGRAPH, _SENTENCE, _WORD, _EDGE = range(4)


@dataclass(frozen=True)
class _CodeBlock:
    start: int
    end: int
    fence: str
    lang: str
    body_start: int  # after the opening fence and its language line
    body_end: int  # where the closing fence starts


@dataclass(frozen=True, order=True)
class _Cut:
    start: int  # the part before the cut ends here
    end: int  # the next part starts here; what lies between is whitespace and is dropped
    rank: int


def split_text(text: str, limit: int = CONTENT_LIMIT) -> list[str]:
    """Split text into parts of at most limit characters for separate messages.

    Cuts fall on whitespace outside code blocks and markdown links, preferring paragraph breaks, then
    line breaks and sentence ends, then any space. Citation markers, words, URLs and links are never cut
    unless a single one is longer than limit. A code block longer than limit is split at line breaks and
    closed/reopened (with its language) around each cut. Joining the parts gives back the text, less the
    whitespace at the cuts and plus the added fence lines.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    blocks = [b for b in _code_blocks(text) if b.end - b.start <= limit or _fences_fit(b, limit)]
    cuts = _cuts(text, blocks, limit)
    starts = [cut.start for cut in cuts]
    atoms = _atoms(text, blocks, limit)
    block_at = {b.start: b for b in blocks}
    content_end = len(text.rstrip())
    parts: list[str] = []
    pos = _skip_space(text, 0)
    while pos < content_end:
        block = block_at.get(pos)
        if block is not None and block.end - block.start > limit:
            parts.extend(_split_code(text, block, limit))
            pos = _skip_space(text, block.end)
        elif content_end - pos <= limit:
            parts.append(text[pos:content_end])
            pos = content_end
        elif (cut := _best_cut(cuts, starts, pos, limit)) is not None:
            parts.append(text[pos : cut.start])
            pos = _skip_space(text, cut.end)
        else:
            end = _hard_cut(text, atoms, pos, limit)
            parts.append(text[pos:end])
            pos = end
    return parts


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _code_blocks(text: str) -> list[_CodeBlock]:
    blocks = []
    for match in _FENCE.finditer(text):
        body_start, lang = match.start(2), ""
        lang_line = _LANG.match(text, body_start)
        if lang_line is not None and lang_line.end() <= match.end(2):
            lang, body_start = lang_line.group()[:-1], lang_line.end()
        blocks.append(_CodeBlock(match.start(), match.end(), match.group(1), lang, body_start, match.end(2)))
    return blocks


def _fences_fit(block: _CodeBlock, limit: int) -> bool:
    # Reopening/closing a block costs its fence twice, its language and two newlines. If that would eat
    # more than half of a part, the block is split as ordinary text instead.
    return 2 * len(block.fence) + len(block.lang) + 2 <= limit // 2


def _prose_spans(text: str, blocks: Sequence[_CodeBlock]) -> list[tuple[int, int]]:
    """The stretches of text outside code blocks."""
    spans: list[tuple[int, int]] = []
    prev = 0
    for block in blocks:
        spans.append((prev, block.start))
        prev = block.end
    spans.append((prev, len(text)))
    return spans


def _atoms(text: str, blocks: Sequence[_CodeBlock], limit: int) -> list[tuple[int, int]]:
    """Spans that must stay whole if they can: links, inline code, URLs and citation markers."""
    atoms: list[tuple[int, int]] = []
    for start, end in _prose_spans(text, blocks):
        for pattern in (_LINK, _INLINE_CODE, _URL, _MARKER):
            atoms.extend(m.span() for m in pattern.finditer(text, start, end) if len(m.group()) <= limit)
    return atoms


def _cuts(text: str, blocks: Sequence[_CodeBlock], limit: int) -> list[_Cut]:
    """Every place a part may end, sorted by position."""
    protected = bytearray(len(text))
    for start, end in [(b.start, b.end) for b in blocks] + _atoms(text, blocks, limit):
        protected[start:end] = b"\x01" * (end - start)
    # A whitespace run never straddles a protected span's edge (spans start and end with non-space), so
    # looking at its first character is enough.
    cuts = [
        _Cut(m.start(), m.end(), _rank(text, m.start(), m.end()))
        for m in _SPACE.finditer(text)
        if not protected[m.start()]
    ]
    # Block edges glued to text (no whitespace to cut at) may still start or end a part.
    edges = [b.start for b in blocks] + [b.end for b in blocks]
    cuts += [_Cut(i, i, _EDGE) for i in edges if 0 < i < len(text) and not _space_around(text, i)]
    return sorted(cuts)


def _space_around(text: str, i: int) -> bool:
    return text[i - 1].isspace() or text[i].isspace()


def _rank(text: str, start: int, end: int) -> int:
    gap = text[start:end]
    if gap.count("\n") >= 2:
        return _PARAGRAPH
    if "\n" in gap or _SENTENCE_END.search(text, max(0, start - 40), start):
        return _SENTENCE
    return _WORD


def _best_cut(cuts: list[_Cut], starts: list[int], pos: int, limit: int) -> _Cut | None:
    window = cuts[bisect.bisect_right(starts, pos) : bisect.bisect_right(starts, pos + limit)]
    if not window:
        return None
    # A better kind of cut wins only if it keeps the part at least a quarter full, so that an early
    # paragraph break does not leave a near-empty message.
    floor = pos + limit // 4
    for rank in (_PARAGRAPH, _SENTENCE, _WORD, _EDGE):
        fitting = [cut for cut in window if cut.rank == rank and cut.start >= floor]
        if fitting:
            return fitting[-1]
    return window[-1]


def _hard_cut(text: str, atoms: Sequence[tuple[int, int]], pos: int, limit: int) -> int:
    """Where to cut a token longer than limit: at limit, moved back off atoms and joined characters."""
    end = pos + limit
    inside = [start for start, stop in atoms if pos < start < end < stop]
    if inside:
        end = min(inside)
    return _back_off_joined(text, pos, end)


def _back_off_joined(text: str, pos: int, end: int) -> int:
    # Do not separate a combining mark, variation selector or zero-width joiner from what precedes it.
    while end > pos + 1 and end < len(text) and _joins_previous(text, end):
        end -= 1
    return end


def _joins_previous(text: str, i: int) -> bool:
    char = text[i]
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")
        or char in "\u200d\ufe0e\ufe0f"
        or "\U0001f3fb" <= char <= "\U0001f3ff"  # skin tone modifiers
        or text[i - 1] == "\u200d"
    )


def _split_code(text: str, block: _CodeBlock, limit: int) -> list[str]:
    """A code block longer than limit as several blocks, cut at line breaks where possible."""
    header = text[block.start : block.body_start]
    reopen = f"{block.fence}{block.lang}\n"
    close = f"\n{block.fence}"
    body = text[block.body_start : block.body_end]
    tail = text[block.body_end : block.end]
    parts = []
    pos = 0
    while len(header) + len(body) - pos + len(tail) > limit:
        room = limit - len(header) - len(close)
        end, pos_next = _code_cut(body, pos, room)
        parts.append(header + body[pos:end] + close)
        header, pos = reopen, pos_next
    parts.append(header + body[pos:] + tail)
    return parts


def _code_cut(body: str, pos: int, room: int) -> tuple[int, int]:
    """(end of this chunk, start of the next) for a chunk of at most room characters from pos."""
    newline = body.rfind("\n", pos + 1, pos + room + 1)
    if newline != -1:
        return newline, newline + 1
    space = body.rfind(" ", pos + 1, pos + room)
    if space != -1:
        return space + 1, space + 1
    end = _back_off_joined(body, pos, pos + room)
    return end, end


# ---------------------------------------------------------------------------------------------------------
# Streaming previews, threads, status, help, re-index progress
# ---------------------------------------------------------------------------------------------------------


def render_preview(text: str, limit: int = CONTENT_LIMIT) -> str:
    """The answer so far, for the one message that grows while an LLM streams.

    Fits one message: when the text is longer, the latest part is shown (from a word boundary), since
    that is what is being written. Code fences are balanced so a half-written block renders as code.
    """
    text = text.strip()
    if not text:
        return ELLIPSIS
    fence_open = text.count("```") % 2 == 1
    closing = "\n```" if fence_open else ""
    if len(text) + len(closing) + len(CURSOR) <= limit:
        return text + closing + CURSOR
    room = limit - len(ELLIPSIS) - len(CURSOR) - len(closing) - len("```\n")
    cut = len(text) - room
    for fence in re.finditer("```", text):  # never cut a fence in two: its halves would miscount the blocks
        if fence.start() < cut < fence.end():
            cut = fence.end()
    head, tail = text[:cut], text[cut:]
    space = re.search(r"\s", tail[:200])
    if space is not None and not head[-1:].isspace():
        tail = tail[space.end() :]
    tail = tail.lstrip()
    reopen = "```\n" if text[: len(text) - len(tail)].count("```") % 2 == 1 else ""
    return ELLIPSIS + reopen + tail + closing + CURSOR


def thread_name(question: str) -> str:
    """A thread title from a question: one line, at most Discord's 100 characters, never empty."""
    name = " ".join(question.split())
    return truncate(name, THREAD_NAME_LIMIT) or "Question"


def render_status(stats: Stats, feedback: FeedbackCounts, reindexing: str | None = None) -> discord.Embed:
    embed = discord.Embed(title="Newsdesk status", colour=STATUS_COLOUR)
    embed.add_field(name="Articles", value=f"{stats.articles:,}")
    embed.add_field(name="Passages", value=f"{stats.chunks:,}")
    embed.add_field(name="Last sync", value=_when(stats.last_sync))
    embed.add_field(name="Answer mode", value=truncate(stats.answer_mode, FIELD_VALUE_LIMIT))
    embed.add_field(name="Embedder", value=truncate(stats.embedder, FIELD_VALUE_LIMIT))
    answers = f"{feedback.answers:,} answer{'' if feedback.answers == 1 else 's'}"
    embed.add_field(name="Feedback", value=f"{answers} · 👍 {feedback.up:,} · 👎 {feedback.down:,}")
    if reindexing:
        embed.add_field(name="Re-index", value=truncate(reindexing, FIELD_VALUE_LIMIT), inline=False)
    return embed


def _when(iso: str | None) -> str:
    if not iso:
        return "never"
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return truncate(iso, FIELD_VALUE_LIMIT)
    # Discord shows <t:…> in each reader's own time zone and language.
    return f"{discord.utils.format_dt(moment, 'f')} ({discord.utils.format_dt(moment, 'R')})"


HELP_TEXT = """\
**/ask** `question` `[private]` — an answer from the news archive, with numbered sources. \
`private` shows it to you alone.
**Mention me** with a question — I answer in a new thread; write in that thread to ask follow-ups.
**/search** `query` — the best matching passages, without an answer.
**/status** — what is indexed, the answer mode and the feedback so far.
**/reindex** — sync the index with the corpus (Manage Server, or the configured role).

Every claim carries a marker like [1] that points to a quoted passage below the answer. \
Rate answers with 👍 / 👎: the votes help improve Newsdesk."""


def render_help() -> discord.Embed:
    return discord.Embed(title="Newsdesk", description=HELP_TEXT, colour=STATUS_COLOUR)


def render_progress(done: int, total: int | None) -> str:
    """The re-index progress line that is edited in place."""
    if total is None:
        return "Re-indexing the corpus: reading articles…"
    if total == 0:
        return "Re-indexing the corpus: nothing new to embed, finishing…"
    done = min(max(done, 0), total)
    filled = round(PROGRESS_BAR * done / total)
    bar = "█" * filled + "░" * (PROGRESS_BAR - filled)
    return f"Re-indexing the corpus: {done:,} / {total:,} articles embedded ({done / total:.0%})\n`{bar}`"


def render_ingest_report(report: IngestReport) -> str:
    counts = report.summary()
    line = (
        f"Re-index finished in {report.seconds:.1f} s: {counts['added']:,} added, {counts['updated']:,} updated, "
        f"{counts['removed']:,} removed, {counts['skipped']:,} unchanged, {counts['duplicates']:,} duplicates, "
        f"{counts['failed']:,} failed; {report.chunks_embedded:,} passages embedded."
    )
    lines = [line]
    room = CONTENT_LIMIT - len(line) - 60  # kept for the "and N more" line
    for failure in report.failed[:REPORT_FAILURES]:
        entry = f"- {truncate(failure.origin, 200)}: {truncate(failure.reason, 300)}"
        if len(entry) + 1 > room:
            break
        lines.append(entry)
        room -= len(entry) + 1
    if (hidden := len(report.failed) - (len(lines) - 1)) > 0:
        lines.append(f"- … and {hidden:,} more (see the log)")
    return "\n".join(lines)


def apology(error_id: str) -> str:
    return (
        f"Sorry, something went wrong on my side and I could not answer. "
        f"The error id is `{error_id}`; the bot's operator can find it in the log."
    )
