"""A web site on 127.0.0.1 for tests and benchmarks of URL and feed ingestion: each path's page comes from a
function (which may take its time, as a slow site does), and every path asked for is recorded."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Page = Callable[[str], tuple[bytes, str]]  # path -> (body, content type)


class LoopbackSite:
    def __init__(self, page: Page) -> None:
        self.hits: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                site.hits.append(self.path)
                body, kind = page(self.path)
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def html_page(text: str) -> tuple[bytes, str]:
    return f"<html><body><article><p>{text}</p></article></body></html>".encode(), "text/html"


def rss_feed(title: str, items: str, declaration: bool = False) -> str:
    """An RSS 2.0 feed of these <item> elements."""
    head = '<?xml version="1.0"?>' if declaration else ""
    return f'{head}<rss version="2.0"><channel><title>{title}</title>{items}</channel></rss>'
