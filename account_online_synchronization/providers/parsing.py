"""Strict parsing of aggregator values: a bad value raises ``MalformedResponse``."""
import re
from contextlib import contextmanager
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation

from .errors import MalformedResponse

#: A decimal number as JSON or a bank writes it: no digit separators, no "NaN" or "Infinity".
DECIMAL_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
#: Significant digits a float (and so an Odoo monetary field) keeps exactly.
MAX_AMOUNT_DIGITS = 15
#: A bank identifier code (ISO 9362): bank, country, location, optional branch.
BIC_TEXT = re.compile(r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")
#: Bank data older than this is not a real date (and year 1 breaks time zone arithmetic).
MIN_YEAR = 1900


def check_amount(amount, what="amount"):
    """Refuse a ``Decimal`` that is not finite or that a float would round."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise MalformedResponse(f"The aggregator sent an invalid {what}: {str(amount)[:40]!r}.")
    if len(amount.normalize().as_tuple().digits) > MAX_AMOUNT_DIGITS:
        raise MalformedResponse(
            f"The aggregator sent the {what} {str(amount)[:40]}, with more than {MAX_AMOUNT_DIGITS} significant "
            "digits: it cannot be recorded exactly, and is not rounded.")
    return amount


def check_text(value, what, max_length):
    """Refuse a value that is not text, or longer than ``max_length`` (it is never truncated)."""
    if not isinstance(value, str):
        raise MalformedResponse(f"The aggregator sent a {type(value).__name__} as {what} where text is expected.")
    if len(value) > max_length:
        raise MalformedResponse(
            f"The aggregator sent a {what} of {len(value)} characters, more than the {max_length} accepted.")
    return value


def _check_year(moment, value, what):
    if moment.year < MIN_YEAR:
        raise MalformedResponse(f"The aggregator sent an implausible {what}: {value[:40]!r}.")
    return moment


def parse_amount(value, what="amount"):
    """A ``Decimal`` from a JSON number or a decimal string."""
    if isinstance(value, bool) or value is None:
        raise MalformedResponse(f"The aggregator sent no valid {what}.")
    text = str(value).strip()
    if not isinstance(value, (str, int, float, Decimal)) or not DECIMAL_TEXT.match(text):
        raise MalformedResponse(f"The aggregator sent an invalid {what}: {text[:40]!r}.")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise MalformedResponse(f"The aggregator sent an invalid {what}: {text[:40]!r}.") from None
    return check_amount(amount, what)


def parse_date(value, what="date"):
    """A ``date`` from ``YYYY-MM-DD`` or an ISO-8601 datetime (its calendar date as sent)."""
    if not isinstance(value, str) or len(value) < 10:
        raise MalformedResponse(f"The aggregator sent no valid {what}.")
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        raise MalformedResponse(f"The aggregator sent an invalid {what}: {value[:40]!r}.") from None
    return _check_year(day, value, what)


def parse_datetime(value, what="date and time"):
    """A naive UTC ``datetime`` from an ISO-8601 string (``Z`` or an offset accepted)."""
    if not isinstance(value, str):
        raise MalformedResponse(f"The aggregator sent no valid {what}.")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        _check_year(moment, value, what)
        if moment.tzinfo:
            moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise MalformedResponse(f"The aggregator sent an invalid {what}: {value[:40]!r}.") from None
    return moment


def parse_bic(value):
    """The BIC in ``value``, upper case; "" when the aggregator gave none or one that is not a BIC."""
    bic = value.replace(" ", "").upper() if isinstance(value, str) else ""
    return bic if BIC_TEXT.match(bic) else ""


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
