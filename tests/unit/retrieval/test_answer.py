"""The extractive answerer's parts that need no embedding model: names, how many articles a question spans, the
query cache, and the asked-fact rules for questions as people type them (with a hashing embedder and the packaged
spaCy tagger; the real embedder's answers are tested in tests/integration/retrieval/test_extractive.py)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from retrieval.answer.extractive import EVIDENCE_NOT_VERDICT, ExtractiveAnswerer, ExtractiveOptions, articles_asked
from retrieval.answer.sentences import name_coverage, names
from retrieval.embed.embedder import Embedder
from retrieval.embed.remembered import RememberedQueries
from tests.support.extractive_cases import PASSAGES, SEED_QUESTION, TWO_ARTICLE_QUESTION, passage
from tests.support.fake_embedder import HashingEmbedder


def test_how_many_articles_a_question_spans() -> None:
    wire = [passage(1, "a", "Apple news", "x", 1.0), passage(2, "b", "More", "y", 1.0)]
    wire[1] = wire[1].model_copy(update={"source": "The Verge"})
    wire[0] = wire[0].model_copy(update={"source": "TechCrunch"})
    assert articles_asked(SEED_QUESTION, PASSAGES, 4) == 1
    assert articles_asked(TWO_ARTICLE_QUESTION, PASSAGES, 4) == 2  # Xiaomi's article, then Apple's
    assert articles_asked("Which company did TechCrunch and The Verge both cover?", wire, 4) == 2
    assert articles_asked("Did both outlets report it?", wire, 1) == 1  # never more than asked for


def test_no_passages_means_no_answer() -> None:
    assert ExtractiveAnswerer(HashingEmbedder()).draft("anything?", []).abstained


def test_names_and_their_coverage() -> None:
    assert names("What about Apple's plans? The U.S. and AT&T said so.") >= {"apple", "u.s", "at&t"}
    assert "the" not in names("The plant. What? Which one?")
    assert name_coverage("What annual output is planned for Xiaomi's plant?", PASSAGES) == 1.0
    assert name_coverage("Did ESPN and Sky Sports agree?", PASSAGES) == 0.0
    assert name_coverage("what output is planned?", PASSAGES) == 1.0  # no names asked: nothing missing


class CountingEmbedder:
    """An embedder, counting how many texts it was asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        self.embedded = 0

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.inner.count_tokens(texts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> np.ndarray:
        self.embedded += 1
        return self.inner.embed_query(text)


def test_remembered_queries_embed_each_text_once() -> None:
    embedder = HashingEmbedder()
    counting = CountingEmbedder(embedder)
    remembered = RememberedQueries(counting, size=3)
    first = remembered.embed_query("Xiaomi plant output")
    again = remembered.embed_query("Xiaomi plant output")
    assert counting.embedded == 1 and np.allclose(first, again)
    batch = remembered.embed_documents(["Xiaomi plant output", "Apple batteries", "Apple batteries"])
    assert counting.embedded == 2  # only "Apple batteries" was new, and only once
    assert np.allclose(batch[0], first) and np.allclose(batch[1], batch[2])
    assert np.allclose(batch[1], embedder.embed_documents(["Apple batteries"])[0], atol=1e-5)
    remembered.embed_documents(["a", "b", "c"])  # evicts the oldest
    remembered.embed_query("Xiaomi plant output")
    assert counting.embedded == 6
    first[0] = 42.0  # callers get their own copy
    assert remembered.embed_query("Xiaomi plant output")[0] != 42.0


def _quotes(question: str, text: str, part: str) -> bool:
    """Whether the answer's first line (with the shipped rules) quotes `part`."""
    answer = _answer(question, text)
    return answer is not None and part in answer


def _answer(question: str, *texts: str, **rules: bool) -> str | None:
    """The answer's first line (None when declined), abstention by weak evidence off: the kind rules alone
    (`rules`: options turned on or off besides the shipped ones)."""
    options = ExtractiveOptions(abstain_below=float("-inf"), **rules)  # type: ignore[arg-type]
    found = [passage(n, f"a{n}", f"Article {n}", text) for n, text in enumerate(texts, start=1)]
    draft = ExtractiveAnswerer(HashingEmbedder(), options).draft(question, found)
    return None if draft.abstained else draft.text.splitlines()[0]


def test_how_old_is_never_answered_by_a_sentence_that_states_no_age_of_the_subject() -> None:
    rogers = "Tony Staffieri is the chief executive of Rogers Communications. He said the company would appeal."
    assert _answer("how old is tony staffieri", rogers) is None
    casemiro = "Jim Ratcliffe questioned the signing of a 30-year-old Casemiro on a four-year deal."
    assert _answer("how old is jim ratcliffe", casemiro) is None  # Casemiro's age, not Ratcliffe's
    lucas = "Lucas Goeller, now 10, was born with a rare condition. He likes hunting with his father."
    answer = _answer("how old is lucas goeller", lucas)
    assert answer is not None and "now 10" in answer


def test_a_fact_counts_in_a_sentence_that_refers_back_to_the_subject() -> None:
    beeper = (
        "Beeper Mini brings iMessage to Android phones for a monthly fee. "
        "It saw over 100,000 downloads in its first 48 hours, the company claims."
    )
    answer = _answer("how many downloads did beeper mini get", beeper)
    assert answer is not None and "100,000" in answer


def test_in_a_passage_about_the_subject_a_sentence_naming_no_one_is_about_it_and_one_naming_others_is_not() -> None:
    sphere = (
        "The Sphere opened in Las Vegas with a U2 residency. The venue took five years to build. "
        "There are 157,000 ultra-directional speakers inside, shaping the sound for every seat."
    )
    answer = _answer("how many speakers does the sphere in vegas have", sphere)
    assert answer is not None and "157,000" in answer
    arena = "The Sphere opened in Las Vegas with a U2 residency. Madison Square Garden holds 20,000 speakers."
    assert _answer("how many speakers does the sphere in vegas have", arena) is None  # said of another venue
    sentence_rule = ExtractiveOptions(abstain_below=float("-inf"), subject_rule="sentence")
    found = [passage(1, "a1", "Article 1", sphere)]
    before = ExtractiveAnswerer(HashingEmbedder(), sentence_rule)
    assert before.draft("how many speakers does the sphere have", found).abstained  # the rule before declined


def test_how_much_of_a_thing_is_a_quantity_not_money() -> None:
    device = "Campbell Labs built a device that can pull 5 liters of water a day from the air."
    answer = _answer("how much water can the campbell labs device make a day", device)
    assert answer is not None and "5 liters" in answer
    assert _answer("how much did campbell labs make", device) is None  # money asked: liters are none


def test_a_price_is_money_not_a_percentage() -> None:
    drug = "Ozempic is a great example: nearly 50% of the drugs in the pipeline need cooling."
    assert _answer("how much does ozempic cost a month", drug) is None


def test_the_money_asked_for_is_stated_by_a_word_of_its_kind() -> None:
    raised = "Acme Health raised $65 million in a round led by Index Ventures."
    assert _answer("what's acme health valued at", raised) is None  # funding, not a valuation
    valued = raised + " The round values Acme Health at $1.4 billion."
    answer = _answer("what's acme health valued at", valued)
    assert answer is not None and "$1.4 billion" in answer
    answer = _answer("how much cash did acme health get", raised + " It was founded in 2014.")
    assert answer is not None and "$65 million" in answer  # "cash" names no kind: any money answers it
    answer = _answer("how much did acme health raise", valued)
    assert answer is not None and "$65 million" in answer


def test_a_role_asked_for_is_one_the_sentence_gives() -> None:
    quoted = "Demand in China is recovering, said John Carter of Acme Health."
    named = "Acme Health's finance chief, chief financial officer Mary Lee, said margins grew."
    assert _answer("who's acme health's cfo", quoted, role_relation=True) is None  # no one said to be its cfo
    answer = _answer("who's acme health's cfo", quoted, named, role_relation=True)
    assert answer is not None and "Mary Lee" in answer


def test_a_yes_no_answer_is_the_evidence_not_a_verdict() -> None:
    options = ExtractiveOptions(abstain_below=float("-inf"))
    found = [passage(1, "a", "SoftBank deal", "SoftBank is taking a 51% stake in the Dublin startup Cubic Telecom.")]
    draft = ExtractiveAnswerer(HashingEmbedder(), options).draft("did softbank buy a majority of cubic telecom", found)
    first, note = draft.text.splitlines()
    assert "51%" in first and first.endswith("[1]")
    assert note == EVIDENCE_NOT_VERDICT


def test_an_answer_asked_for_a_figure_must_state_one() -> None:
    from retrieval.answer.fallbacks import misses_figure

    assert misses_figure("how old is jim ratcliffe", "Jim Ratcliffe is the founder of Ineos [1].")  # "[1]" is none
    assert not misses_figure("how old is jim ratcliffe", "Ratcliffe, 71, bought a stake [1].")
    assert not misses_figure("how long does the deal run", "The deal runs for seven years [2].")
    assert not misses_figure("how long were the fish on the diet", "The fish were on the diet for one month [1].")
    # a year is no count: "how many people are on the list" is not answered by "a list for 2024 tickets"
    assert misses_figure("how many people are on the wait list", "The club has a waiting list for 2024 tickets [1].")
    assert not misses_figure("how many fans came", "Some 2024 fans came to the game [1].")
    assert not misses_figure("who runs ineos", "Jim Ratcliffe founded Ineos [1].")  # no figure asked


def test_a_clipped_word_counts_what_it_clips() -> None:
    text = "Kayla Brooks is a YouTuber with over 12 million subscribers and 300 videos."
    assert _quotes("how many subs does kayla brooks have", text, "12 million subscribers")
    assert _answer("how many subs does kayla brooks have", "Kayla Brooks posted 300 videos in 2023.") is None


def test_a_mistyped_word_counts_what_it_was_meant_to() -> None:
    text = "The accelerator received 1,083 applications for its latest cohort and picked 25 startups."
    assert _quotes("how many applicatons did the accelerator get for its latest cohort", text, "1,083 applications")
    assert _answer("how many applicatons did the accelerator get", "The accelerator picked 25 cohorts in 2023.") is None


def test_a_score_asked_for_is_a_score() -> None:
    text = "Connor Bedard picked up his first NHL point, but the Blackhawks lost 4-2 to the Penguins."
    assert _quotes("what was the final score in bedards first nhl game", text, "4-2")
    assert _answer("what was the final score in bedards first game", "Bedard picked up his first NHL point.") is None


def test_people_are_counted_by_any_word_for_people() -> None:
    text = "Flight 394 crashed off the coast of Denmark in September 1989, killing all 55 passengers and crew."
    assert _quotes("how many people died when flight 394 crashed off denmark", text, "55 passengers")
    # a count of things is no count of people
    cars = "Flight 394 crashed off the coast of Denmark in September 1989 with 55 cars in its hold."
    assert _answer("how many people died when flight 394 crashed off denmark", cars) is None
    # only a word for anyone counts people of every kind: employees are not users
    users = "Acme's game has 238 million monthly active users, twice as many as its rivals."
    assert _answer("how many employees does acme have", users) is None


def test_money_in_a_currency_the_tagger_misses_is_still_money() -> None:
    zim = "In late August 2021, Rani Zim bought Psagot Investment House for NIS 405 million from Altshuler Shaham."
    assert _quotes("how much did rani zim pay for psagot", zim, "NIS 405 million")


def test_a_sum_given_for_something_is_its_price_whatever_the_verb() -> None:
    starc = "Mitchell Starc to KKR for Rs 24.75 Cr. Starc has taken 50 wickets in the format."
    assert _quotes("how much did kkr pay for mitchell starc", starc, "Rs 24.75 Cr")
    # a sum raised is still no price: "for" must give the money
    raised = "Mitchell Starc's foundation raised Rs 3 Cr last year for charity."
    assert _answer("how much did kkr pay for mitchell starc", raised) is None
