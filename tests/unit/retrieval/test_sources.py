from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.ingest.sources import Article, Failure, load_feed, load_folder, load_sources
from tests.conftest import CORPUS

LIMIT = 100_000


def _load(path: Path) -> tuple[list[Article], list[Failure]]:
    items = list(load_folder(path, LIMIT))
    return [i for i in items if isinstance(i, Article)], [i for i in items if isinstance(i, Failure)]


def test_the_shipped_corpus_loads_with_its_front_matter() -> None:
    articles, failures = _load(CORPUS)
    assert not failures
    seed = next(a for a in articles if "Xiaomi" in a.title)
    assert seed.published_at == "2022-09-03"
    assert seed.source is None and seed.url is None  # unknown fields stay empty
    assert "300,000 vehicles" in seed.body
    assert not seed.body.startswith("date")


def test_a_multihop_style_corpus_json_loads_as_it_is(tmp_path: Path) -> None:
    """The benchmark's shape (a JSON list, author may be null); the whole file: test_benchmark_data.py."""
    rows = [
        {"title": "Deals of the day", "author": None, "source": "Mashable", "published_at": "2023-11-27T08:45:59+00:00",
         "category": "entertainment", "url": "https://example.com/deals", "body": "Table of Contents. The deals."},
        {"title": "Rates hold", "author": "A. Writer", "source": "Reuters", "published_at": "2023-11-01T10:00:00+00:00",
         "category": "business", "url": "https://example.com/rates", "body": "The bank held its rates."},
    ]  # fmt: skip
    (tmp_path / "corpus.json").write_text(json.dumps(rows))
    items = list(load_sources([str(tmp_path / "corpus.json")]))
    articles = [i for i in items if isinstance(i, Article)]
    assert len(articles) == 2 and len(items) == 2 and len({a.id for a in articles}) == 2
    first = articles[0]
    assert first.source == "Mashable" and first.url and first.category == "entertainment" and first.author is None
    assert first.published_at == "2023-11-27T08:45:59+00:00" and first.body.startswith("Table of Contents")


def test_each_file_type_is_read(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.md").write_text("---\ntitle: Front\nsource: Wire\npublished_at: 2023-10-01\n---\nBody of a.\n")
    (tmp_path / "sub" / "b.txt").write_text("Plain title\nPlain body text here.\n")
    (tmp_path / "c.html").write_text(
        "<html><head><title>Page title</title></head><body><article><h1>Page title</h1>"
        + "<p>This is the main paragraph of the article with enough words to be kept by the extractor.</p>" * 5
        + "</article><footer>menu links</footer></body></html>"
    )
    (tmp_path / "d.json").write_text(
        json.dumps([{"title": "J1", "body": "Json one."}, {"title": "J2", "text": "Two."}])
    )
    (tmp_path / "e.jsonl").write_text('{"title": "L1", "body": "Line one."}\n{"title": "L2", "body": "Line two."}\n')
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n")
    articles, failures = _load(tmp_path)
    assert not failures
    titles = sorted(a.title for a in articles)
    assert titles == ["Front", "J1", "J2", "L1", "L2", "Page title", "Plain title"]
    front = next(a for a in articles if a.title == "Front")
    assert (front.source, front.published_at, front.body) == ("Wire", "2023-10-01", "Body of a.")
    html = next(a for a in articles if a.title == "Page title")
    assert "main paragraph" in html.body and "menu links" not in html.body
    assert all(a.origin_root == str(tmp_path.resolve()) for a in articles)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.md", b"   \n", "empty"),
        ("binary.txt", b"\x00\x01\x02binary", "binary"),
        ("latin1.md", "---\ntitle: Caf\xe9\n---\nna\xefve body".encode("latin-1"), "not valid UTF-8"),
        ("broken.md", b"---\ntitle: [unclosed\n---\nBody.\n", "broken front matter"),
        ("nobody.md", b"---\ntitle: Only a title\n---\n", "no body"),
        ("bad.json", b"{not json", "invalid JSON"),
        ("huge.txt", b"Title\n" + b"x " * 60_000, "over the"),
        # a UTF-16 byte-order mark, then a lone surrogate: not decodable as UTF-16
        ("wide.txt", b"\xff\xfe" + "Title\nBody".encode("utf-16-le") + b"\x00\xd8", "not valid UTF-16"),
        ("wide-be.md", b"\xfe\xff\xd8\x00\x00", "not valid UTF-16"),
        ("bad-bom.md", b"\xef\xbb\xbf---\ntitle: x\n---\n\xff\xfe body", "not valid UTF-8"),
        ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_bad_files_are_reported_with_path_and_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    (tmp_path / "good.md").write_text("---\ntitle: Good\n---\nA good article.\n")
    (tmp_path / name).write_bytes(content)
    articles, failures = _load(tmp_path)
    assert [a.title for a in articles] == ["Good"]  # the rest of the batch still loads
    assert len(failures) == 1
    assert failures[0].origin == str(tmp_path / name)
    assert reason in failures[0].reason


def test_unreadable_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "locked.md"
    target.write_text("---\ntitle: Locked\n---\nSecret.\n")
    real = Path.read_bytes

    def deny(self: Path) -> bytes:
        if self.name == "locked.md":
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", deny)
    _, failures = _load(tmp_path)
    assert failures[0].reason == "file is not readable (permission denied)"


def test_utf8_bom_and_utf16_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "bom.txt").write_bytes("\ufeffTitle one\nBody one.".encode())
    (tmp_path / "wide.txt").write_bytes("Title two\nBody two.".encode("utf-16"))
    articles, failures = _load(tmp_path)
    assert not failures
    assert sorted(a.title for a in articles) == ["Title one", "Title two"]


def test_feed_file_uses_entry_content_when_pages_cannot_be_fetched(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text(
        """<?xml version="1.0"?><rss version="2.0"><channel><title>Local Wire</title>
        <item><title>Entry one</title><link>file:///nowhere</link><pubDate>Tue, 03 Oct 2023 10:00:00 GMT</pubDate>
        <description>&lt;p&gt;The first entry says the plant will open in 2024.&lt;/p&gt;</description></item>
        </channel></rss>"""
    )
    items = list(load_feed(feed, str(feed), LIMIT))
    assert len(items) == 1 and isinstance(items[0], Article)
    assert items[0].source == "Local Wire"
    assert items[0].published_at == "2023-10-03T10:00:00"
    assert "plant will open in 2024" in items[0].body


def test_missing_target_is_a_failure() -> None:
    items = list(load_sources(["/no/such/place"]))
    assert isinstance(items[0], Failure) and "no such file" in items[0].reason


def test_links_out_of_the_folder_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Secret title\nSystem data that must not become searchable.\n")
    (outside / "more").mkdir()
    (outside / "more" / "hidden.md").write_text("---\ntitle: Hidden\n---\nAlso outside.\n")
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    (folder / "good.md").write_text("---\ntitle: Good\n---\nA good article.\n")
    (folder / "secret.txt").symlink_to(outside / "secret.txt")
    (folder / "sub" / "inside.md").symlink_to(folder / "good.md")  # a link that stays inside is fine
    (folder / "linked-dir").symlink_to(outside / "more", target_is_directory=True)
    articles, failures = _load(folder)
    assert [a.title for a in articles] == ["Good", "Good"]
    assert [f.origin for f in failures] == [str(folder / "secret.txt")]
    assert "outside the folder" in failures[0].reason
