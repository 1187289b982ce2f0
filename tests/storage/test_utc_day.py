"""`utc_day` reads a stored UTC stamp's date straight off the text: the same day parsing gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from storage.base import instant_text, utc_day


@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.sampled_from([0, 60, -300, 330, 840, -720]),
)
def test_a_stamp_gives_the_utc_date_of_its_instant_however_it_is_written(
    when: datetime, offset: int
) -> None:
    aware = when.replace(tzinfo=timezone(timedelta(minutes=offset)))
    expected = aware.astimezone(UTC).date().isoformat()
    assert utc_day(instant_text(aware)) == expected  # as stored (`Z` once in UTC)
    assert utc_day(instant_text(aware.astimezone(UTC))) == expected
    assert utc_day(aware.isoformat()) == expected  # an offset, or `+00:00`
