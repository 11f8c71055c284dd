"""Strict parsing of aggregator values: a bad value raises ``MalformedResponse``."""
from contextlib import contextmanager
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation

from .errors import MalformedResponse


def parse_amount(value, what="amount"):
    """A ``Decimal`` from a JSON number or a decimal string."""
    if isinstance(value, bool) or value is None:
        raise MalformedResponse(f"The aggregator sent no valid {what}.")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise MalformedResponse(f"The aggregator sent an invalid {what}: {str(value)[:40]!r}.") from None
    if not amount.is_finite():
        raise MalformedResponse(f"The aggregator sent an invalid {what}: {str(value)[:40]!r}.")
    return amount


def parse_date(value, what="date"):
    """A ``date`` from ``YYYY-MM-DD`` or an ISO-8601 datetime (its calendar date as sent)."""
    if not isinstance(value, str) or len(value) < 10:
        raise MalformedResponse(f"The aggregator sent no valid {what}.")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise MalformedResponse(f"The aggregator sent an invalid {what}: {value[:40]!r}.") from None


def parse_datetime(value, what="date and time"):
    """A naive UTC ``datetime`` from an ISO-8601 string (``Z`` or an offset accepted)."""
    if not isinstance(value, str):
        raise MalformedResponse(f"The aggregator sent no valid {what}.")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedResponse(f"The aggregator sent an invalid {what}: {value[:40]!r}.") from None
    if moment.tzinfo:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def parse_currency(value):
    """An ISO 4217 code (three letters, upper case)."""
    if not isinstance(value, str) or len(value.strip()) != 3 or not value.strip().isalpha():
        raise MalformedResponse(f"The aggregator sent an invalid currency: {str(value)[:40]!r}.")
    return value.strip().upper()


@contextmanager
def with_request_id(request_id):
    """Give the ``MalformedResponse`` errors raised inside the block the answer's request id."""
    try:
        yield
    except MalformedResponse as error:
        error.request_id = error.request_id or request_id
        raise
