"""The notification batcher: group windows, quiet-hours holds, merging, persistence."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from scoring.alert_rules import AlertPolicy, Kind, Mute, QuietHours, Transition, evaluate
from scoring.alerts_batch import Batch, Batcher
from scoring.models import Kpi, Measurement, Status

G, Y, R, ND = Status.GREEN, Status.YELLOW, Status.RED, Status.NODATA
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
WINDOW = timedelta(seconds=60)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def alert(
    kpi: str,
    old: Status,
    new: Status,
    kind: Kind,
    when: datetime = T0,
    *,
    held_until: datetime | None = None,
    suppressed: str | None = None,
) -> Transition:
    return Transition.model_validate(
        {
            "kpi": kpi,
            "name": kpi.upper(),
            "objective": "grow",
            "target": 100.0,
            "kind": kind,
            "old": old,
            "new": new,
            "at": when,
            "since": when,
            "value": 42.0,
            "performance": 0.42,
            "held_until": held_until,
            "suppressed": suppressed,
        }
    )


def flush(batcher: Batcher, now: datetime) -> tuple[Batcher, list[str]]:
    batcher, batch = batcher.due(now)
    return batcher, [] if batch is None else [f"{t.kpi}:{t.kind}" for t in batch.items]


def test_window_zero_sends_at_the_next_flush() -> None:
    batcher = Batcher().add(alert("cac", G, R, "fired"), now=T0, window=timedelta(0))
    assert batcher.next_due() == T0
    batcher, sent = flush(batcher, T0)
    assert sent == ["cac:fired"] and batcher == Batcher()


def test_window_zero_still_groups_one_import() -> None:
    batcher = Batcher()
    for kpi in ("cac", "leads", "nps"):
        batcher = batcher.add(alert(kpi, G, Y, "fired"), now=T0, window=timedelta(0))
    assert flush(batcher, T0)[1] == ["cac:fired", "leads:fired", "nps:fired"]


def test_two_kpis_within_the_window_go_out_as_one_batch() -> None:
    batcher = Batcher().add(alert("cac", G, R, "fired"), now=at(0), window=WINDOW)
    batcher = batcher.add(alert("leads", G, Y, "fired", at(45)), now=at(45), window=WINDOW)
    assert batcher.next_due() == at(60)
    assert flush(batcher, at(59))[1] == []
    batcher, sent = flush(batcher, at(60))
    assert sent == ["cac:fired", "leads:fired"] and batcher.next_due() is None


def test_two_kpis_outside_the_window_go_out_as_two_batches() -> None:
    batcher = Batcher().add(alert("cac", G, R, "fired"), now=at(0), window=WINDOW)
    batcher, first = flush(batcher, at(60))
    batcher = batcher.add(alert("leads", G, Y, "fired", at(90)), now=at(90), window=WINDOW)
    batcher, second = flush(batcher, at(150))
    assert (first, second) == (["cac:fired"], ["leads:fired"])


def test_an_alert_after_the_window_closed_opens_a_new_group_even_if_not_flushed_yet() -> None:
    batcher = Batcher().add(alert("cac", G, R, "fired"), now=at(0), window=WINDOW)
    batcher = batcher.add(alert("leads", G, Y, "fired", at(70)), now=at(70), window=WINDOW)
    batcher, late_flush = flush(batcher, at(75))  # the caller was late: only cac was ready
    assert late_flush == ["cac:fired"] and batcher.next_due() == at(130)


def test_batch_lists_the_most_severe_first() -> None:
    batcher = Batcher()
    for item in (
        alert("a", Y, G, "resolved"),
        alert("b", G, Y, "fired"),
        alert("c", Y, R, "escalated"),
        alert("d", R, Y, "improved"),
    ):
        batcher = batcher.add(item, now=T0, window=WINDOW)
    _, batch = batcher.due(at(60))
    assert batch is not None and batch.critical and batch.at == at(60)
    assert [t.kpi for t in batch.items] == ["c", "b", "d", "a"]


def test_a_kpi_that_fires_and_resolves_within_the_window_sends_nothing() -> None:
    batcher = Batcher().add(alert("cac", G, R, "fired"), now=at(0), window=WINDOW)
    batcher = batcher.add(alert("cac", R, G, "resolved", at(30)), now=at(30), window=WINDOW)
    assert batcher == Batcher() and flush(batcher, at(60))[1] == []


def test_two_changes_of_one_kpi_within_the_window_merge_into_the_net_change() -> None:
    batcher = Batcher().add(alert("cac", G, Y, "fired"), now=at(0), window=WINDOW)
    batcher = batcher.add(alert("leads", G, Y, "fired", at(10)), now=at(10), window=WINDOW)
    batcher = batcher.add(alert("cac", Y, R, "escalated", at(50)), now=at(50), window=WINDOW)
    _, batch = batcher.due(at(60))  # the merged alert keeps its group's send time
    assert batch is not None
    cac = next(t for t in batch.items if t.kpi == "cac")
    assert (cac.kind, cac.old, cac.new, cac.at, cac.critical) == ("fired", G, R, at(50), True)


def test_a_reminder_for_a_kpi_already_queued_is_not_sent_twice() -> None:
    batcher = Batcher().add(alert("cac", Y, R, "escalated"), now=at(0), window=WINDOW)
    batcher = batcher.add(alert("cac", R, R, "reminder", at(5)), now=at(5), window=WINDOW)
    assert flush(batcher, at(60))[1] == ["cac:escalated"]


def test_suppressed_alerts_are_never_queued() -> None:
    batcher = Batcher()
    for reason in ("test", "muted"):
        batcher = batcher.add(
            alert("cac", G, R, "fired", suppressed=reason), now=T0, window=WINDOW
        )
    assert batcher == Batcher() and batcher.next_due() is None


def test_held_alerts_wait_for_the_quiet_window_to_end_and_go_out_together() -> None:
    morning = at(9 * 3600)
    batcher = Batcher().add(alert("a", G, Y, "fired", held_until=morning), now=T0, window=WINDOW)
    batcher = batcher.add(
        alert("b", R, G, "resolved", held_until=morning), now=at(5), window=WINDOW
    )
    batcher = batcher.add(alert("c", G, R, "fired"), now=at(10), window=WINDOW)  # critical
    batcher, night = flush(batcher, at(70))
    assert night == ["c:fired"] and batcher.next_due() == morning
    assert flush(batcher, morning)[1] == ["a:fired", "b:resolved"]


def test_a_critical_change_of_a_held_kpi_goes_out_at_once() -> None:
    morning = at(9 * 3600)
    batcher = Batcher().add(alert("a", G, Y, "fired", held_until=morning), now=T0, window=WINDOW)
    batcher = batcher.add(alert("a", Y, R, "escalated", at(600)), now=at(600), window=WINDOW)
    _, batch = batcher.due(at(660))
    assert batch is not None and [(t.kind, t.old, t.new) for t in batch.items] == [("fired", G, R)]


def test_batcher_and_batch_round_trip_through_json() -> None:
    batcher = Batcher().add(alert("a", G, Y, "fired", held_until=at(3600)), now=T0, window=WINDOW)
    batcher = batcher.add(alert("b", G, R, "fired"), now=T0, window=WINDOW)
    again = Batcher.model_validate(json.loads(json.dumps(batcher.model_dump(mode="json"))))
    assert again == batcher and again.next_due() == at(60)
    _, batch = again.due(at(3600))
    assert batch is not None
    assert Batch.model_validate_json(batch.model_dump_json()) == batch


def test_an_import_of_several_kpis_becomes_one_message_and_muted_ones_only_logged() -> None:
    """The wiring in miniature: evaluate each value, log all, queue all, flush once."""
    berlin = ZoneInfo("Europe/Berlin")
    policy = AlertPolicy(quiet=QuietHours.parse("22:00-08:00"))
    now = datetime(2026, 3, 2, 23, 0, tzinfo=berlin)
    mute = Mute.create("nps", timedelta(hours=1), by="boss", now=now)
    batcher, log = Batcher(), []
    for key, value in (("cac", 20.0), ("leads", 60.0), ("nps", 10.0), ("ctr", 95.0)):
        kpi = Kpi(key=key, name=key.upper(), objective="grow", target=100.0)
        status = R if value < 50 else Y if value < 80 else G
        reading = Measurement(kpi=key, value=value, day=now.date(), at=now, by="import")
        _, out = evaluate(
            None,
            kpi=kpi,
            measurement=reading,
            status=status,
            performance=value / 100,
            now=now,
            policy=policy,
            mutes=[mute],
            tz=berlin,
        )
        log += out
        for transition in out:
            batcher = batcher.add(transition, now=now, window=policy.group_window)
    assert [(t.kpi, t.suppressed) for t in log] == [
        ("cac", None),
        ("leads", None),
        ("nps", "muted"),
    ]
    batcher, batch = batcher.due(now + policy.group_window)
    assert batch is not None and [t.kpi for t in batch.items] == ["cac"]  # leads is yellow: held
    assert batcher.next_due() == datetime(2026, 3, 3, 8, 0, tzinfo=berlin)


def test_removing_every_value_while_an_improvement_waits_still_closes_the_heard_alert() -> None:
    batcher = Batcher().add(alert("cac", R, Y, "improved"), now=at(0), window=WINDOW)
    gone = alert("cac", R, Status.NODATA, "resolved", at(30))
    _, batch = batcher.add(gone, now=at(30), window=WINDOW).due(at(60))
    assert batch is not None and [(t.old, t.new) for t in batch.items] == [(R, Status.NODATA)]
