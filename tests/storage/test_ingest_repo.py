"""The ingest API's memory: hashed tokens, and idempotency answers bounded in size and time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import open_store
from storage.ingest import IDEMPOTENCY_BUCKETS, IDEMPOTENCY_PER_BUCKET, token_hash

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def test_only_a_hash_of_the_token_is_kept_and_rotation_keeps_the_id() -> None:
    store = open_store(None)
    first_id, first = store.ingest.issue("console:a", NOW)
    second_id, second = store.ingest.issue("console:a", NOW)
    assert first_id == second_id and first != second
    assert store.ingest.authenticate(first_id, first) is None
    assert store.ingest.authenticate(first_id, second) == "console:a"
    assert token_hash(second) != second and len(token_hash(second)) == 64


def test_idempotency_answers_expire_after_a_day_and_stay_bounded() -> None:
    store = open_store(None)
    chat = "console:a"
    store.ingest.remember(chat, "k", {"status": 200}, NOW)
    assert store.ingest.replay(chat, "k", NOW + timedelta(hours=23)) == {"status": 200}
    assert store.ingest.replay(chat, "k", NOW + timedelta(hours=25)) is None
    for n in range(IDEMPOTENCY_BUCKETS * IDEMPOTENCY_PER_BUCKET * 2):
        store.ingest.remember(chat, f"key-{n}", {"n": n}, NOW)
    kept = sum(
        store.ingest.replay(chat, f"key-{n}", NOW) is not None
        for n in range(IDEMPOTENCY_BUCKETS * IDEMPOTENCY_PER_BUCKET * 2)
    )
    assert kept <= IDEMPOTENCY_BUCKETS * IDEMPOTENCY_PER_BUCKET
    last = IDEMPOTENCY_BUCKETS * IDEMPOTENCY_PER_BUCKET * 2 - 1
    assert store.ingest.replay(chat, f"key-{last}", NOW) == {"n": last}
