"""The ``Retry-After`` header (RFC 9110 section 10.2.3): seconds to wait, from either of its forms.

One parser for every client that is paced by a server: the collectors' HTTP clients and the alert
dispatcher. A header a server got wrong is never an error here: it is ignored (None) and the
caller falls back to its own backoff.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["parse_retry_after"]

# delay-seconds is 1*DIGIT; a fraction is tolerated since some servers send one. ASCII only:
# str.isdigit() also accepts digits such as "²" that float() refuses.
_SECONDS = re.compile(r"[0-9]+(\.[0-9]+)?", re.ASCII)


def _http_date(value: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # "-0000" (and obsolete zone names) parse as naive: HTTP dates are always GMT
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def parse_retry_after(value: str | None, *, cap: float, now: str | datetime | None = None) -> float | None:
    """Seconds to wait, within [0, cap]; None when the header is absent or unreadable.

    ``now`` is the clock an HTTP-date is measured against: the response's own ``Date`` header
    when it has one (the server's clock, so a skewed local clock does not matter), else ours.
    """
    text = (value or "").strip()
    if not text:
        return None
    if _SECONDS.fullmatch(text):
        seconds = float(text)  # a long digit string is inf, which the cap bounds
    else:
        when = _http_date(text)
        if when is None:
            return None
        base = (_http_date(now) if isinstance(now, str) else now) or datetime.now(UTC)
        try:
            seconds = (when - base.replace(tzinfo=base.tzinfo or UTC)).total_seconds()
        except OverflowError:  # a date at the very edge of datetime's range, shifted by its zone
            return None
    return float(min(max(seconds, 0.0), cap))
