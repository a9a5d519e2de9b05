"""The answering chain: retrieve -> number the passages -> write -> attribute -> check citations -> answer.

One pipeline serves `invoke` and `stream` (invoke runs the stream and keeps its end). A typed `_State`
carries the question through it. The writer is the configured chat model (LangChain: prompt | model,
always streamed, so the first token is timed the same way for both), or the extractive answerer offline.

What a model writes is kept and made checkable rather than thrown away (retrieval/answer/attribution.py): its
marker forms are normalised to [n], each sentence is tied to the passage sentence that supports it (its
own marker when that passage supports it, the supporting passage when not), and sentences that no passage
supports are dropped. The extractive answer takes over only when the model fails, times out, or wrote
nothing a passage supports; `mode` then says why. Whatever writes it, every answer passes the citation
check before it leaves.

With an LLM, the prompt shows the passages' best sentences under a token budget (retrieval/answer/context.py),
because reading the prompt is most of a CPU model's latency. Before the model is asked, the extractive
answerer's confidence gates the question: when the evidence is too weak for even a model to answer from
(NEWSDESK_LLM_ABSTAIN_THRESHOLD), the answer declines without the model's seconds.

Follow-up questions: with an LLM the question is rewritten from the history into a standalone one;
offline, the previous question's key terms are carried over. Either way the standalone question drives
both retrieval and writing.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable

from retrieval.answer import citations, time_answers
from retrieval.answer.attribution import Attributor, is_decline
from retrieval.answer.context import tokens
from retrieval.answer.extractive import NOT_IN_CORPUS, Draft, ExtractiveAnswerer
from retrieval.answer.facts import asked_kind, is_yes_no
from retrieval.answer.fallbacks import (
    ModelDeclined,
    NoAskedFigure,
    NoSupportedSentence,
    NothingRetrieved,
    fallback_reason,
    misses_figure,
)
from retrieval.answer.prompt import (
    ANSWER_PROMPT,
    REWRITE_PROMPT,
    STOP,
    YES_NO,
    number_passages,
    prompt_variables,
)
from retrieval.core import time_words
from retrieval.core.config import default
from retrieval.core.text import QUESTION_FILLER, TERM
from retrieval.core.types import (
    Answer,
    Passage,
    Question,
    SearchFilters,
    SentenceCounts,
    StreamEvent,
    Turn,
)

log = logging.getLogger(__name__)

Search = Callable[[str, int, SearchFilters | None, time_words.TimeFrame | None], list[Passage]]
ReadTime = Callable[[str, datetime | None], time_words.TimeFrame]



@dataclass(frozen=True)
class Written:
    """A draft answer and who wrote it."""

    text: str
    abstained: bool
    mode: str
    quotes: dict[int, list[str]] = field(default_factory=dict)
    sentences: SentenceCounts = field(default_factory=SentenceCounts)


@dataclass(frozen=True)
class Outcome:
    """The checked answer and the passages it was written from (evaluation checks one against the other)."""

    answer: Answer
    passages: list[Passage]
    query: str
    written: str = ""  # what the model wrote, before attribution (empty offline)


@dataclass
class _State:
    """One question on its way through the pipeline."""

    ask: Question
    started: float = field(default_factory=time.perf_counter)
    query: str = ""
    passages: list[Passage] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    llm_error: BaseException | None = None  # the LLM already failed on this question (while rewriting it)
    draft: Draft | None = None  # the extractive answer, once computed
    prompt_tokens: int | None = None
    written: str = ""  # the model's raw answer
    outcome: Outcome | None = None
    frame: time_words.TimeFrame | None = None  # what the question asks about time, against its as_of
    outside: list[Passage] = field(default_factory=list)  # an empty window: the nearest evidence from other dates
    moved: bool = False  # the answer comes from those (a fact asked "this week" that no article of the week holds)


def llm_written(
    text: str, passages: Sequence[Passage], mode: str, attributor: Attributor | None = None, query: str = ""
) -> Written:
    """An LLM's reply as a checked draft: its supported sentences with their passages, or its refusal."""
    if query and not is_yes_no(query):  # "Yes." does not answer "Which company ...?"
        text = re.sub(r"^\s*(?:yes|no)\b[.,!:;]?\s*", "", text, flags=re.I)
    attributed = (attributor or Attributor(None)).attribute(text, passages, query)
    if attributed.abstained or is_abstention(text):
        return Written(NOT_IN_CORPUS, True, mode)
    if not attributed.text:
        raise NoSupportedSentence(f"no passage supports what the model wrote: {text[:200]!r}")
    return Written(attributed.text, False, mode, attributed.quotes, attributed.counts)


def _asks_a_fact(query: str) -> bool:
    """A question asking a fact or a yes/no ("where are they meeting this week"), not what a window holds ("what
    happened in February")."""
    return asked_kind(query) is not None or is_yes_no(query)


def is_abstention(text: str) -> bool:
    """Whether a model's reply declines: the refusal sentence the prompt asks for, or one of its own."""

    def squash(s: str) -> str:
        return " ".join(TERM.findall(citations.strip_markers(s).lower()))

    reply = squash(text)
    return bool(reply) and (reply.startswith(squash(NOT_IN_CORPUS)) or is_decline(citations.strip_markers(text)))


def _is_name(word: str, position: int) -> bool:
    return word[:1].isupper() and (position > 0 or word.lower() not in QUESTION_FILLER)


def carry_over(question: str, history: Sequence[Turn]) -> str:
    """Offline follow-ups: the question plus the previous question's key terms.

    When the follow-up names its own subject ("what about Apple?"), the previous subject's names are left
    behind and only what was asked about it (output, plant, plans) is carried over.
    """
    previous = next((t.content for t in reversed(history) if t.role == "user" and t.content.strip()), None)
    if previous is None:
        return question
    words = TERM.findall(question)
    names_new = any(_is_name(w, i) and w.lower() not in QUESTION_FILLER for i, w in enumerate(words))
    present = {w.lower() for w in words}
    carried: dict[str, None] = {}  # in order, each once: a set's lookup keeps this linear in the history
    for i, word in enumerate(TERM.findall(previous)):
        if word.lower() in QUESTION_FILLER or word.lower() in present or len(word) < 2:
            continue
        if names_new and _is_name(word, i):
            continue
        carried.setdefault(word)
    return f"{question} {' '.join(carried)}".strip()


def _conversation(history: Sequence[Turn], max_turns: int = 6, max_chars: int = 600) -> str:
    lines = []
    for turn in list(history)[-max_turns:]:
        content = citations.strip_markers(turn.content)
        content = content if len(content) <= max_chars else content[:max_chars] + "…"
        lines.append(f"{'User' if turn.role == 'user' else 'Assistant'}: {content}")
    return "\n".join(lines)


@dataclass(frozen=True)
class LLMOptions:
    context_tokens: int = default("llm_prompt_tokens")  # budget for the passages' excerpts (0 = whole passages)
    abstain_below: float | None = None  # decline without asking the model when the extractive confidence is lower
    timeout: float = default("llm_timeout")  # seconds for the whole answer, first token to last


class AnswerChain:
    """Built once per service; `invoke` and `stream` answer a question with checked citations."""

    def __init__(
        self,
        search: Search,
        extractive: ExtractiveAnswerer,
        llm: BaseChatModel | None = None,
        llm_name: str | None = None,
        top_k: int = default("top_k"),
        attributor: Attributor | None = None,
        llm_options: LLMOptions | None = None,
        read_time: ReadTime = time_words.read_time,
    ) -> None:
        self.search = search
        self.read_time = read_time
        self.extractive = extractive
        self.llm = llm
        self.llm_name = llm_name or ("llm" if llm is not None else None)
        self.top_k = top_k
        self.mode = self.llm_name or extractive.name
        self.attributor = attributor or Attributor(extractive.embedder)
        self.llm_options = llm_options or LLMOptions()
        if llm is not None:
            self.llm_text: Runnable[dict[str, str], BaseMessage] = ANSWER_PROMPT | llm
            self.rewriter: Runnable[dict[str, str], str] = REWRITE_PROMPT | llm | StrOutputParser()

    # ------------------------------------------------------------------ public

    def invoke(self, question: Question) -> Outcome:
        state = _State(question)
        for _ in self._run(state):
            pass
        assert state.outcome is not None
        return state.outcome

    def stream(self, question: Question) -> Iterator[StreamEvent]:
        """token events as the answer is written, then the checked citations, then done (the final Answer).

        Tokens are provisional: the model's raw words; the done event carries the checked answer (its
        sentences attributed, unsupported ones dropped, or the extractive answer when nothing held).
        """
        state = _State(question)
        yield from self._run(state)
        assert state.outcome is not None
        yield StreamEvent(type="citations", citations=state.outcome.answer.citations)
        yield StreamEvent(type="done", answer=state.outcome.answer)

    # ------------------------------------------------------------------ the pipeline

    def _run(self, state: _State) -> Iterator[StreamEvent]:
        """Retrieve, write (streaming tokens), attribute, check; leaves the Outcome in state.outcome."""
        state.query = self._standalone(state)
        started = time.perf_counter()
        k = state.ask.k or self.top_k
        state.frame = self.read_time(state.query, state.ask.as_of)
        state.passages = self.search(state.query, k, state.ask.filters, state.frame)
        if not state.passages and state.frame.window:
            state.outside = self.search(state.query, k, state.ask.filters, state.frame.without_window())
            state.moved = bool(state.outside) and _asks_a_fact(state.query)
            state.passages = state.outside if state.moved else []
        state.timings["retrieve_ms"] = _ms(started)
        started = time.perf_counter()
        streamed = False
        if self.llm is None:
            written = self._extractive(state)
        else:
            streamed, failure = yield from self._ask_model(state)
            written = self._checked(state, failure)
        if written.abstained and state.frame.window and not state.moved and _asks_a_fact(state.query):
            written = self._from_other_dates(state, written, k)  # extractive, as a model's fallbacks are
        if not streamed:
            yield from self._tokens(written.text)
        state.timings["answer_ms"] = _ms(started)
        state.outcome = self._finish(state, written)

    def _ask_model(self, state: _State) -> Generator[StreamEvent, None, tuple[bool, BaseException | None]]:
        """Stream the model's answer as token events, kept in state.written: (whether any token was sent, why the
        answer cannot be used or None). Only the
        model's own failures (an error from its server or library, a timeout, a failure while rewriting the
        follow-up, nothing to ask it about) come back as the reason; a bug in our own steps is raised."""
        if state.llm_error is not None:
            return False, state.llm_error
        if not state.passages:
            return False, NothingRetrieved("no passage matched the question")
        if self._declined(state) is not None:
            return False, None
        variables = prompt_variables(state.query, state.passages, self.llm_options.context_tokens)
        pieces: list[str] = []
        try:
            for piece in self._write(state, variables):
                pieces.append(piece)
                yield StreamEvent(type="token", text=piece)
        except Exception as exc:  # the model's call only: its server or library failed, or it was too slow
            return bool(pieces), exc
        state.written = "".join(pieces)
        if state.prompt_tokens is None:  # the server reported no usage: estimate it the way the budget does
            state.prompt_tokens = sum(tokens(m.text) for m in ANSWER_PROMPT.invoke(variables).to_messages())
        return bool(pieces), None

    def _checked(self, state: _State, failure: BaseException | None) -> Written:
        """The model's answer attributed and checked, the gate's decline, or the extractive answer when the model
        failed or nothing it wrote is supported."""
        if failure is not None:
            return self._extractive(state, failure)
        declined = self._declined(state)
        if declined is not None:
            return declined
        try:
            written = llm_written(state.written, state.passages, self.mode, self.attributor, state.query)
        except NoSupportedSentence as exc:
            return self._extractive(state, exc)
        if written.abstained:
            # a small model often declines what its passages state: the extractive answer stands instead when it
            # passes the same asked-fact check that declines near misses (bench/natural_llm.py)
            instead = self._extractive(state, ModelDeclined("the model said the passages do not answer"))
            if not instead.abstained:
                return instead
        elif misses_figure(state.query, written.text):  # the extractive answer has the figure, or declines
            return self._extractive(state, NoAskedFigure("the model's supported sentences state no figure"))
        return written

    def _standalone(self, state: _State) -> str:
        question, history = state.ask.question, state.ask.history
        if not history:
            return question
        started = time.perf_counter()
        try:
            if self.llm is None:
                return carry_over(question, history)
            try:
                rewritten = self.rewriter.invoke({"conversation": _conversation(history), "question": question})
            except Exception as exc:
                # Don't wait for a failing LLM twice: the answer goes straight to the fallback.
                state.llm_error = exc
                log.warning("rewriting the follow-up failed (%s: %s); carrying terms over", type(exc).__name__, exc)
                return carry_over(question, history)
            rewritten = rewritten.strip().strip('"').splitlines()[0].strip() if rewritten.strip() else ""
            if not rewritten or len(rewritten) > 4 * len(question) + 400:
                return carry_over(question, history)
            return rewritten
        finally:
            state.timings["rewrite_ms"] = _ms(started)

    def _declined(self, state: _State) -> Written | None:
        """A decline when the evidence is too weak to ask the model about (None: ask it)."""
        below = self.llm_options.abstain_below
        if below is None:
            return None
        draft = self._draft(state)
        return Written(NOT_IN_CORPUS, True, f"{self.mode} (weak evidence)") if draft.score < below else None

    def _write(self, state: _State, variables: dict[str, str]) -> Iterator[str]:
        """The model's answer as it streams; the whole answer must come within the LLM timeout."""
        assert self.llm is not None
        deadline = time.monotonic() + self.llm_options.timeout
        started = time.perf_counter()
        for chunk in self.llm_text.stream(variables, stop=STOP):
            usage = getattr(chunk, "usage_metadata", None)
            if usage:
                state.prompt_tokens = int(usage.get("input_tokens") or 0) or state.prompt_tokens
            if chunk.text:
                state.timings.setdefault("first_token_ms", _ms(started))
                yield chunk.text
            if time.monotonic() > deadline:
                raise TimeoutError(f"the model took longer than {self.llm_options.timeout:g}s to answer")

    def _draft(self, state: _State) -> Draft:
        if state.draft is None:
            focus = state.ask.question if state.ask.history else ""
            state.draft = self.extractive.draft(state.query, state.passages, focus)
        return state.draft

    def _extractive(self, state: _State, error: BaseException | None = None) -> Written:
        mode = self.extractive.name
        if error is not None:
            reason = fallback_reason(error)
            mode = f"{self.extractive.name} ({reason})"
            level = logging.INFO if isinstance(error, ModelDeclined) else logging.WARNING
            log.log(level, "%s: answering extractively (%s: %s)", reason, type(error).__name__, error)
        draft = self._draft(state) if state.passages else Draft(NOT_IN_CORPUS, True, {})
        counts = SentenceCounts(cited=0 if draft.abstained else len(draft.text.splitlines()))
        return Written(draft.text, draft.abstained, mode, {n: list(q) for n, q in draft.quotes.items()}, counts)

    def _from_other_dates(self, state: _State, declined: Written, k: int) -> Written:
        """A fact asked of a window ("where are biden and xi meeting this week") whose articles do not hold it:
        the articles of other dates answer, if they do, and the answer says so (time_answers.finish)."""
        assert state.frame is not None
        within, state.draft = state.passages, None
        state.passages = self.search(state.query, k, state.ask.filters, state.frame.without_window())
        written = self._extractive(state)
        if written.abstained:
            state.passages, state.draft = within, None
            return declined
        state.outside, state.moved = state.passages, True
        return written

    def _finish(self, state: _State, written: Written) -> Outcome:
        passages = state.passages
        recency = state.frame is not None and state.frame.recency
        if written.abstained and recency and passages and written.mode.startswith(self.extractive.name):
            written = self._latest_on_subject(state, written)
        text, quotes = time_answers.shape(
            written.text,
            written.quotes,
            passages,
            state.frame,
            lambda i: self.extractive.draft(state.query, passages[i : i + 1], gated=not recency),
        )
        text, cited = citations.check(text, passages, quotes)
        abstained = written.abstained or not cited
        answer = Answer(
            answer=NOT_IN_CORPUS if abstained else text,
            abstained=abstained,
            citations=[] if abstained else cited,
            mode=written.mode,
            related=passages[:3] if abstained else [],
            timings={**state.timings, "total_ms": _ms(state.started)},
            sentences=written.sentences if not abstained else SentenceCounts(dropped=written.sentences.dropped),
            prompt_tokens=state.prompt_tokens,
        )
        issues = citations.problems(answer, passages)
        if issues:  # cannot happen after check(); if it ever does, nothing unchecked leaves the service
            log.error("answer failed the citation check (%s); sending an abstention instead", "; ".join(issues))
            answer = answer.model_copy(
                update={"answer": NOT_IN_CORPUS, "abstained": True, "citations": [], "related": passages[:3]}
            )
        finished = time_answers.finish(answer, state.frame, state.outside, state.moved)
        return Outcome(finished, passages, state.query, state.written)

    def _latest_on_subject(self, state: _State, declined: Written) -> Written:
        """ "The latest on X": the newest passage naming X (the search put it first) answers, however weakly its
        wording matches the question's; the extractive gate would decline it."""
        if asked_kind(state.query) is not None or not time_answers.about_subject(state.query, state.passages[0]):
            return declined  # "how much / who ..." asks for a fact: the newest passage may not hold one
        lead = self.extractive.draft(state.query, state.passages[:1], gated=False)
        if lead.abstained:
            return declined
        quotes = {n: list(q) for n, q in lead.quotes.items()}
        return Written(lead.text, False, declined.mode, quotes, SentenceCounts(cited=len(lead.text.splitlines())))

    @staticmethod
    def _tokens(text: str) -> Iterator[StreamEvent]:
        for line in text.splitlines(keepends=True):
            yield StreamEvent(type="token", text=line)



def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


__all__ = [
    "ANSWER_PROMPT",
    "AnswerChain",
    "LLMOptions",
    "NoSupportedSentence",
    "Outcome",
    "REWRITE_PROMPT",
    "YES_NO",
    "carry_over",
    "is_abstention",
    "llm_written",
    "number_passages",
    "prompt_variables",
]
