"""Hybrid retrieval: dense (Chroma) + BM25 fused on normalised scores, aware of outlets, dates and sub-questions.

How a query is ranked (each step is an option of SearchOptions, so it can be switched off and measured):
1. Sub-questions: a long question is split into its clauses (retrieval.search.query.clauses); each clause is
   searched too, and a chunk keeps its best clause score. A multi-hop question paraphrases one passage per
   clause, and a passage that answers one clause well should not lose to passages that touch them all.
2. Each (sub-)query is scored by both retrievers. BM25 scores every chunk (and, for clauses, every
   sentence: a chunk's best sentence). Chroma gives the nearest chunks by cosine. Scores are normalised
   per query (BM25 by its best score, cosine min-max over Chroma's candidates, others count 0) and summed
   with weights: keeping each retriever's confidence, where reciprocal-rank fusion throws it away (and,
   with BM25 much stronger than MiniLM on news questions, equal-weight RRF is worse than BM25 alone).
3. Outlets and dates the question names (retrieval.search.query.analyse) add a bonus to chunks from those
   outlets, and from articles published within a day of a named date or in a named month.
4. The best chunk of each named outlet is placed first, so "according to A and B" shows both A and B;
   and no article fills more than max_per_article of the results while other articles are left.
5. The first rerank_pool candidates of that order are scored again by learned trees over what steps 1-4
   computed (retrieval.search.rerank), and shown in that order, still at most max_per_article per article.
Explicit filters (sources, date range) restrict both retrievers before anything else.

Time and stories (retrieval/core/dates.py, retrieval/storage/stories.py): a question's window ("last week",
"in February", read against its as_of) narrows the date filter, and nothing published after as_of is in scope; "latest",
"current" and "recent" put the most recent of the relevant passages (fused score within recency_band of the
best) first. Near-duplicate articles share a story id: the first article of a story to rank shows it, the
other copies are left out and listed on its passages as also_reported_by.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np

from retrieval.core import dates, time_words
from retrieval.core.text import ARTICLES, NAME, POSSESSIVE, QUESTION_WORDS
from retrieval.core.types import ChunkMeta, Outlet, Passage, SearchFilters
from retrieval.embed.embedder import Embedder
from retrieval.search.options import SearchOptions
from retrieval.search.ordering import capped, originals_first, scaled
from retrieval.search.query import OutletMatcher, QueryHints, analyse, clauses
from retrieval.search.rerank import FEATURES, Signals, TreeModel, default_model, features
from retrieval.storage import provenance
from retrieval.storage.index import Index
from retrieval.storage.lexical import LexicalView

log = logging.getLogger(__name__)

__all__ = ["Searcher", "SearchOptions", "chroma_where"]


class _Columns:
    """Per-chunk metadata as arrays indexed like the lexical view's rows, for vectorised filters and bonuses."""

    def __init__(self, lexical: LexicalView) -> None:
        self.lexical = lexical
        articles: dict[str, int] = {}
        self.article = np.array([articles.setdefault(a, len(articles)) for a in lexical.article_id], dtype=np.int64)
        self.source = np.array(lexical.source, dtype=object)
        codes: dict[str, int] = {}
        self.source_code = np.array([codes.setdefault(s.lower(), len(codes)) for s in lexical.source], dtype=np.int64)
        self._codes = codes
        self.day = np.array([dates.ordinal(p) for p in lexical.published_at], dtype=np.int64)
        dated = self.day[self.day > 0]
        self.newest = date.fromordinal(int(dated.max())) if dated.size else None
        self.chunk_index = lexical.chunk_index
        stories: dict[str, int] = {}
        self.story = np.array([stories.setdefault(s, len(stories)) for s in lexical.story_id], dtype=np.int64)
        copies: dict[str, dict[str, Outlet]] = {}
        for aid, sid, src, link, when, vouched in zip(
            lexical.article_id, lexical.story_id, lexical.source, lexical.url, lexical.published_at,
            lexical.publisher, strict=True,
        ):  # fmt: skip
            if aid and aid not in copies.get(sid, {}):
                copies.setdefault(sid, {})[aid] = Outlet(
                    article_id=aid, source=src or None, url=link or None, published_at=when or None,
                    via=provenance.via(vouched),
                )  # fmt: skip
        self._copies = {
            s: sorted(c.values(), key=lambda o: (dates.order_key(o.published_at), o.article_id))
            for s, c in copies.items()
            if len(c) > 1
        }
        self.outlets = OutletMatcher(set(lexical.source) - {""})
        self.first_row = {aid: row for row, aid in reversed(list(enumerate(lexical.article_id))) if aid}
        # which copy of a story shows it (lower first): the operator's own articles before outside ones, then the
        # earliest published (by instant), undated last; a near-copy from elsewhere never outranks its original
        instants = [dates.instant(p) for p in lexical.published_at]
        seconds = np.array([m.timestamp() if m is not None else 9e11 for m in instants], dtype=np.float64)
        self.original_rank = np.where(lexical.local, 0.0, 1e12) + seconds

    def also_reported_by(self, meta: ChunkMeta, allowed: np.ndarray | None = None) -> list[Outlet]:
        """The story's copies from other publishers, the earliest of each; with `allowed` (the search's filters
        and as_of, by row) only those in scope. A publisher's second copy is no other outlet, whatever name it
        claims (retrieval.storage.provenance.publisher)."""
        aid = str(meta.get("article_id"))
        publisher = self.lexical.publisher
        own = self.first_row.get(aid)
        listed = {publisher[own]} if own is not None else set()
        out = []
        for o in self._copies.get(str(meta.get("story_id") or aid), []):
            row = self.first_row[o.article_id]
            if o.article_id == aid or publisher[row] in listed or (allowed is not None and not bool(allowed[row])):
                continue
            listed.add(publisher[row])
            out.append(o)
        return out

    def source_mask(self, sources: list[str] | tuple[str, ...]) -> np.ndarray:
        wanted = [self._codes[s.lower()] for s in sources if s.lower() in self._codes]
        return np.isin(self.source_code, wanted)


def chroma_where(filters: SearchFilters | None) -> dict[str, Any] | None:
    if filters is None:
        return None
    clauses_: list[dict[str, Any]] = []
    if filters.sources:
        clauses_.append({"source": {"$in": list(filters.sources)}})
    since, until = dates.day_number(filters.since), dates.day_number(filters.until)
    if since is not None:
        clauses_.append({"published_day": {"$gte": since}})
    if until is not None:
        clauses_.append({"published_day": {"$lte": until}})
    if not clauses_:
        return None
    return clauses_[0] if len(clauses_) == 1 else {"$and": clauses_}


@dataclass(frozen=True)
class _Candidates:
    pool: list[tuple[int, str]]  # (position in the BM25 index, chunk id), best first
    signals: Signals
    query: str
    terms: list[str]  # the whole question's BM25 terms
    hints: QueryHints
    cols: _Columns
    texts: dict[str, str]  # of the pool's chunks
    metadata: dict[str, ChunkMeta]


class Searcher:
    def __init__(
        self, index: Index, embedder: Embedder, options: SearchOptions | None = None, model: TreeModel | None = None
    ) -> None:
        """model: the re-ranking trees (default: the shipped ones; unused when options.rerank is off)."""
        self.index = index
        self.embedder = embedder
        self.options = options or SearchOptions()
        self.model: TreeModel | None = (model or default_model()) if self.options.rerank else None
        self._columns: _Columns | None = None
        self._columns_lock = threading.Lock()

    # ------------------------------------------------------------- public

    def search(
        self, query: str, k: int = 10, filters: SearchFilters | None = None, frame: time_words.TimeFrame | None = None
    ) -> list[Passage]:
        """The k best passages. `frame` (time_words.read_time, or time_frame()): the question's window and as_of
        restrict the dates, and a recency question gets its most recent relevant passages first."""
        latest = None
        if frame is not None:
            latest = frame.as_of.toordinal()
            if frame.window:
                asked = (filters.since, filters.until) if filters else (None, None)
                since, until = time_words.clip(*asked, frame)
                filters = (filters or SearchFilters()).model_copy(update={"since": since, "until": until})
        recency = frame is not None and frame.recency
        depth = max(k, self.options.recency_pool if recency else self.options.rerank_pool if self.model else k)
        found = self._candidates(query, depth, filters, latest)
        if found is None:
            return []
        picked = found.pool if self.model is None else self._rerank(self.model, found, depth)
        if recency:
            picked = self._recent_first(picked, found, k)
        in_scope = self._allowed(found.cols, filters, latest)
        return [
            passage_from(
                cid,
                found.texts[cid],
                found.metadata.get(cid, {}),
                float(found.signals.score[i]),
                found.cols.also_reported_by(found.metadata.get(cid, {}), in_scope),
            )
            for i, cid in picked[:k]
        ]

    def time_frame(self, query: str, as_of: datetime | None = None) -> time_words.TimeFrame:
        """What the question asks about time; outlet names ("Business Today | Latest ...") are not read as time, and
        a month named without its year is the archive's latest one when the latest before as_of holds nothing."""
        cols = self.columns()
        spans = cols.outlets.find(query)[1]
        frame = time_words.read_time(query, as_of, spans)
        again = time_words.in_archive(frame, cols.newest)  # "in november" of an archive that ends before it
        return frame if again is None else time_words.read_time(query, again, spans)

    def _recent_first(self, picked: list[tuple[int, str]], found: _Candidates, k: int) -> list[tuple[int, str]]:
        """The relevant passages newest first, then the others in their order. Relevant: among the candidates,
        those that name every name the question asks about ("the latest on Sam Bankman-Fried"); for a question
        that names nothing, the first k whose score is within recency_band of the best."""
        if not picked:
            return picked
        asked = _asked_names(found.query, found.hints.spans)
        if asked:
            band = [item for item in picked if _names_all(asked, found, item[1])]
        else:
            score = found.signals.score
            best = max(float(score[i]) for i, _ in picked[:k])
            band = [item for item in picked[:k] if float(score[item[0]]) >= self.options.recency_band * best]
        rest = [item for item in picked if item not in band]
        day = found.cols.day
        return sorted(band, key=lambda item: -int(day[item[0]])) + rest

    def rerank_rows(self, query: str, filters: SearchFilters | None = None) -> tuple[list[str], np.ndarray]:
        """The candidates the trees re-rank (chunk ids, in fused order) and their feature rows: what
        bench/train_rerank.py learns from."""
        found = self._candidates(query, self.options.rerank_pool, filters, None)
        if found is None:
            return [], np.zeros((0, len(FEATURES)))
        return [cid for _, cid in found.pool], self._features(found)

    def _candidates(self, query: str, k: int, filters: SearchFilters | None, latest: int | None) -> _Candidates | None:
        """Steps 1-4: the first k chunks by fused score, outlets leading and articles capped."""
        self.index.ensure_fresh()
        lexical = self.index.snapshot()[2]
        if not len(lexical):
            return None
        cols = self.columns(lexical)
        opts = self.options
        hints = analyse(query, cols.outlets)
        parts = clauses(query) if opts.clause_weight > 0 else []
        queries = [query, *parts] if len(parts) > 1 else [query]
        allowed = self._allowed(cols, filters, latest)

        fused, tokens, question_bm25, question_dense = self._fuse(queries, cols, filters, allowed)
        score = fused[0]
        clause_rows = None
        if len(fused) > 1:
            clause_rows = fused[1:]
            if opts.sentence_weight > 0 and opts.lexical:
                self._add_best_sentences(clause_rows, tokens[1:], score + clause_rows.max(axis=0), cols, allowed)
            score = score + opts.clause_weight * clause_rows.max(axis=0)
        named_outlet = cols.source_mask(hints.sources) if hints.sources else None
        bonus = self._bonus(hints, cols, named_outlet)
        score = score + bonus
        if allowed is not None:
            score = np.where(allowed, score, -np.inf)
        signals = Signals(
            score=score,
            question_bm25=question_bm25,
            question_dense=question_dense,
            clauses=clause_rows,
            bonus=bonus,
            article=cols.article,
            chunk_index=cols.chunk_index,
            named_outlet=named_outlet,
            outlets_named=len(hints.sources),
        )
        pool = self._rank(score, hints, cols, k)
        rows = lexical.store.rows_at([i for i, _ in pool])
        pool = [(i, cid) for i, cid in pool if i in rows]  # a sync may have removed a chunk the view lists
        texts = {cid: rows[i][1] for i, cid in pool}
        metadata = {cid: rows[i][2] for i, cid in pool}
        return _Candidates(pool, signals, query, tokens[0], hints, cols, texts, metadata)

    def passage(self, chunk_id: str, score: float = 0.0) -> Passage:
        text, meta = self.index.passage_fields(chunk_id)
        return passage_from(chunk_id, text, meta, score)

    def columns(self, lexical: LexicalView | None = None) -> _Columns:
        if lexical is None:
            lexical = self.index.snapshot()[2]
        cols = self._columns
        if cols is None or cols.lexical is not lexical:
            with self._columns_lock:
                cols = self._columns
                if cols is None or cols.lexical is not lexical:
                    cols = self._columns = _Columns(lexical)
        return cols

    # ------------------------------------------------------------- scoring

    def _fuse(
        self, queries: list[str], cols: _Columns, filters: SearchFilters | None, allowed: np.ndarray | None
    ) -> tuple[np.ndarray, list[list[str]], np.ndarray, np.ndarray]:
        """One fused score row per query (weighted, normalised BM25 and cosine), each query's BM25 terms, and
        the whole question's own two rows (scaled BM25, normalised cosine) that were fused."""
        opts = self.options
        lexical = cols.lexical
        rows = np.zeros((len(queries), lexical.size), dtype=np.float32)
        question_bm25 = np.zeros(lexical.size, dtype=np.float32)
        dense_queries = queries if opts.clause_dense else queries[:1]
        dense = self._dense(dense_queries, lexical, filters) if opts.dense and opts.lexical_weight < 1 else None
        all_tokens: list[list[str]] = []
        for i, text in enumerate(queries):
            tokens = lexical.tokens(text) if opts.lexical else []
            all_tokens.append(tokens)
            bm25 = lexical.scores(tokens) if tokens else None
            if bm25 is not None and allowed is not None:
                bm25 = np.where(allowed, bm25, 0.0)
            if i == 0 and bm25 is not None:
                question_bm25 = scaled(bm25)
            if opts.fusion == "rrf":
                rows[i] = self._rrf(bm25, dense[i] if dense is not None and i < len(dense) else None, len(rows[i]))
                continue
            if dense is not None and i < len(dense):
                if bm25 is not None:
                    rows[i] += opts.lexical_weight * scaled(bm25)
                rows[i] += (1 - opts.lexical_weight) * dense[i]
            elif bm25 is not None:
                rows[i] += scaled(bm25)
        question_dense = dense[0] if dense is not None else np.zeros(lexical.size, dtype=np.float32)
        return rows, all_tokens, question_bm25, question_dense

    def _add_best_sentences(
        self,
        rows: np.ndarray,
        tokens: list[list[str]],
        preliminary: np.ndarray,
        cols: _Columns,
        allowed: np.ndarray | None,
    ) -> None:
        """Add each clause's best-sentence BM25 to its row, for the chunks that can still reach the top."""
        pool = min(self.options.sentence_pool, len(preliminary))
        chunks = np.argpartition(-preliminary, pool - 1)[:pool]
        if allowed is not None:
            chunks = chunks[allowed[chunks]]
        for row, terms, best in zip(rows, tokens, cols.lexical.best_sentences(tokens, chunks), strict=True):
            if terms:
                row[chunks] += self.options.sentence_weight * scaled(best)

    def _dense(self, queries: list[str], lexical: LexicalView, filters: SearchFilters | None) -> np.ndarray:
        """Min-max normalised cosine of each query's nearest chunks (0 for the chunks Chroma did not return)."""
        out = np.zeros((len(queries), lexical.size), dtype=np.float32)
        store = self.index.store
        n = min(self.options.candidates, len(lexical))
        if len(queries) == 1:
            vectors = [self.embedder.embed_query(queries[0])]
        else:
            vectors = list(self.embedder.embed_documents(queries))
        for i, (ids, distances) in enumerate(store.query_many(vectors, n, chroma_where(filters))):
            if not ids:
                continue
            sims = 1.0 - np.asarray(distances, dtype=np.float32)
            if self.options.fusion == "rrf":
                ranks = np.arange(1, len(ids) + 1, dtype=np.float32)
                sims = 1.0 / (self.options.rrf_k + ranks)  # kept as RRF contributions
            else:
                low, high = float(sims.min()), float(sims.max())
                sims = (sims - low) / (high - low) if high > low else np.ones_like(sims)
            for cid, value in zip(ids, sims, strict=True):
                pos = lexical.position.get(cid)
                if pos is not None:
                    out[i, pos] = value
        return out

    def _rrf(self, bm25: np.ndarray | None, dense: np.ndarray | None, n: int) -> np.ndarray:
        opts = self.options
        row = np.zeros(n, dtype=np.float32)
        if bm25 is not None:
            top = np.argsort(-bm25)[: opts.candidates]
            top = top[bm25[top] > 0]
            row[top] += opts.lexical_weight / (opts.rrf_k + np.arange(1, len(top) + 1))
        if dense is not None:
            row += (1 - opts.lexical_weight) * dense
        return row

    def _bonus(self, hints: QueryHints, cols: _Columns, named_outlet: np.ndarray | None) -> np.ndarray | float:
        opts = self.options
        bonus: np.ndarray | float = 0.0
        if named_outlet is not None and opts.outlet_bonus:
            bonus = bonus + opts.outlet_bonus * named_outlet
        if hints.days and opts.day_bonus:
            near = np.zeros(len(cols.day), dtype=bool)
            for day in hints.days:
                near |= np.abs(cols.day - day.toordinal()) <= 1  # publication times are UTC; questions are not
            bonus = bonus + opts.day_bonus * near
        if hints.months and opts.month_bonus:
            in_month = np.zeros(len(cols.day), dtype=bool)
            for year, month in hints.months:
                first = date(year, month, 1).toordinal()
                last = (date(year + month // 12, month % 12 + 1, 1)).toordinal()
                in_month |= (cols.day >= first) & (cols.day < last)
            bonus = bonus + opts.month_bonus * in_month
        return bonus

    def _allowed(self, cols: _Columns, filters: SearchFilters | None, latest: int | None) -> np.ndarray | None:
        """Which chunks may be found: the filters', and none published after `latest` (as_of; undated ones stay)."""
        later = latest is not None and len(cols.day) > 0 and int(cols.day.max()) > latest
        if (filters is None or not (filters.sources or filters.since or filters.until)) and not later:
            return None
        keep = np.ones(len(cols.day), dtype=bool)
        if later and latest is not None:
            keep &= cols.day <= latest
        if filters is None:
            return keep
        if filters.sources:
            keep &= cols.source_mask(filters.sources)
        if filters.since or filters.until:
            keep &= cols.day > 0  # an undated article is outside any date range
        if filters.since:
            keep &= cols.day >= dates.ordinal(filters.since)
        if filters.until:
            keep &= cols.day <= dates.ordinal(filters.until)
        return keep

    # ------------------------------------------------------------- ordering

    def _features(self, found: _Candidates) -> np.ndarray:
        positions = np.array([i for i, _ in found.pool], dtype=np.int64)
        lexical = found.cols.lexical
        best_sentence = lexical.sentence_scores(found.terms, positions) if found.terms else np.zeros(len(positions))
        texts = [found.texts[cid] for _, cid in found.pool]
        present = lexical.terms_present(found.terms, positions)
        sentences = lexical.sentence_sizes[positions] if len(lexical.sentence_sizes) else np.ones(len(positions))
        return features(
            positions.tolist(), found.signals, found.query, found.terms, texts, best_sentence, present, sentences
        )

    def _rerank(self, model: TreeModel, found: _Candidates, k: int) -> list[tuple[int, str]]:
        """The pool in the order the trees score it, the best of each named outlet first (as in step 4), and at
        most max_per_article per article while others are left."""
        pool = found.pool
        if not pool:
            return pool
        cols = found.cols
        ranked = [pool[int(j)] for j in np.argsort(-model.predict(self._features(found)), kind="stable")]
        lead: set[tuple[int, str] | None] = set()
        if self.options.lead_with_outlets and found.hints.sources:
            lead = {next((item for item in ranked if cols.source[item[0]] == s), None) for s in found.hints.sources}
            ranked = [item for item in ranked if item in lead] + [item for item in ranked if item not in lead]
        ids = dict(pool)
        order = [i for i, _ in ranked]
        story = cols.story if self.options.one_per_story else None
        if story is not None:
            named = {item[0] for item in lead if item is not None}
            order = originals_first(order, cols.article, story, cols.original_rank, cols.source, named)
        return [(i, ids[i]) for i in capped(order, cols.article, self.options.max_per_article, k, story)]

    def _rank(self, score: np.ndarray, hints: QueryHints, cols: _Columns, k: int) -> list[tuple[int, str]]:
        """(position, chunk id) of the k passages to show, best first."""
        opts = self.options
        pool = min(len(score), max(k * 8, 100))
        top = np.argpartition(-score, pool - 1)[:pool]
        order = [int(i) for i in top[np.argsort(-score[top], kind="stable")] if score[i] > 0]  # -inf: filtered
        lead: list[int] = []
        if opts.lead_with_outlets and hints.sources:
            for source in hints.sources:
                best = next((i for i in order if cols.source[i] == source), None)
                if best is not None and best not in lead:
                    lead.append(best)
            lead.sort(key=lambda i: -score[i])
        story = cols.story if opts.one_per_story else None
        order = [*lead, *(i for i in order if i not in lead)]
        if story is not None:
            order = originals_first(order, cols.article, story, cols.original_rank, cols.source, set(lead))
        picked = capped(order, cols.article, opts.max_per_article, k, story)
        ids = cols.lexical.ids
        return [(i, str(ids[i])) for i in picked if ids[i] is not None]


# capitalised, but not what is asked about
_NOT_ASKED = {*time_words.TIME_WORDS, *QUESTION_WORDS, *ARTICLES, "is", "are"}


def _asked_names(query: str, outlet_spans: tuple[tuple[int, int], ...]) -> list[str]:
    """The capitalised names a question asks about, not its outlets, time words or opening question word."""
    names = []
    for m in NAME.finditer(query):
        if any(a <= m.start() < b for a, b in outlet_spans) or m.group().lower() in _NOT_ASKED:
            continue
        names.append(POSSESSIVE.sub("", m.group()))
    return names


def _names_all(names: list[str], found: _Candidates, chunk_id: str) -> bool:
    meta = found.metadata.get(chunk_id, {})
    text = f"{meta.get('title', '')}\n{found.texts.get(chunk_id, '')}"
    return all(name in text for name in names)


def passage_from(chunk_id: str, text: str, meta: ChunkMeta, score: float, also: list[Outlet] | None = None) -> Passage:
    return Passage(
        chunk_id=chunk_id,
        article_id=str(meta.get("article_id")),
        title=str(meta.get("title", "")),
        source=meta.get("source"),
        url=meta.get("url"),
        published_at=meta.get("published_at"),
        text=text,
        score=round(score, 6),
        story_id=meta.get("story_id"),
        via=provenance.via(provenance.publisher(meta, meta.get("source"))),
        also_reported_by=also or [],
    )
