"""The order results are shown in: each story by its original, at most a few chunks per article while other
articles are left, scores scaled to the best."""

from __future__ import annotations

from typing import Any

import numpy as np


def originals_first(
    order: list[int],
    article: np.ndarray,
    story: np.ndarray,
    rank: np.ndarray,
    source: np.ndarray | None = None,
    named: set[int] | None = None,
) -> list[int]:
    """The order with each story shown by its original (the lowest `rank` among its copies in the order): the
    original's best chunk takes the place where the story first ranks, and the other copies' chunks go (they
    are listed as also_reported_by). A copy's stuffed keywords can lift the story, never replace its original.
    `named`: rows of outlets the question names (search step 4): their story is shown from that outlet (its
    original there, when it has several copies)."""
    outlet: dict[int, Any] = {int(story[i]): source[i] for i in named or () if source is not None}
    best: dict[int, int] = {}
    for i in order:
        s = int(story[i])
        if s in outlet and source is not None and source[i] != outlet[s]:
            continue
        if s not in best or rank[i] < rank[best[s]]:
            best[s] = i
    out: list[int] = []
    opened: set[int] = set()
    for i in order:
        s = int(story[i])
        lead = best[s]
        if article[i] != article[lead] or i == lead:
            if s not in opened:
                out.append(lead)
                opened.add(s)
            continue
        out.append(i)
    return out


def capped(order: list[int], article: np.ndarray, cap: int, k: int, story: np.ndarray | None = None) -> list[int]:
    """The first k of order, at most cap (0: no cap) per article while other articles are left, then the rest.
    With `story`: only the first article of each story is shown (its other copies are left out)."""
    picked: list[int] = []
    overflow: list[int] = []
    per_article: dict[int, int] = {}
    shown_by: dict[int, int] = {}  # story -> the article that shows it
    for i in order:
        key = int(article[i])
        if story is not None and shown_by.setdefault(int(story[i]), key) != key:
            continue
        if cap and per_article.get(key, 0) >= cap:
            overflow.append(i)
            continue
        per_article[key] = per_article.get(key, 0) + 1
        picked.append(i)
        if len(picked) == k:
            return picked
    return picked + overflow[: k - len(picked)]


def scaled(values: np.ndarray) -> np.ndarray:
    top = float(values.max()) if len(values) else 0.0
    return values / top if top > 0 else values
