"""Answer -> plain text for terminals and logs (the CLI's rendering)."""

from __future__ import annotations

from retrieval.core.types import Answer


def answer_to_text(answer: Answer) -> str:
    lines = [answer.answer, ""]
    if answer.evidence_dates:
        first, last = answer.evidence_dates.first, answer.evidence_dates.last
        lines.insert(1, f"(evidence from {first}" + (f" to {last})" if last != first else ")"))
    if answer.citations:
        lines.append("Sources:")
        for c in answer.citations:
            meta = ", ".join(x for x in (c.source, (c.published_at or "")[:10], c.url) if x)
            lines.append(f"[{c.n}] {c.title}" + (f" ({meta})" if meta else ""))
            lines.extend(f"    “{quote}”" for quote in c.quotes or [c.quote])
            if c.also_reported_by:
                others = ", ".join(
                    f"{o.source or 'unknown outlet'} {(o.published_at or '')[:10]}".strip() for o in c.also_reported_by
                )
                lines.append(f"    also reported by {len(c.also_reported_by)}: {others}")
    elif answer.related:
        lines.append("Related passages:")
        for p in answer.related:
            lines.append(f"- {p.title} ({p.source or 'unknown outlet'}): {p.text[:200]}…")
    return "\n".join(lines).rstrip()
