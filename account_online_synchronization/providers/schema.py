"""Normalized data returned by every provider."""
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

POSTED = "posted"
PENDING = "pending"


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
    widget_token: str | None = None
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


@dataclass(frozen=True)
class Transaction:
    """A bank transaction; ``amount`` is positive when money comes in."""

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
    raw: dict = field(default_factory=dict, compare=False)

    @property
    def is_posted(self):
        return self.status == POSTED


@dataclass(frozen=True)
class TransactionPage:
    """One page of transactions; ``next_cursor`` is None on the last page."""

    transactions: list
    next_cursor: str | None = None
