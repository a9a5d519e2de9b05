"""Runs in its own process: index a folder, follow a topic in a Discord channel (id 4242), then sync a second folder
and die (os._exit(9), as kill -9) right after that sync committed, before its articles are matched.

`python -m tests.support.follow_driver FIRST_FOLDER TOPIC SECOND_FOLDER` (settings from NEWSDESK_*)."""

from __future__ import annotations

import sys

from retrieval.core.config import Settings
from retrieval.service import Newsdesk
from tests.support.inside import die_before_matching_follows

CHANNEL = 4242


def main() -> None:
    first, topic, second = sys.argv[1:4]
    service = Newsdesk(Settings())
    service.ingest([first])
    service.follow(topic, "discord", guild_id=1, channel_id=CHANNEL, created_by="driver")
    die_before_matching_follows()
    service.ingest([second])
    print("not killed", flush=True)


if __name__ == "__main__":
    main()
