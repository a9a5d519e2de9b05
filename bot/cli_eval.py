"""`newsdesk eval ...`: benchmark commands (retrieval now; answers may join this sub-app later)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from bot.cli_common import load_settings
from retrieval.core.errors import NewsdeskError

if TYPE_CHECKING:
    from retrieval.service import Newsdesk

T = TypeVar("T")
Step = Callable[[int, int], None]  # (done, total)
CorpusOption = Annotated[Path, typer.Option(help="the articles: a JSON list (e.g. MultiHop-RAG corpus.json)")]
DataDirOption = Annotated[
    Path | None, typer.Option(help="where the benchmark index lives (default: DATA_DIR/eval/<corpus>-<setup>)")
]
JsonOption = Annotated[bool, typer.Option("--json", help="print the figures as JSON")]

eval_app = typer.Typer(help="Measure the search (and answers) on a benchmark.", no_args_is_help=True)
console = Console(stderr=True)
out = Console()


@contextmanager
def _errors_for_the_user() -> Iterator[None]:
    try:
        yield
    except NewsdeskError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc


def _on_eval_index(
    corpus: Path, data_dir: Path | None, items: int, doing: str, work: Callable[[Newsdesk, Step], T]
) -> tuple[Newsdesk, T]:
    """Open (building or syncing) the benchmark index of `corpus`, then run `work` on it, with progress bars."""
    from evaluation.passages import open_eval_service

    with (
        _errors_for_the_user(),
        Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console
        ) as bar,
    ):
        task = bar.add_task("indexing the corpus", total=None)
        service, report = open_eval_service(
            load_settings(), corpus, data_dir, progress=lambda d, t: bar.update(task, completed=d, total=t)
        )
        bar.update(task, description=f"index ready ({service.index_size()[1]} chunks)", completed=1, total=1)
        task = bar.add_task(doing, total=items)
        result = work(service, lambda d, t: bar.update(task, completed=d))
    if report.chunks_embedded:
        console.print(f"embedded {report.chunks_embedded} chunks in {report.seconds:.0f}s")
    return service, result


@eval_app.command()
def retrieval(
    corpus: CorpusOption,
    queries: Annotated[Path, typer.Option(help="the questions with evidence (e.g. queries-dev.json)")],
    k: Annotated[int, typer.Option(min=1, max=50, help="passages retrieved per question")] = 10,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Score the product's search with the official MultiHop-RAG metric, beside dense-only search."""
    from evaluation.passages import METRICS, load_queries, run_retrieval_eval

    with _errors_for_the_user():
        items = load_queries(queries)
    _, result = _on_eval_index(
        corpus, data_dir, len(items), "searching", lambda service, step: run_retrieval_eval(service, items, k, step)
    )
    if as_json:
        print(json.dumps(result.as_json()))
        return
    table = Table(title=f"Retrieval on {result.hybrid.overall.queries} questions (official MultiHop-RAG metric)")
    for column in ("search", "question type", "queries", *METRICS):
        table.add_column(column, justify="left" if column in {"search", "question type"} else "right")
    for name, breakdown in (("newsdesk", result.hybrid), ("dense only", result.dense)):
        rows = [("all", breakdown.overall), *breakdown.by_type.items()]
        for i, (kind, figures) in enumerate(rows):
            table.add_row(
                name if i == 0 else "", kind, str(figures.queries), *[f"{v:.4f}" for v in figures.row()],
                end_section=i == len(rows) - 1,
            )  # fmt: skip
    out.print(table)
    out.print(f"search latency: p50 {result.latency_ms['p50']:.1f} ms, p95 {result.latency_ms['p95']:.1f} ms")


@eval_app.command()
def answers(
    corpus: CorpusOption,
    queries: Annotated[Path, typer.Option(help="the questions with gold answers (e.g. queries-dev.json)")],
    limit: Annotated[int | None, typer.Option(min=1, help="answer only the first N questions")] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Answer every question as `ask` does; score citations, abstentions and answer hits (NEWSDESK_LLM applies)."""
    from evaluation.answers import judge, load_answer_queries, report

    with _errors_for_the_user():
        items = load_answer_queries(queries)[:limit]
    service, judged = _on_eval_index(
        corpus, data_dir, len(items), "answering", lambda service, step: judge(service.answer, items, step)
    )
    result = report(judged, service.answer_mode)
    if as_json:
        print(result.model_dump_json())
        return
    table = Table(title=f"Answers to {result.queries} questions ({result.mode})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows: list[tuple[str, float]] = [
        ("citation validity (must be 1.0)", result.citation_validity),
        ("abstention recall (null queries declined)", result.abstention_recall),
        ("false abstentions (answerable declined)", result.false_abstention_rate),
        *[(f"hit rate: {kind}", rate) for kind, rate in result.hit_rate.items()],
        ("token-overlap accuracy (paper, reference)", result.token_overlap_accuracy),
    ]
    for name, value in rows:
        table.add_row(name, f"{value:.4f}")
    out.print(table)
    out.print(f"answer modes: {result.modes}")
    out.print(f"sentences: {result.sentences}")
    if result.llm_kept is not None:
        out.print(f"LLM answers kept (answerable): {result.llm_kept:.4f}; prompt tokens p50 {result.prompt_tokens}")
    first = result.latency_ms.get("first_token_p50")
    out.print(
        f"ask latency: p50 {result.latency_ms['p50']:.1f} ms, p95 {result.latency_ms['p95']:.1f} ms"
        + (f", first token p50 {first:.1f} ms" if first is not None else "")
    )
