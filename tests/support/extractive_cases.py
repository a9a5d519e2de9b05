"""Hand-made passages and questions for the extractive answerer: the unit and integration tests use them, and
bench/answer.py drops any calibration grid point that does not answer ANSWERED and decline DECLINED."""

from __future__ import annotations

from retrieval.core.types import Passage


def passage(n: int, article: str, title: str, text: str, score: float = 1.0) -> Passage:
    return Passage(chunk_id=f"c{n}", article_id=article, title=title, source="Wire", text=text, score=score)


PASSAGES = [
    passage(
        1,
        "xiaomi",
        "Xiaomi wants its own EV factory",
        "Xiaomi is starting from scratch in the auto industry. The company wants to build and operate its own "
        "factory, with a long-term plan involving an annual output of 300,000 vehicles. Testing starts this year.",
    ),
    passage(
        2,
        "apple",
        "Apple lines up battery suppliers",
        "Apple is meeting suppliers for essential EV components, including batteries. The Apple Car is not "
        "expected before 2025.",
        0.8,
    ),
    passage(
        3,
        "markets",
        "Stocks slip",
        "Stocks slipped on Wall Street as investors waited for inflation data. Bond yields rose slightly.",
        0.3,
    ),
]


SEED_QUESTION = "What annual output is planned for Xiaomi's own plant?"
TWO_ARTICLE_QUESTION = (
    "What are Xiaomi's factory output plans and which EV components is Apple sourcing from suppliers?"
)
OFF_TOPIC_QUESTION = "Which striker did Sky Sports and ESPN both name player of the month?"
ANSWERED = (SEED_QUESTION, TWO_ARTICLE_QUESTION)
DECLINED = (OFF_TOPIC_QUESTION,)
