"""Who may replace whom: an article's provenance decides, never what it says about itself.

An article is *local* when it was read from the operator's own files (a folder such as corpus/, or a file named
on the command line), and *outside* when it came over the API, from a web page or from an RSS/Atom feed (a feed
file on disk included: a feed is third-party content wherever it was saved). Local articles are the source of
record:

- an outside article never replaces (deletes or hides) a local one, whatever id, outlet, title, text or date it
  claims; a re-sync of the folder always restores the folder's articles;
- a local article replaces an outside one with its id or its text (the operator's copy wins);
- otherwise an article replaces another (a newer version of it, or an update under the same id) only when both
  come from the same origin: the same feed, the same exact URL (case, query and all), the same folder, or the
  API (whose writers hold keys).

The fields read are the chunk metadata's (or an Article's): origin, origin_root, feed, url.

The same rule counts outlets. A story "reported by N outlets" counts *publishers*, not the outlet names articles
claim, so one writer cannot fake a consensus by posting near-copies under several names: the operator's files
count by the outlet they name; a feed is one publisher whatever its entries claim; a web page is its host's; every
article posted over the API is one publisher (the API cannot tell its writers apart).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from retrieval.core.types import Article, outlet_name

Provenance = Mapping[str, Any]


def of(article: Article) -> dict[str, Any]:
    return {"origin": article.origin, "origin_root": article.origin_root, "feed": article.feed, "url": article.url}


def outside(meta: Provenance) -> bool:
    """Whether an article came from outside the operator's files: the API, a web page or a feed."""
    origin = str(meta.get("origin") or "")
    return bool(meta.get("feed")) or origin == "api" or origin.startswith(("api:", "http://", "https://"))


def publisher(meta: Provenance, source: str | None) -> str:
    """Who vouches for an article, as a key to count outlets by (see the module's docstring)."""
    origin = str(meta.get("origin") or "")
    if meta.get("feed"):
        return f"feed {meta['feed']}"
    if origin.startswith(("http://", "https://")):
        host = (urlsplit(origin).hostname or origin).lower()
        return "page " + host.removeprefix("www.")
    if outside(meta):
        return "api"
    return "outlet " + (source or "").strip().lower()


def via(publisher_key: str) -> str | None:
    """How an outside article reached the index, for a reader ("the API", "feed feeds.example", "example.com");
    None for the operator's own files. An outside article names its outlet itself: this says who vouches for it."""
    kind, _, rest = publisher_key.partition(" ")
    if kind == "api":
        return "the API"
    if kind == "page":
        return rest
    if kind == "feed":
        return "feed " + ((urlsplit(rest).hostname or "").removeprefix("www.") or rest.rsplit("/", 1)[-1])
    return None


def shown(source: str | None, publisher_key: str) -> str:
    """An outlet's name as faces show it: "Reuters", or "Reuters (via the API)" for an outside article."""
    return outlet_name(source, via(publisher_key))


def describe(meta: Provenance) -> str:
    if meta.get("feed"):
        return f"the feed {meta['feed']}"
    if meta.get("origin_root"):
        return f"the folder {meta['origin_root']}"
    return str(meta.get("origin") or "an unknown origin")


def same_origin(old: Provenance, new: Provenance) -> bool:
    url = old.get("url")
    if url and url == new.get("url"):
        return True
    if outside(old) != outside(new):
        return False
    if old.get("feed") or new.get("feed"):
        return bool(old.get("feed") == new.get("feed"))
    if outside(old):
        return bool(str(old.get("origin") or "") == str(new.get("origin") or ""))
    return bool((old.get("origin_root") or "") == (new.get("origin_root") or ""))


def may_replace(old: Provenance, new: Provenance, same_id: bool = False) -> bool:
    """Whether `new` may replace the indexed `old` (an update under the same id, or a newer version of it)."""
    if outside(new) and not outside(old):
        return False  # the operator's files are the source of record
    if same_id and not outside(new):
        return True
    return same_origin(old, new)
