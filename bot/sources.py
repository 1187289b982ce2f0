"""The HTTP client of scheduled pulls (/source): one GET with a timeout and a size cap."""

from __future__ import annotations

import aiohttp

from handlers.contract import FetchError

MAX_BYTES = 20 * 1024 * 1024
TIMEOUT = 60.0


async def http_fetch(url: str) -> bytes:
    """The body of `url`; FetchError with a short reason (never the URL's query, which may
    carry a key) when it can't be had."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session,
            session.get(url, allow_redirects=True) as response,
        ):
            if response.status != 200:
                raise FetchError(f"HTTP {response.status}")
            data = await response.content.read(MAX_BYTES + 1)
    except aiohttp.InvalidURL:
        raise FetchError("not a valid URL") from None
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise FetchError(type(exc).__name__) from None
    if len(data) > MAX_BYTES:
        raise FetchError(f"the file is larger than {MAX_BYTES // 2**20} MB")
    return data
