"""How each platform's messages are sent when something goes wrong: one policy per platform.

The adapters classify every failure into a `DeliveryError` (see `base.py`):

- `permanent`: retrying cannot help (bot removed from the chat, chat gone);
- `retry_after`: the platform's flood limit said how long to wait;
- `maybe_delivered`: the request was written and no answer came (a read timeout, a
  dropped connection): the platform may have accepted it;
- otherwise the message was certainly not accepted (HTTP 5xx, refused connection,
  connect timeout): safe to send again.

`send_retrying` applies one `DeliveryPolicy` to a single message: transient failures
are retried a bounded number of times with backoff, a flood wait is waited out only
when it is short (a longer one is handed back, holding nobody), and a message that
may have been delivered is sent again at most once, after a longer wait. Everything
the README's "What can go wrong" table lists comes from the numbers below.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.adapters.base import DeliveryError, Sleep
from bot.logging import log_fields

_LOGGER = logging.getLogger(__name__)

MAYBE_DELIVERED = "maybe delivered"
"""Prefix of the error text of a message that may have reached the chat."""


@dataclass(frozen=True)
class DeliveryPolicy:
    """The timeouts and retry budget of one platform's sends."""

    platform: str
    connect_timeout: float  # s to open a connection (nothing was sent if it fails)
    read_timeout: float  # s a send may take to be answered before it "may be delivered"
    attempts: int  # tries per message (1 = no retry) for 5xx, timeouts, connection errors
    backoff: tuple[float, ...]  # s before try 2, 3, …
    max_flood_wait: float  # longest retry_after waited in place; longer ones are handed back
    maybe_delivered_wait: float  # s before the one resend of a message that may have arrived

    def wait_before(self, attempt: int) -> float:
        """Seconds to wait after failed try `attempt` (1-based)."""
        return self.backoff[min(attempt, len(self.backoff)) - 1] if self.backoff else 0.0


TELEGRAM = DeliveryPolicy(
    platform="telegram",
    connect_timeout=5.0,
    # Telegram answers a send within a second or two; 8 s accepts happen under load.
    read_timeout=20.0,
    attempts=4,
    backoff=(1.0, 2.0, 4.0),
    max_flood_wait=60.0,
    maybe_delivered_wait=30.0,
)

SLACK = DeliveryPolicy(
    platform="slack",
    connect_timeout=20.0,  # slack_sdk has one total timeout per call: the read timeout
    read_timeout=20.0,
    attempts=4,
    backoff=(1.0, 2.0, 4.0),
    max_flood_wait=60.0,
    maybe_delivered_wait=30.0,
)

POLICIES = {p.platform: p for p in (TELEGRAM, SLACK)}


async def send_retrying(
    send: Callable[[], Awaitable[None]],
    policy: DeliveryPolicy,
    sleep: Sleep,
    *,
    chat: str,
    attempts: int | None = None,
) -> None:
    """Send one message under `policy`; raise the last DeliveryError when it gives up.

    `attempts` overrides the policy's retry budget for 5xx/connection errors (the outbox
    passes 1: it retries durably itself). A "maybe delivered" message is resent at most
    once whatever the budget, and a second doubt is final (`permanent=True`).
    """
    budget = policy.attempts if attempts is None else attempts
    attempt = floods = 0
    doubted = False
    while True:
        attempt += 1
        try:
            await send()
            return
        except DeliveryError as exc:
            if exc.permanent:
                raise
            if exc.maybe_delivered:
                if doubted:
                    raise DeliveryError(
                        f"{MAYBE_DELIVERED} ({exc}); not sent a third time",
                        permanent=True,
                        maybe_delivered=True,
                    ) from None
                doubted = True
                wait = policy.maybe_delivered_wait
            elif exc.retry_after is not None:
                floods += 1
                if exc.retry_after > policy.max_flood_wait or floods >= policy.attempts:
                    raise
                # The adapter's Pacer already holds the chat until the wait is over (for
                # every sender to it), so the retry just goes back through it.
                wait = 0.0
                attempt -= 1  # a flood wait is not a failed try
            elif doubted:
                # The one resend failed cleanly; the first try may still have arrived.
                raise DeliveryError(
                    f"{MAYBE_DELIVERED} (then {exc}); not sent again",
                    permanent=True,
                    maybe_delivered=True,
                ) from None
            elif attempt >= budget:
                raise
            else:
                wait = policy.wait_before(attempt)
            _LOGGER.info(
                "send failed (%s); trying again in %.0f s",
                exc,
                wait or exc.retry_after or 0.0,
                extra=log_fields(policy.platform, chat),
            )
            if wait:
                await sleep(wait)


def describe(policies: dict[str, DeliveryPolicy] = POLICIES) -> list[str]:
    """The README table rows (a test keeps the README in step with the numbers)."""
    rows = ["| | " + " | ".join(p.platform for p in policies.values()) + " |"]
    rows.append("|---|" + "---|" * len(policies))

    def row(label: str, values: list[str]) -> str:
        return f"| {label} | " + " | ".join(values) + " |"

    items = list(policies.values())
    rows.append(row("connect timeout", [f"{p.connect_timeout:g} s" for p in items]))
    rows.append(row("read timeout of a send", [f"{p.read_timeout:g} s" for p in items]))
    rows.append(
        row(
            "tries on 5xx / connection error (replies)",
            [
                f"{p.attempts}, after " + ", ".join(f"{b:g}" for b in p.backoff) + " s"
                for p in items
            ],
        )
    )
    rows.append(
        row("flood wait waited in place up to", [f"{p.max_flood_wait:g} s" for p in items])
    )
    rows.append(
        row(
            "resend of a maybe-delivered message",
            [f"once, after {p.maybe_delivered_wait:g} s" for p in items],
        )
    )
    return rows
