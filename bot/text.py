"""Answer -> plain text for terminals and logs (the CLI's rendering)."""

from __future__ import annotations

from retrieval.core.types import Answer, Brief, outlet_label, outlet_name


def answer_to_text(answer: Answer) -> str:
    lines = [answer.answer, ""]
    if answer.evidence_dates:
        first, last = answer.evidence_dates.first, answer.evidence_dates.last
        lines.insert(1, f"(evidence from {first}" + (f" to {last})" if last != first else ")"))
    if answer.citations:
        lines.append("Sources:")
        for c in answer.citations:
            meta = ", ".join(x for x in (outlet_label(c.source, c.via), (c.published_at or "")[:10], c.url) if x)
            lines.append(f"[{c.n}] {c.title}" + (f" ({meta})" if meta else ""))
            lines.extend(f"    “{quote}”" for quote in c.quotes or [c.quote])
            if c.also_reported_by:
                others = ", ".join(
                    f"{outlet_name(o.source, o.via)} {(o.published_at or '')[:10]}".strip() for o in c.also_reported_by
                )
                lines.append(f"    also reported by {len(c.also_reported_by)}: {others}")
    elif answer.related:
        lines.append("Related passages:")
        for p in answer.related:
            lines.append(f"- {p.title} ({outlet_name(p.source, p.via)}): {p.text[:200]}…")
    return "\n".join(lines).rstrip()


def brief_to_text(brief: Brief) -> str:
    """A brief: its message, then each story's cited sentence, outlets, latest day and source."""
    lines = [brief.message]
    for story in brief.stories:
        c = story.citation
        lines.append("")
        lines.append(f"{story.rank}. {story.title}")
        lines.append(f"   “{story.sentence}” [{story.rank}]")
        outlets = ", ".join(story.outlets)
        count = f"{story.articles} articles, " if story.articles > 1 else ""
        lines.append(f"   {count}{outlets}; latest {story.latest}" + (f"; {c.url}" if c.url else ""))
    return "\n".join(lines)
