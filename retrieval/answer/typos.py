"""Asking words typed wrong: a question's "wich", "waht" or "net wroth" read as "which", "what" and "net
worth" (retrieval/answer/facts.py reads the kind of fact asked from these words)."""

from __future__ import annotations

import re


def _typos() -> dict[str, str]:
    """An asking word typed with a letter left out or two swapped ("wich", "waht", "net wroth"), unless that is
    a word of its own ("here", "were") or could be two asking words ("hwo")."""
    found: dict[str, set[str]] = {}
    for word in "which what where when who whose how many much worth".split():
        left_out = {word[:i] + word[i + 1 :] for i in range(len(word))}
        swapped = {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}
        for typo in {t for t in left_out if len(t) >= 4} | swapped:
            found.setdefault(typo, set()).add(word)
    real = {"here", "were", "hose", "wort", "orth", "whos", "what", "which", "where", "when", "who", "whose"}
    return {typo: words.pop() for typo, words in found.items() if len(words) == 1 and typo not in real}


_TYPOS = _typos()
_TYPO = re.compile(rf"\b(?:{'|'.join(sorted(_TYPOS))})\b")


def asking_words_fixed(text: str) -> str:
    """`text` (lower case) with its mistyped asking words written right."""
    return _TYPO.sub(lambda m: _TYPOS[m.group()], text)
