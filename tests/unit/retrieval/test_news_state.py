"""The follows' state file: migrations, one transaction per catch-up, posts once per story, restarts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from retrieval.core.types import BriefSchedule, Follow, FollowMatch
from retrieval.news.state import MIGRATIONS, Copy, NewsState


def match(follow_id: str, article_id: str, story_id: str, source: str) -> FollowMatch:
    return FollowMatch(
        follow_id=follow_id, article_id=article_id, story_id=story_id, title="t", source=source,
        url=f"https://{source}.example/{article_id}", published_at="2023-10-02", sentence="A sentence.", score=0.9,
    )  # fmt: skip


def test_a_new_file_gets_every_migration_and_an_old_one_the_missing_ones(tmp_path: Path) -> None:
    path = tmp_path / "news.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(f"BEGIN; {MIGRATIONS[0]}; PRAGMA user_version = 1; COMMIT;")
    db.close()
    state = NewsState(path)
    assert state.version == len(MIGRATIONS)
    state.set_schedule(BriefSchedule(channel_id=1, hour=8, timezone="Europe/Paris"))
    assert state.schedules()[0].hour == 8
    state.close()
    assert NewsState(path).version == len(MIGRATIONS)


def test_one_post_per_story_per_follow_later_copies_mark_it_stale_and_a_restart_keeps_everything(
    tmp_path: Path,
) -> None:
    state = NewsState.in_data_dir(tmp_path)
    follow = state.add_follow(Follow(id="", topic="Chip plant", kind="discord", channel_id=7), np.ones(4), "m")
    assert state.add_follow(Follow(id="", topic="chip  plant".replace("  ", " "), kind="discord", channel_id=7),
                            np.ones(4), "m").id == follow.id  # fmt: skip
    state.record(["a"], [], [])  # the first catch-up: the archive is seen, nothing matched
    assert state.unseen(["a", "b", "c"]) == {"b", "c"}
    state.record(["b", "c"], [match(follow.id, "b", "s1", "Wire"), match(follow.id, "c", "s1", "Outlet A")], [])
    [post] = state.posts_to_send()
    assert (post.story_id, post.outlets, post.state) == ("s1", ["Wire", "Outlet A"], "pending")
    state.mark_posted(post.follow_id, post.story_id, 123, len(post.outlets))
    assert state.posts_to_send() == []
    state.close()

    again = NewsState.in_data_dir(tmp_path)  # a restart: the follow, its matches and its post are all there
    assert [f.id for f in again.follows()] == [follow.id]
    assert [m.article_id for m in again.matches(follow.id)] == ["b", "c"]
    assert again.posts_to_send() == []
    # a later copy that did not match on its own words
    again.record(["d"], [], [Copy("d", "s1", "Outlet B", "outlet outlet b")])
    [stale] = again.posts_to_send()
    assert (stale.message_id, stale.state, stale.outlets) == (123, "stale", ["Wire", "Outlet A", "Outlet B"])
    again.record(["e"], [], [Copy("e", "s1", "outlet b", "outlet outlet b")])  # the same outlet again changes nothing
    assert again.posts_to_send()[0].outlets == ["Wire", "Outlet A", "Outlet B"]


def test_one_publisher_is_one_outlet_of_a_post_whatever_names_its_copies_claim(tmp_path: Path) -> None:
    state = NewsState.in_data_dir(tmp_path)
    follow = state.add_follow(Follow(id="", topic="chip plant", kind="discord", channel_id=7), np.ones(4), "m")
    state.record(["a"], [], [])
    state.record(["b"], [match(follow.id, "b", "s1", "Wire")], [Copy("b", "s1", "Wire", "outlet wire")])
    state.mark_posted(follow.id, "s1", 1, 1)
    posted_over_the_api = [Copy(a, "s1", name, "api") for a, name in (("c", "Reuters"), ("d", "AP"), ("e", "BBC"))]
    state.record(["c", "d", "e"], [], posted_over_the_api)
    [post] = state.posts_to_send()
    assert post.outlets == ["Wire", "Reuters (via the API)"]  # the API's writer counts once, under its first name
    state.record(["f"], [], [Copy("f", "s1", "Wire", "feed https://feeds.example/wire.xml")])
    assert state.posts_to_send()[0].outlets == ["Wire", "Reuters (via the API)", "Wire (via feed feeds.example)"]


def test_a_post_made_before_publishers_were_kept_counts_its_outlets_by_name(tmp_path: Path) -> None:
    path = tmp_path / "news.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(f"BEGIN; {MIGRATIONS[0]}; {MIGRATIONS[1]}; PRAGMA user_version = 2; COMMIT;")
    db.execute("INSERT INTO follows (id, topic, kind, channel_id, created_at) VALUES ('f', 'x', 'discord', 7, '')")
    db.execute(
        "INSERT INTO posts VALUES ('f', 's1', 7, 1, 't', 's', 'Wire', NULL, NULL, '[\"Wire\"]', 'posted', '')"
    )
    db.commit()
    db.close()
    state = NewsState(path)
    state.record(["a"], [], [Copy("a", "s1", "wire", "outlet wire"), Copy("b", "s1", "Post", "outlet post")])
    assert state.posts_to_send()[0].outlets == ["Wire", "Post"]


def test_api_follows_keep_matches_but_make_no_posts_and_unfollowing_drops_them(tmp_path: Path) -> None:
    state = NewsState.in_data_dir(tmp_path)
    follow = state.add_follow(Follow(id="", topic="ports", kind="api"), np.ones(4), "m")
    state.record(["x"], [match(follow.id, "x", "sx", "Wire")], [])
    assert [m.article_id for m in state.matches(follow.id, since="2000-01-01")] == ["x"]
    assert state.matches(follow.id, since="9999-01-01") == []
    assert state.posts_to_send() == []
    assert state.remove_follow(follow.id)
    assert state.matches(follow.id) == [] and state.follows() == []


def test_a_daily_brief_is_queued_once_per_day(tmp_path: Path) -> None:
    state = NewsState.in_data_dir(tmp_path)
    state.set_schedule(BriefSchedule(channel_id=5, hour=8))
    state.queue_brief(5, "2023-10-02", "{}")
    state.queue_brief(5, "2023-10-02", "{}")
    assert state.briefs_to_send() == [(5, "2023-10-02", "{}")]
    assert state.schedules()[0].last_day == "2023-10-02"
    state.mark_brief_sent(5, "2023-10-02")
    assert state.briefs_to_send() == []
