"""Split long text into Discord messages without cutting a citation marker, a link, a word or a code block.

Pure functions: no client, no network.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bot.discord.limits import CONTENT_LIMIT

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
        cut = min(inside)
        # a URL inside a link that fits: cutting where the URL starts would cut the link, so cut after the link
        enclosing = [stop for start, stop in atoms if start < cut < stop <= end]
        end = max(enclosing) if enclosing else cut
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
