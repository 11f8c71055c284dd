"""The built-in sandbox bank: deterministic, offline, credential-free.

Every account's history is generated from a seed made of the account id and
the day, so the same question always gets the same answer. Transactions of the
last two days are partly pending (today always has one); they come back
posted, with the same id, once the bank's clock has moved on.
``config['scenario']`` switches the bank into a failure mode to show how the
synchronization reacts.

The bank keeps its books: an account opens with ``OPENING_BALANCE`` when its
history starts, its booked balance is that plus every posted transaction, and
each posted transaction carries the balance right after it. In the ``gap``
scenario the bank books its first pending transaction but forgets to send it,
though its balances count it, as a real bank sometimes does. In the
``consent_ending`` scenario the consent ends in ten days; in the ``quota``
scenario each account allows four unattended refreshes a day (UTC) and every
answer tells how many are left and when they reset, as PSD2 banks and their
aggregators' rate-limit headers do. In the ``late`` scenario it withholds the
posted transactions of LATE_DAYS from its listings (back to ``normal``, it
lists them: too late for a run that reads the last days only). In the
``twins`` scenario it books two card payments of the same amount, day and shop
three days ago: a true pair, not a duplicate.
"""
import dataclasses
import hashlib
import random
import secrets
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from .base import Provider
from .errors import InstitutionUnavailable, InvalidConfiguration, MFARequired, RateLimited, ReauthRequired
from .schema import PENDING, POSTED, Account, ConnectionStart, Institution, Transaction, TransactionPage

CENT = Decimal("0.01")
PAGE_SIZE = 500
#: Days before today whose transactions may still be pending.
PENDING_DAYS = 2
OPENING_BALANCE = Decimal("2500.00")
#: Days a consent lasts, as under PSD2.
CONSENT_DAYS = 180

#: Days left on the consent in the ``consent_ending`` scenario.
CONSENT_ENDING_DAYS = 10
#: Unattended refreshes an account allows a day in the ``quota`` scenario, as PSD2 banks do.
UNATTENDED_PER_DAY = 4

SCENARIOS = ("normal", "mfa", "consent_expired", "rate_limited", "down", "gap", "consent_ending", "quota", "late",
             "twins")
#: Days before today whose posted transactions the ``late`` scenario withholds from its listings.
LATE_DAYS = range(8, 14)
#: Days before today of the ``twins`` scenario's pair of card payments.
TWINS_DAYS_AGO = 3

#: The demo bank's identifier code (fictitious).
SANDBOX_BIC = "SBOXBEB1"

INSTITUTIONS = (
    Institution("sandbox_bank", "Sandbox Bank", "BE", bic=SANDBOX_BIC),
    Institution("sandbox_manual", "Sandbox Bank (manual refresh only)", "BE", unattended_refresh=False),
    Institution("sandbox_short", "Sandbox Bank (3 months of history)", "FR", max_history_days=90),
    Institution("sandbox_neobank", "Sandbox Neobank", "DE", beta=True),
)

#: (name, bank country, label, sign, low, high, foreign currency or "")
COUNTERPARTIES = (
    ("Acme Supplies SA", "BE", "Invoice {ref} Acme Supplies", -1, 80, 2400, ""),
    ("Brightline Consulting BV", "NL", "Payment invoice {ref}", 1, 300, 2200, ""),
    ("Northwind Traders Ltd", "GB", "Card payment Northwind London", -1, 10, 450, "GBP"),
    ("Contoso Energy", "FR", "Direct debit electricity {ref}", -1, 60, 380, ""),
    ("Fabrikam GmbH", "DE", "SEPA credit transfer order {ref}", 1, 120, 1900, ""),
    ("City Parking", "BE", "Card payment City Parking", -1, 3, 40, ""),
    ("Globex Corporation", "US", "Wire transfer Globex contract {ref}", 1, 500, 2600, "USD"),
    ("Sandbox Bank", "BE", "Monthly account fees", -1, 4, 15, ""),
    ("Initech Office Rent", "BE", "Rent office {ref}", -1, 900, 1800, ""),
    ("Umbrella Travel", "ES", "Card payment Umbrella Travel Madrid", -1, 40, 900, ""),
)
#: Units of the foreign currency for one unit of the account currency, as the bank applied it.
FOREIGN_RATES = {"GBP": Decimal("0.8512"), "USD": Decimal("1.0843"), "EUR": Decimal("0.9222")}

ACCOUNTS = (
    # (suffix, name, currency, opened days after the connection)
    ("cur", "Current Account", "EUR", 0),
    ("sav", "Savings Account", "EUR", 0),
    ("usd", "Business Account USD", "USD", 0),
    ("card", "Visa Business Card", "EUR", 1),
)


def iban(country, seed):
    """Return a valid IBAN (ISO 13616 checksum) built from ``seed``."""
    digits = str(int(hashlib.sha256(seed.encode()).hexdigest(), 16))[:12].rjust(12, "0")
    letters = "".join(str(ord(c) - 55) for c in country)
    check = 98 - int(digits + letters + "00") % 97
    return f"{country}{check:02d}{digits}"


class SandboxProvider(Provider):
    """A demo bank with several accounts and currencies and failure switches."""

    code = "sandbox"
    name = "Sandbox"

    #: Unattended refreshes served per ``(account id, UTC day)`` in the ``quota`` scenario: the bank's own count.
    _unattended_refreshes = {}

    def __init__(self, config=None):
        super().__init__(config)
        self.scenario = self.config.get("scenario") or "normal"
        if self.scenario not in SCENARIOS:
            raise InvalidConfiguration(f"Unknown sandbox scenario {self.scenario!r}", credentials_rejected=False)
        #: ``(account id, day) -> total of the day's posted transactions``, for this instance's answers.
        self._day_totals = {}

    # institutions and consent -------------------------------------------------

    def search_institutions(self, country=None, text=None):
        text = (text or "").lower()
        return [
            inst for inst in INSTITUTIONS
            if (not country or inst.country == country.upper()) and text in inst.name.lower()
        ]

    def _institution(self, institution_id):
        for inst in INSTITUTIONS:
            if inst.id == institution_id:
                return inst
        raise InvalidConfiguration(f"Unknown sandbox institution {institution_id!r}")

    def start_connection(self, institution_id, mode="new", tokens=None, redirect_url=None, state=None):
        self._institution(institution_id)
        return ConnectionStart()

    def complete_connection(self, institution_id, params, tokens=None):
        self._institution(institution_id)
        today = date.today().isoformat()
        if tokens:
            # Updating credentials or renewing consent keeps the same accounts.
            return dict(tokens, access_token=secrets.token_hex(16), consent_granted_on=today)
        return {
            "connection_id": f"{institution_id}-{secrets.token_hex(6)}",
            "institution_id": institution_id,
            "opened_on": today,
            "consent_granted_on": today,
            "daily_volume": int(params.get("daily_volume") or 3),
            "access_token": secrets.token_hex(16),
        }

    def consent_expiry(self, tokens):
        granted = (tokens or {}).get("consent_granted_on")
        if not granted:
            return None
        return datetime.combine(date.fromisoformat(granted) + timedelta(days=CONSENT_DAYS), time.min)

    def refresh_tokens(self, tokens):
        """In the ``consent_ending`` scenario, the consent was given long ago: it ends in ten days."""
        if self.scenario != "consent_ending" or not tokens:
            return tokens
        granted = date.today() - timedelta(days=CONSENT_DAYS - CONSENT_ENDING_DAYS)
        if date.fromisoformat(tokens.get("consent_granted_on") or date.today().isoformat()) <= granted:
            return tokens
        return dict(tokens, consent_granted_on=granted.isoformat())

    # data -----------------------------------------------------------------

    def list_accounts(self, tokens, balances=True):
        self._check_scenario(tokens, unattended=False)
        connection_id = self._connection_id(tokens)
        opened_on = date.fromisoformat(tokens.get("opened_on") or date.today().isoformat())
        accounts = []
        today = date.today()
        for suffix, name, currency, opened_after in ACCOUNTS:
            if today < opened_on + timedelta(days=opened_after):
                continue
            account_id = f"{connection_id}-{suffix}"
            booked = self._booked_before(tokens, account_id, currency, today + timedelta(days=1))
            pending = sum(t.amount for day in (today - timedelta(days=1), today)
                          for t in self._booked_day(tokens, account_id, currency, day) if not t.is_posted)
            accounts.append(Account(
                id=account_id,
                name=name,
                currency=currency,
                number=iban("BE", account_id),
                balance=booked,
                holder_name="Sandbox Customer",
                bic=SANDBOX_BIC,
                balance_date=today,
                available_balance=booked + pending,
            ))
        return accounts

    def list_transactions(self, tokens, account_id, date_from, cursor=None, unattended=False):
        self._check_scenario(tokens, unattended=unattended)
        connection_id = self._connection_id(tokens)
        if self.scenario == "quota" and not cursor:
            self._count_refresh(account_id, unattended)
        if not account_id.startswith(connection_id + "-"):
            raise InvalidConfiguration(f"Account {account_id!r} is not part of this connection")
        currency = next(c for s, _n, c, _o in ACCOUNTS if account_id.endswith("-" + s))
        day, index = (date_from, 0)
        if cursor:
            day_text, index_text = cursor.split(":")
            day, index = date.fromisoformat(day_text), int(index_text)
        today = date.today()
        forgotten = self._forgotten_id(tokens, account_id, currency) if self.scenario == "gap" else None
        page = []
        while day <= today:
            day_transactions = self._with_balances(tokens, account_id, currency, day)
            while index < len(day_transactions):
                if len(page) == PAGE_SIZE:
                    return TransactionPage(page, f"{day.isoformat()}:{index}")
                if day_transactions[index].id != forgotten and not self._withheld(day_transactions[index]):
                    page.append(day_transactions[index])
                index += 1
            day, index = day + timedelta(days=1), 0
        return TransactionPage(page, None)

    # internals ------------------------------------------------------------

    def _withheld(self, transaction):
        """True when the ``late`` scenario keeps ``transaction`` out of the listings for now."""
        return (self.scenario == "late" and transaction.is_posted
                and (date.today() - transaction.booking_date).days in LATE_DAYS)

    def _check_scenario(self, tokens, unattended):
        request_id = f"sbx-{secrets.token_hex(6)}"
        expiry = self.consent_expiry(tokens)
        if expiry and datetime.combine(date.today(), time.min) >= expiry:
            raise ReauthRequired(f"Your consent at Sandbox Bank expired on {expiry.date()}.", request_id=request_id)
        if self.scenario == "down":
            raise InstitutionUnavailable("Sandbox Bank is temporarily unavailable.", request_id=request_id)
        if self.scenario == "rate_limited":
            raise RateLimited("Sandbox Bank allows one refresh per day.", retry_after=86400, request_id=request_id)
        if self.scenario == "consent_expired":
            raise ReauthRequired("Your consent at Sandbox Bank has expired.", request_id=request_id)
        if self.scenario == "mfa" and unattended:
            raise MFARequired("Sandbox Bank asks for a one-time security code.", request_id=request_id)

    def _count_refresh(self, account_id, unattended):
        """Count an unattended refresh against the account's daily quota, refused once it is used up.

        Refreshes with the user present are not counted. Either way the
        answer tells the refreshes left and when the quota resets.
        """
        now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
        reset_at = datetime.combine(now.date() + timedelta(days=1), time.min)
        key = (account_id, now.date())
        for past in [past for past in self._unattended_refreshes if past[1] < now.date()]:
            del self._unattended_refreshes[past]
        used = self._unattended_refreshes.get(key, 0)
        if unattended:
            if used >= UNATTENDED_PER_DAY:
                raise RateLimited(
                    f"Sandbox Bank allows {UNATTENDED_PER_DAY} automatic refreshes a day; the next one is possible "
                    f"at {reset_at:%Y-%m-%d %H:%M} UTC.",
                    retry_after=int((reset_at - now).total_seconds()), request_id=f"sbx-{secrets.token_hex(6)}",
                )
            used += 1
            self._unattended_refreshes[key] = used
        self.note_quota(remaining=UNATTENDED_PER_DAY - used, reset_at=reset_at)

    @staticmethod
    def _connection_id(tokens):
        return Provider.required_token(tokens, "connection_id", "This connection has no consent at Sandbox Bank.")

    def _booked_before(self, tokens, account_id, currency, day):
        """The booked balance at the start of ``day``: opening balance plus every earlier posted transaction."""
        total, current = OPENING_BALANCE, self._history_start(tokens)
        while current < day:
            key = (account_id, current)
            if key not in self._day_totals:
                self._day_totals[key] = sum(
                    t.amount for t in self._booked_day(tokens, account_id, currency, current) if t.is_posted)
            total += self._day_totals[key]
            current += timedelta(days=1)
        return total

    def _with_balances(self, tokens, account_id, currency, day):
        """The transactions of ``day``, the posted ones with the booked balance right after them."""
        balance = self._booked_before(tokens, account_id, currency, day)
        transactions = []
        for transaction in self._booked_day(tokens, account_id, currency, day):
            if transaction.is_posted:
                balance += transaction.amount
                transaction = dataclasses.replace(transaction, balance_after=balance)
            transactions.append(transaction)
        return transactions

    def _booked_day(self, tokens, account_id, currency, day):
        """The day's transactions as the bank books them: in the ``gap`` scenario, its first pending one is booked."""
        transactions = self._day_transactions(tokens, account_id, currency, day)
        if self.scenario != "gap" or day < date.today() - timedelta(days=PENDING_DAYS - 1):
            return transactions
        forgotten = self._forgotten_id(tokens, account_id, currency)
        return [dataclasses.replace(t, status=POSTED) if t.id == forgotten else t for t in transactions]

    def _forgotten_id(self, tokens, account_id, currency):
        """The transaction the bank books but forgets to send in the ``gap`` scenario: its first pending one."""
        days = [date.today() - timedelta(days=n) for n in range(PENDING_DAYS - 1, -1, -1)]
        return next((t.id for day in days for t in self._day_transactions(tokens, account_id, currency, day)
                     if not t.is_posted), None)

    @staticmethod
    def _history_start(tokens):
        """The first day of the accounts' history: a year before the first of January of the year the connection
        was opened, fixed for the connection so that its balances do not move when a new year starts."""
        opened_on = date.fromisoformat(tokens.get("opened_on") or date.today().isoformat())
        return opened_on.replace(month=1, day=1) - timedelta(days=365)

    def _day_transactions(self, tokens, account_id, currency, day):
        if day < self._history_start(tokens):
            return []
        rng = random.Random(f"{account_id}:{day.isoformat()}")
        volume = int(tokens.get("daily_volume") or 3)
        # ``pending_days`` lets a demo show a bank that books some transactions weeks late.
        pending_from = date.today() - timedelta(days=int(tokens.get("pending_days") or PENDING_DAYS) - 1)
        transactions = []
        count = rng.randint(0, 2 * volume)
        if day == date.today():
            count = max(count, 1)  # a pending transaction is always there to show
        for index in range(count):
            name, country, label, sign, low, high, foreign = rng.choice(COUNTERPARTIES)
            amount = (Decimal(rng.randint(low * 100, high * 100)) * CENT) * sign
            reference = f"{day:%Y%m}-{rng.randint(1, 9999):04d}"
            foreign_amount = None
            if foreign and foreign != currency:
                foreign_amount = (amount * FOREIGN_RATES[foreign]).quantize(CENT)
            else:
                foreign = ""
            transaction_id = f"{account_id}-{day:%Y%m%d}-{index}"
            counterparty_iban = iban(country, name) if country != "US" else ""
            label_text = label.format(ref=reference)
            transactions.append(Transaction(
                id=transaction_id,
                booking_date=day,
                value_date=day + timedelta(days=rng.choice((0, 0, 1))),
                amount=amount,
                currency=currency,
                status=PENDING if day >= pending_from and index % 2 == 0 else POSTED,
                label=label_text,
                counterparty_name=name,
                counterparty_account=counterparty_iban,
                foreign_amount=foreign_amount,
                foreign_currency=foreign,
                raw={
                    "transactionId": transaction_id,
                    "bookingDate": day.isoformat(),
                    "amount": str(amount),
                    "currency": currency,
                    "remittanceInformation": label_text,
                    "counterparty": {"name": name, "iban": counterparty_iban},
                },
            ))
        if self.scenario == "twins" and day == date.today() - timedelta(days=TWINS_DAYS_AGO):
            transactions += self._twins(account_id, currency, day)
        return transactions

    @staticmethod
    def _twins(account_id, currency, day):
        """Two card payments of the same amount, day and shop, with their own ids."""
        name, country, label = "City Parking", "BE", "Card payment City Parking"
        return [Transaction(
            id=f"{account_id}-{day:%Y%m%d}-twin{number}", booking_date=day, value_date=day,
            amount=Decimal("-12.50"), currency=currency, label=label, counterparty_name=name,
            counterparty_account=iban(country, name),
            raw={"transactionId": f"{account_id}-{day:%Y%m%d}-twin{number}", "bookingDate": day.isoformat(),
                 "amount": "-12.50", "currency": currency, "remittanceInformation": label},
        ) for number in (1, 2)]
