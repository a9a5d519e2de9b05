"""Discord's size limits, in characters, and the one way text is shortened to fit them."""

from __future__ import annotations

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
THREAD_NAME_LIMIT = 100

ELLIPSIS = "…"


def truncate(text: str, limit: int) -> str:
    """text, cut to at most limit characters with an ellipsis when it is longer."""
    if len(text) <= limit:
        return text
    return text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS
