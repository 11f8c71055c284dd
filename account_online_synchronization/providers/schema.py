"""Normalized data returned by every provider."""
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .errors import MalformedResponse
from .parsing import check_amount, check_text

POSTED = "posted"
PENDING = "pending"
#: Longest identifier accepted from an aggregator (the longest documented ones have 100 characters).
MAX_ID_LENGTH = 255
#: Longest name, number or counterparty accepted.
MAX_NAME_LENGTH = 512
#: Longest transaction label (remittance information) accepted.
MAX_LABEL_LENGTH = 4096


def _checked(what, check, *args):
    """Run ``check``; name ``what`` in the error it raises."""
    try:
        return check(*args)
    except MalformedResponse as error:
        raise MalformedResponse(f"{what}: {error.message}") from None


@dataclass(frozen=True)
class Institution:
    """A bank reachable through a provider."""

    id: str
    name: str
    country: str
    logo_url: str = ""
    beta: bool = False
    #: How far back the bank gives transactions, in days (None: no limit known).
    max_history_days: int | None = None
    #: False when the bank refuses refreshes without the user present.
    unattended_refresh: bool = True
    #: The kinds of accounts the aggregator offers at this bank ("business", "personal"), when it tells.
    account_types: tuple = ()
    #: The bank's identifier code (BIC), when the aggregator tells.
    bic: str = ""


@dataclass(frozen=True)
class ConnectionStart:
    """Where to send the user to give consent.

    ``redirect_url`` is None when the provider needs no user step: the
    connection is then completed at once with ``complete_connection``.
    Otherwise the user is sent there, and the aggregator sends them back to
    the ``redirect_url`` given to ``start_connection`` with ``state`` and its
    own parameters (code, connection id...).
    """

    redirect_url: str | None = None
    #: A token opening the aggregator's widget in the web client instead of a redirection.
    widget_token: str | None = None
    #: The widget's script, when ``widget_token`` is given.
    widget_url: str | None = None
    #: Secret values needed to complete the consent (PKCE verifier, link token, ...);
    #: kept server-side and merged into ``tokens`` for ``complete_connection``.
    pending: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Account:
    """A bank account under a connection."""

    id: str
    name: str
    currency: str
    number: str = ""
    #: The booked balance (closing or interim booked), the one compared with the journal.
    balance: Decimal | None = None
    holder_name: str = ""
    #: The day whose end ``balance`` is the booked balance of (None: today, every posted transaction included).
    balance_date: date | None = None
    #: The available balance, for information only (it counts pending transactions and credit lines).
    available_balance: Decimal | None = None
    #: The BIC of the bank holding the account, when the aggregator tells.
    bic: str = ""
    #: True when ``number`` is only part of the account number (e.g. its last digits), never a full one.
    number_masked: bool = False

    def __post_init__(self):
        """Refuse values of the wrong type or size: they are never truncated or rounded."""
        what = f"Account {self.id[:40]!r}" if isinstance(self.id, str) else "An account"
        _checked(what, check_text, self.id, "account id", MAX_ID_LENGTH)
        _checked(what, check_text, self.currency, "currency", 3)
        for name in ("name", "number", "holder_name", "bic"):
            _checked(what, check_text, getattr(self, name), name.replace("_", " "), MAX_NAME_LENGTH)
        if self.balance is not None:
            _checked(what, check_amount, self.balance, "balance")


@dataclass(frozen=True, slots=True)
class Transaction:
    """A bank transaction; ``amount`` is positive when money comes in.

    A large import holds every transaction of its period: each one is kept
    compact, without a ``__dict__``, and its raw payload as JSON text.
    """

    id: str
    booking_date: date
    amount: Decimal
    currency: str
    status: str = POSTED
    value_date: date | None = None
    label: str = ""
    counterparty_name: str = ""
    counterparty_account: str = ""
    foreign_amount: Decimal | None = None
    foreign_currency: str = ""
    #: The booked balance right after this transaction, when the bank gives it.
    balance_after: Decimal | None = None
    #: The aggregator's own record of the transaction: given as a dict, kept as compact JSON text
    #: (decimals and dates as their text); ``payload`` reads it back.
    raw: dict | str = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        """Refuse values of the wrong type or size: they are never truncated or rounded."""
        what = f"Transaction {self.id[:40]!r}" if isinstance(self.id, str) else "A transaction"
        _checked(what, check_text, self.id, "transaction id", MAX_ID_LENGTH)
        _checked(what, check_amount, self.amount, "amount")
        if self.foreign_amount is not None:
            _checked(what, check_amount, self.foreign_amount, "foreign amount")
        for name, limit in (("currency", 3), ("foreign_currency", 3), ("label", MAX_LABEL_LENGTH),
                            ("counterparty_name", MAX_NAME_LENGTH), ("counterparty_account", MAX_NAME_LENGTH)):
            _checked(what, check_text, getattr(self, name), name.replace("_", " "), limit)
        for name in ("booking_date", "value_date"):
            value = getattr(self, name)
            if not isinstance(value, date) and (value is not None or name == "booking_date"):
                raise MalformedResponse(f"{what}: the aggregator sent no valid {name.replace('_', ' ')}.")
        if self.status not in (POSTED, PENDING):
            raise MalformedResponse(f"{what}: unknown status {str(self.status)[:20]!r}.")
        if not isinstance(self.raw, str):
            object.__setattr__(self, "raw", json.dumps(
                self.raw, default=str, ensure_ascii=False, separators=(",", ":")))

    @property
    def is_posted(self):
        return self.status == POSTED

    @property
    def payload(self):
        """The aggregator's record as a dict, as stored in a JSON field."""
        return json.loads(self.raw)


@dataclass(frozen=True)
class TransactionPage:
    """One page of transactions; ``next_cursor`` is None on the last page."""

    transactions: list
    next_cursor: str | None = None
    #: Last page of a listing that is read by changes: where the account's next run starts
    #: (kept with the lines it covers, and passed back as the first ``cursor``).
    resume_cursor: str | None = None
    #: Ids of transactions listed before that the bank changed (their new version is in ``transactions``).
    modified_ids: tuple = ()
    #: Ids of transactions listed before that the bank withdrew.
    removed_ids: tuple = ()
    #: The first day the bank gives history for, when it is later than the date asked for.
    history_start: date | None = None
