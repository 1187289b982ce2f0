"""The values `/alerts set` takes, read from what people type (one friendly line each)."""

from __future__ import annotations

import re
from datetime import timedelta

from handlers.contract import UsageError
from handlers.dates import take_duration
from handlers.parsing import clip, meant_word
from scoring.alert_policy import MAX_WINDOW, parse_duration

POLICY_FIELDS = ("hysteresis", "confirm", "repeat", "group")


def switch(raw: str, name: str) -> bool:
    """on/off (yes/no, true/false) for a setting."""
    word = raw.strip().casefold()
    if word in ("on", "yes", "true", "1"):
        return True
    if word in ("off", "no", "false", "0"):
        return False
    raise UsageError(f"{name} is on or off: {name}=off, not '{clip(raw)}'.")


_HYSTERESIS = "hysteresis takes a percent from 0% to 50%: hysteresis=15%"
#: A red KPI is reminded at the latest every MAX_WINDOW: alerts are never silently lost.
_NO_REPEAT_OFF = (
    "Reminders of a KPI that stays red cannot be switched off, only spaced out: repeat=90d is "
    "the longest. To silence alerts use /alerts mute <kpi|all> <duration> or /alerts off."
)
_WINDOW_EXAMPLE = {"group": "group=60s (group=0 sends at once)", "repeat": "repeat=1d"}


def policy_value(name: str, raw: str) -> object:
    """A rule setting's value: confirm (readings), hysteresis (a share), repeat/group (time)."""
    if name == "confirm":
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 100:
            raise UsageError(
                f"confirm counts readings in a row, from 1 to 100: confirm=2, not '{clip(raw)}'."
            )
        return int(raw)
    if name == "hysteresis":
        text = raw.strip().rstrip("%").replace(",", ".")
        if not re.fullmatch(r"\d{1,3}(?:\.\d{1,6})?", text):
            raise UsageError(_HYSTERESIS)
        number = float(text)
        share = number / 100 if raw.strip().endswith("%") or number > 0.5 else number
        if share > 0.5:
            raise UsageError(_HYSTERESIS)
        return share
    if name == "repeat" and raw.strip().casefold() in ("0", "off", "never", "none", "no"):
        raise UsageError(_NO_REPEAT_OFF)
    if raw.strip() in ("0", "off"):
        return timedelta(0)
    value = duration_value(raw)
    if not timedelta(minutes=1) <= value <= MAX_WINDOW:
        raise UsageError(f"{name} lasts from 1 minute to 90 days, e.g. {_WINDOW_EXAMPLE[name]}")
    return value


def duration_value(raw: str) -> timedelta:
    """`90s` as well as the mute durations (`30m`, `2h`, `1d`, `1,5h`: a decimal mark is
    read as a mute reads it, and `1,5m` is `90s`)."""
    text = raw.strip().casefold()
    short, rest = take_duration([text], seconds=True)  # `1,5m` is `90s`
    read = text if rest else short
    if read.endswith("s") and read[:-1].isascii() and read[:-1].isdigit() and len(read) < 12:
        return timedelta(seconds=int(read[:-1]))
    return parse_duration(read)


OPTIONS = ("here", "off", "mute", "unmute", "quiet", "log", "set")
#: Words people try for an /alerts option, and the option that does it.
_MEANT = {
    **dict.fromkeys(
        ("on", "enable", "start", "yes", "send", "this"), "here (send alerts to this chat)"
    ),
    **dict.fromkeys(("disable", "stop", "no", "none"), "off (stop sending them here)"),
    **dict.fromkeys(("silence", "snooze", "pause"), "mute"),
    **dict.fromkeys(("history", "logs", "recent"), "log"),
    **dict.fromkeys(("settings", "rules", "config", "tune"), "set"),
}


def unknown_option(raw: str, help_line: str) -> UsageError:
    """The refusal of `/alerts <raw>`: the option meant (`on` → `here`, `mutee` → `mute`)
    when one is clear, and the list of options."""
    word = raw.casefold()
    meant = meant_word(word, OPTIONS, _MEANT)
    hint = f" Did you mean /alerts {meant}?" if meant else ""
    return UsageError(
        f"Unknown /alerts option '{clip(raw)}'.{hint} Options: {'|'.join(OPTIONS)}, or {help_line}"
    )
