"""GoCardless Bank Account Data (formerly Nordigen): PSD2 account information in the EEA and the UK.

The application signs in with its user secrets (``POST token/new``) and gets
a 24-hour access token and a 30-day refresh token; both are kept in the
connection's tokens with their expiry times. A consent is an end user
agreement plus a requisition whose hosted ``link`` the user follows; the bank
sends the user back to our redirect URL with ``ref=<reference>``. Every new
consent (update or renewal included) is a new requisition with new account
ids, so accounts are keyed on their IBAN (or BBAN) and currency, with the
current GoCardless account id kept in the tokens.

The transactions endpoint has no pagination: one call returns the whole
window, booked and pending rows in two lists. Banks allow as few as four
successful calls a day per account and scope, so each synchronization makes
one transactions call per account and never asks for account details again
after the consent; balances are read only when the caller needs them. A
bank-quota 429 whose reset header says hours is reported at once with the
time the quota resets, never retried within seconds.
"""
import hashlib
import json
import logging
import re
import uuid
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlencode, urlsplit, urlunsplit

from .base import Provider
from .errors import (
    InstitutionUnavailable,
    InvalidConfiguration,
    MalformedResponse,
    ProviderError,
    RateLimited,
    ReauthRequired,
)
from .http import require
from .parsing import parse_amount, parse_bic, parse_currency, parse_date, parse_datetime
from .schema import PENDING, POSTED, Account, ConnectionStart, Institution, Transaction, TransactionPage

_logger = logging.getLogger(__name__)

SANDBOX_INSTITUTION = "SANDBOXFINANCE_SFIN0000"
#: Renew the access token when it ends within this delay.
ACCESS_MARGIN = timedelta(minutes=10)
#: Sign in again with the user secrets when the refresh token ends within this delay.
REFRESH_MARGIN = timedelta(days=1)
#: Largest values the end user agreement accepts.
MAX_HISTORICAL_DAYS = 730
MAX_ACCESS_DAYS = 180
DEFAULT_DAYS = 90
ACCESS_SCOPE = ["balances", "details", "transactions"]
#: Balance types from the most to the least relevant for the booked balance.
BALANCE_TYPES = ("interimBooked", "closingBooked", "expected", "interimAvailable",
                 "openingBooked", "forwardAvailable", "nonInvoiced")
#: Requisition statuses of a consent still in progress at the bank.
IN_PROGRESS = {"CR", "GC", "UA", "SA", "GA"}
#: Headers giving the seconds until the bank's and GoCardless' quotas reset (sent with or without ``HTTP_``).
RESET_HEADERS = ("X-RateLimit-Account-Success-Reset", "X-RateLimit-Reset")


class _TokenRejected(ProviderError):
    """GoCardless refused the bearer token: sign in again and repeat the call once."""


class _NotFound(ProviderError):
    """GoCardless does not know the requested object."""


class GoCardlessProvider(Provider):
    """Connector for GoCardless Bank Account Data (API v2)."""

    code = "gocardless"
    name = "GoCardless"
    # One host serves both: the sandbox is the institution SANDBOXFINANCE_SFIN0000.
    ENVIRONMENTS = {
        "sandbox": "https://bankaccountdata.gocardless.com/api/v2",
        "production": "https://bankaccountdata.gocardless.com/api/v2",
    }
    CONFIG_FIELDS = {"client_id": "Secret ID", "client_secret": "Secret Key"}
    #: Header carrying the aggregator's request id (unconfirmed name).
    REQUEST_ID_HEADER = "X-Request-Id"

    def __init__(self, config=None):
        super().__init__(config)
        self._http = None
        # Application tokens obtained during this instance's life (the caller persists
        # only what ``refresh_tokens`` and ``complete_connection`` return).
        self._auth = None

    # institutions and consent -------------------------------------------------

    def search_institutions(self, country=None, text=None):
        """Return the banks of a country (all when None) whose name, BIC or id contains ``text``."""
        params = {"country": country.upper()} if country else None
        payload = self._call("GET", "institutions/", None, params=params).payload
        if not isinstance(payload, list):
            raise MalformedResponse("GoCardless sent an invalid list of banks.")
        if (self.config.get("environment") or "sandbox") == "sandbox" and not any(
            isinstance(item, dict) and item.get("id") == SANDBOX_INSTITUTION for item in payload
        ):
            payload = [self._call("GET", f"institutions/{SANDBOX_INSTITUTION}/", None).payload] + payload
        needle = (text or "").strip().lower()
        institutions = []
        for item in payload:
            institution = self._institution(item, country)
            haystack = " ".join((institution.name, item.get("bic") or "", institution.id)).lower()
            if needle in haystack:
                institutions.append(institution)
        return institutions

    def start_connection(self, institution_id, mode="new", tokens=None, redirect_url=None, state=None):
        """Create an end user agreement and a requisition; return the requisition's hosted link.

        Updates and renewals go through a new requisition too: GoCardless has no
        way to re-authorize an existing one.
        """
        if not redirect_url:
            raise InvalidConfiguration("GoCardless needs a return address for the consent page.",
                                       credentials_rejected=False)
        tokens = tokens or {}
        institution = self._call("GET", f"institutions/{institution_id}/", tokens).payload
        agreement = self._call("POST", "agreements/enduser/", tokens, safe=False, json={
            "institution_id": institution_id,
            "max_historical_days": min(self._days(institution, "transaction_total_days"), MAX_HISTORICAL_DAYS),
            "access_valid_for_days": min(self._days(institution, "max_access_valid_for_days"), MAX_ACCESS_DAYS),
            "access_scope": ACCESS_SCOPE,
        })
        agreement_id = require(agreement.payload, "id", request_id=agreement.request_id)
        reference = str(uuid.uuid4())
        requisition = self._call("POST", "requisitions/", tokens, safe=False, json={
            "redirect": _with_query(redirect_url, "state", state) if state else redirect_url,
            "institution_id": institution_id,
            "reference": reference,
            "agreement": agreement_id,
        })
        link = require(requisition.payload, "link", request_id=requisition.request_id)
        pending = dict(
            self._auth,
            requisition_id=require(requisition.payload, "id", request_id=requisition.request_id),
            agreement_id=agreement_id,
            reference=reference,
            previous_requisition_id=tokens.get("requisition_id"),
        )
        return ConnectionStart(redirect_url=link, pending=pending)

    def complete_connection(self, institution_id, params, tokens=None):
        """Read the linked requisition and its accounts; return the connection's tokens.

        Accounts keep their ``Account.id`` across requisitions since it is built
        from the IBAN (or BBAN) and currency. The replaced requisition is deleted.
        """
        tokens = tokens or {}
        params = _split_glued_ref(params or {})
        if params.get("error"):
            raise ProviderError(f"The consent was not given at the bank ({str(params['error'])[:60]}).")
        if params.get("ref") and tokens.get("reference") and params["ref"] != tokens["reference"]:
            raise ProviderError("The bank sent back an answer for another consent request.")
        requisition_id = tokens.get("requisition_id")
        if not requisition_id:
            raise ProviderError("No GoCardless consent request is in progress for this connection.")
        answer = self._call("GET", f"requisitions/{requisition_id}/", tokens)
        requisition = answer.payload
        status = require(requisition, "status", request_id=answer.request_id)
        if status == "EX":
            raise ReauthRequired("The consent request expired before it was completed. Please start again.")
        if status == "RJ":
            raise ProviderError("The bank rejected the consent. Please start again.")
        if status in IN_PROGRESS:
            raise ProviderError("The bank has not confirmed the consent yet. Please try again in a minute.")
        if status != "LN":
            raise ProviderError(f"The consent could not be completed (status {str(status)[:10]}).")
        account_uids = require(requisition, "accounts", request_id=answer.request_id)
        if not isinstance(account_uids, list) or not account_uids:
            raise ProviderError("No account was shared during the consent at the bank.")
        accounts = {}
        for uid in account_uids:
            key, info = self._account_info(tokens, uid)
            accounts[key] = info
        agreement_id = requisition.get("agreement") or tokens.get("agreement_id")
        agreement = self._call("GET", f"agreements/enduser/{agreement_id}/", tokens).payload
        new_tokens = dict(
            self._auth,
            institution_id=requisition.get("institution_id") or institution_id,
            requisition_id=requisition_id,
            agreement_id=agreement_id,
            consent_expires_at=self._agreement_expiry(agreement).isoformat(),
            max_historical_days=int(agreement.get("max_historical_days") or DEFAULT_DAYS),
            accounts=accounts,
        )
        previous = tokens.get("previous_requisition_id")
        if previous and previous != requisition_id:
            try:
                self._delete_requisition(new_tokens, previous)
            except ProviderError:
                _logger.warning("GoCardless: the replaced consent request could not be deleted.", exc_info=True)
        return new_tokens

    def consent_expiry(self, tokens):
        """When the end user agreement ends: its acceptance plus its validity in days."""
        value = (tokens or {}).get("consent_expires_at")
        return parse_datetime(value) if value else None

    def refresh_tokens(self, tokens):
        """Renew the access token near its expiry (and sign in again when the refresh token ends)."""
        if not tokens:
            return tokens
        self._auth = None
        self._authorization(tokens)
        if all(tokens.get(key) == value for key, value in self._auth.items()):
            return tokens
        return dict(tokens, **self._auth)

    def revoke(self, tokens):
        """Delete the requisition, which also deletes its end user agreement."""
        requisition_id = (tokens or {}).get("requisition_id")
        if requisition_id:
            self._delete_requisition(tokens, requisition_id)

    # data -----------------------------------------------------------------

    def list_accounts(self, tokens, balances=True):
        """Return the shared accounts with their booked balance.

        The balance is None when not asked for or when the bank's daily quota is used up.
        """
        accounts = []
        for key, info in self._accounts(tokens).items():
            balance, balance_currency = None, ""
            try:
                if balances:
                    balance, balance_currency = self._balance(tokens, info)
            except RateLimited:
                _logger.info("GoCardless balance quota reached for one account; balance left unchanged.")
            currency = info.get("currency") or balance_currency
            if not currency:
                raise MalformedResponse("GoCardless gave no currency for an account.")
            accounts.append(Account(
                id=key,
                name=info.get("name") or info.get("iban") or key,
                currency=currency,
                number=info.get("iban") or info.get("bban") or "",
                balance=balance,
                holder_name=info.get("holder_name") or "",
                bic=info.get("bic") or "",
            ))
        return accounts

    def list_transactions(self, tokens, account_id, date_from, cursor=None, unattended=False):
        """Return the account's booked and pending transactions from ``date_from`` in one page."""
        info = self._accounts(tokens).get(account_id)
        if not info:
            raise ReauthRequired("This account is no longer shared with GoCardless. Reconnect and select it.")
        # The agreement covers ``max_historical_days`` days, today included.
        oldest = date.today() - timedelta(days=int(tokens.get("max_historical_days") or DEFAULT_DAYS) - 1)
        history_start = oldest if date_from < oldest else None
        answer = self._call("GET", f"accounts/{info['uid']}/transactions/", tokens,
                            params={"date_from": max(date_from, oldest).isoformat()})
        request_id = answer.request_id
        lists = require(answer.payload, "transactions", request_id=request_id)
        booked = require(lists, "booked", request_id=request_id)
        pending = lists.get("pending") or []
        if not isinstance(booked, list) or not isinstance(pending, list):
            raise MalformedResponse("GoCardless sent an invalid list of transactions.", request_id=request_id)
        transactions = []
        for status, rows in ((POSTED, booked), (PENDING, pending)):
            seen = {}
            for row in rows:
                try:
                    transaction = self._transaction(row, status, seen)
                except MalformedResponse as error:
                    raise MalformedResponse(error.message, request_id=request_id) from None
                if transaction.booking_date >= date_from:
                    transactions.append(transaction)
        return TransactionPage(transactions, None, history_start=history_start)

    # authentication ---------------------------------------------------------

    def _authorization(self, tokens, force=False):
        """The bearer header, signing in or refreshing the application tokens when needed."""
        auth = self._auth or {key: (tokens or {}).get(key) for key in
                              ("access", "access_expires_at", "refresh", "refresh_expires_at")}
        now = _now()
        refreshable = auth.get("refresh") and not _expired(auth.get("refresh_expires_at"), now + REFRESH_MARGIN)
        if force or not refreshable or _expired(auth.get("access_expires_at"), now + ACCESS_MARGIN):
            auth = (refreshable and self._refreshed(auth)) or self._signed_in()
            if tokens:
                self.tokens_issued(dict(tokens, **auth))
        self._auth = auth
        return {"Authorization": f"Bearer {auth['access']}"}

    def _signed_in(self):
        secret_id, secret_key = self.require_config("client_id", "client_secret")
        try:
            answer = self._client().post("token/new/", safe=True,
                                         json={"secret_id": secret_id, "secret_key": secret_key})
        except _TokenRejected as error:
            raise InvalidConfiguration("GoCardless rejected the Secret ID or Secret Key.",
                                       request_id=error.request_id) from None
        payload, request_id = answer.payload, answer.request_id
        now = _now()
        return {
            "access": require(payload, "access", request_id=request_id),
            "access_expires_at": _after(now, require(payload, "access_expires", request_id=request_id)),
            "refresh": require(payload, "refresh", request_id=request_id),
            "refresh_expires_at": _after(now, require(payload, "refresh_expires", request_id=request_id)),
        }

    def _refreshed(self, auth):
        """New access token from the refresh token, or None when GoCardless refuses it."""
        try:
            answer = self._client().post("token/refresh/", safe=True, json={"refresh": auth["refresh"]})
        except _TokenRejected:
            return None
        payload, request_id = answer.payload, answer.request_id
        now = _now()
        refreshed = dict(
            auth,
            access=require(payload, "access", request_id=request_id),
            access_expires_at=_after(now, require(payload, "access_expires", request_id=request_id)),
        )
        if payload.get("refresh"):
            refreshed.update(refresh=payload["refresh"],
                             refresh_expires_at=_after(now, payload.get("refresh_expires") or 0))
        return refreshed

    # HTTP -------------------------------------------------------------------

    def _client(self):
        if self._http is None:
            self._http = self.http_client(request_id_header=self.REQUEST_ID_HEADER, error_handler=self._error,
                                          wait_reader=self._wait)
        return self._http

    def _call(self, method, path, tokens, **kwargs):
        """An authenticated call; a refused bearer token is renewed once."""
        for attempt in (1, 2):
            headers = dict(self._authorization(tokens, force=attempt == 2), Accept="application/json")
            try:
                response = self._client().request(method, path, headers=headers, **kwargs)
            except _TokenRejected:
                if attempt == 2:
                    # The secret was accepted to issue the token: no rejected credentials.
                    raise InvalidConfiguration("GoCardless keeps refusing the access token.",
                                               credentials_rejected=False) from None
                continue
            self._note_bank_quota(response)
            return response
        raise AssertionError("unreachable")

    def _note_bank_quota(self, response):
        """Keep the bank's quota of the account that the answer's rate-limit headers tell (since August 2024)."""
        headers = _headers(response)
        remaining = headers.get("x-ratelimit-account-success-remaining", "").strip()
        reset = headers.get("x-ratelimit-account-success-reset", "").strip()
        if remaining.isdigit():
            self.note_quota(remaining=int(remaining), reset_in=int(reset) if reset.isdigit() else None)

    def _error(self, response):
        """Raise the typed error of a GoCardless error answer."""
        payload = response.payload if isinstance(response.payload, dict) else {}
        status, request_id = response.status, response.request_id
        kind = str(payload.get("type") or "")
        summary = str(payload.get("summary") or "")
        text = f"{summary} {payload.get('detail') or ''}".lower()
        if status == 401:
            if kind in ("AccessExpiredError", "AccountInactiveError") or "agreement" in text or "eua" in text:
                raise ReauthRequired("The consent given to GoCardless has expired or was revoked. Please reconnect.",
                                     request_id=request_id)
            if "credentials" in text or "authentication failed" in text:
                raise _TokenRejected("GoCardless refused the credentials.", request_id=request_id)
            if "token" in text:
                raise _TokenRejected("GoCardless refused the access token.", request_id=request_id)
            raise ReauthRequired("GoCardless no longer has access to this bank. Please reconnect.",
                                 request_id=request_id)
        if status == 403:
            raise InvalidConfiguration(
                "GoCardless refused access: check the allowed IP addresses and the access scope of the account.",
                request_id=request_id, credentials_rejected=False,
            )
        if status == 409:
            raise ReauthRequired("GoCardless suspended access to this account after repeated bank errors. "
                                 "Please reconnect.", request_id=request_id)
        if status == 429:
            institution = "institution" in text
            retry_after = self._retry_after(response, text, institution)
            message = ("The bank's daily limit of synchronizations is reached." if institution
                       else "GoCardless limits how often it can be called.")
            if retry_after and retry_after > 60:
                reset = (_now() + timedelta(seconds=retry_after)).strftime("%Y-%m-%d %H:%M")
                message += f" It resets at {reset} UTC; the first synchronization after that will try again."
            raise RateLimited(message, retry_after=retry_after, request_id=request_id)
        if status >= 500:
            raise InstitutionUnavailable("The bank or GoCardless is temporarily unavailable.", request_id=request_id)
        if not summary:
            # Validation errors carry one {summary, detail} object per field.
            summary = next((str(value["summary"]) for value in payload.values()
                            if isinstance(value, dict) and value.get("summary")), "")
        message = f"GoCardless refused the request (HTTP {status}){': ' + summary[:80] if summary else ''}."
        raise (_NotFound if status == 404 else ProviderError)(message, request_id=request_id)

    def _wait(self, response):
        """Seconds until a refused call may succeed (the bank's quota reset on a bank-quota 429)."""
        payload = response.payload if isinstance(response.payload, dict) else {}
        text = f"{payload.get('summary') or ''} {payload.get('detail') or ''}".lower()
        return self._retry_after(response, text, "institution" in text)

    @staticmethod
    def _retry_after(response, text, institution):
        """Seconds until the quota resets: ``Retry-After``, the rate-limit headers, or the message."""
        headers = _headers(response)
        resets = RESET_HEADERS if institution else RESET_HEADERS[::-1]
        for name in ("Retry-After",) + resets:
            value = headers.get(name.lower())
            if value and value.strip().isdigit():
                return int(value)
        match = re.search(r"try again in (\d+) seconds", text)
        return int(match.group(1)) if match else None

    # helpers ----------------------------------------------------------------

    def _institution(self, item, country):
        if not isinstance(item, dict) or not item.get("id") or not item.get("name"):
            raise MalformedResponse("GoCardless sent a bank without id or name.")
        countries = [str(code).upper() for code in item.get("countries") or []]
        history = str(item.get("transaction_total_days") or "")
        code = (country or "").upper()
        if countries and code not in countries:
            code = countries[0]
        return Institution(
            id=item["id"],
            name=item["name"],
            country=code,
            logo_url=item.get("logo") or "",
            max_history_days=int(history) if history.isdigit() else None,
            bic=parse_bic(item.get("bic")),
        )

    @staticmethod
    def _days(institution, field):
        value = str((institution or {}).get(field) or "")
        return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_DAYS

    def _account_info(self, tokens, uid):
        """The stable key of a requisition's account and what the connection keeps of it."""
        answer = self._call("GET", f"accounts/{uid}/details/", tokens)
        details = require(answer.payload, "account", request_id=answer.request_id)
        iban = (details.get("iban") or "").replace(" ", "").upper()
        bban = (details.get("bban") or "").replace(" ", "")
        currency = parse_currency(details["currency"]) if details.get("currency") else ""
        identifier = iban or bban or (f"resource:{details['resourceId']}" if details.get("resourceId") else uid)
        key = f"{identifier}:{currency}" if currency else identifier
        return key, {
            "uid": uid,
            "iban": iban,
            "bban": bban,
            "currency": currency,
            "name": details.get("name") or details.get("displayName") or details.get("product") or "",
            "holder_name": details.get("ownerName") or "",
            "bic": parse_bic(details.get("bic")),
        }

    @staticmethod
    def _agreement_expiry(agreement):
        require(agreement, "access_valid_for_days")
        accepted = agreement.get("accepted") or agreement.get("created")
        start = parse_datetime(accepted) if accepted else _now()
        return start + timedelta(days=int(agreement.get("access_valid_for_days") or DEFAULT_DAYS))

    def _delete_requisition(self, tokens, requisition_id):
        try:
            self._call("DELETE", f"requisitions/{requisition_id}/", tokens, expect_json=False)
        except _NotFound:
            _logger.info("GoCardless: the consent request was already deleted.")

    @staticmethod
    def _accounts(tokens):
        accounts = (tokens or {}).get("accounts")
        if not accounts or not (tokens or {}).get("requisition_id"):
            raise ReauthRequired("This connection has no consent at GoCardless. Please reconnect.")
        return accounts

    def _balance(self, tokens, info):
        answer = self._call("GET", f"accounts/{info['uid']}/balances/", tokens)
        balances = require(answer.payload, "balances", request_id=answer.request_id)
        if not isinstance(balances, list) or not all(isinstance(balance, dict) for balance in balances):
            raise MalformedResponse("GoCardless sent an invalid list of balances.", request_id=answer.request_id)
        candidates = []
        for balance in balances:
            amount = balance.get("balanceAmount") or {}
            currency = parse_currency(amount.get("currency"))
            if info.get("currency") and currency != info["currency"]:
                continue
            kind = balance.get("balanceType")
            rank = BALANCE_TYPES.index(kind) if kind in BALANCE_TYPES else len(BALANCE_TYPES)
            candidates.append((rank, str(balance.get("referenceDate") or ""), amount, currency))
        if not candidates:
            return None, ""
        # The most relevant type; among equals, the most recent reference date.
        candidates.sort(key=lambda candidate: candidate[1], reverse=True)
        _rank, _day, amount, currency = min(candidates, key=lambda candidate: candidate[0])
        return parse_amount(amount.get("amount"), "balance"), currency

    def _transaction(self, row, status, seen):
        """Normalize a Berlin Group transaction; ``seen`` numbers identical id-less rows."""
        if not isinstance(row, dict):
            raise MalformedResponse("GoCardless sent an invalid transaction.")
        money = row.get("transactionAmount")
        if not isinstance(money, dict):
            raise MalformedResponse("GoCardless sent a transaction without amount.")
        amount = parse_amount(money.get("amount"))
        currency = parse_currency(money.get("currency"))
        day = _first_date(row, "bookingDate", "bookingDateTime", "valueDate", "valueDateTime")
        if day is None:
            if status == POSTED:
                raise MalformedResponse("GoCardless sent a booked transaction without booking date.")
            day = date.today()
        side = "debtor" if amount >= 0 else "creditor"
        account = row.get(f"{side}Account") or {}
        label = _label(row)
        counterparty = row.get(f"{side}Name") or row.get("ultimate" + side.title()) or ""
        counterparty_account = (account.get("iban") or account.get("bban") or "") if isinstance(account, dict) else ""
        foreign_amount, foreign_currency = _foreign(row, amount, currency)
        identifier = row.get("transactionId") or row.get("entryReference") or row.get("internalTransactionId")
        if not identifier:
            content = json.dumps([status, day.isoformat(), str(amount), currency, label, counterparty,
                                  counterparty_account, row.get("valueDate") or ""])
            seen[content] = seen.get(content, 0) + 1
            identifier = "h:" + hashlib.sha256(f"{content}#{seen[content]}".encode()).hexdigest()[:32]
        return Transaction(
            id=str(identifier),
            booking_date=day,
            amount=amount,
            currency=currency,
            status=status,
            value_date=_first_date(row, "valueDate", "valueDateTime"),
            label=label,
            counterparty_name=counterparty,
            counterparty_account=counterparty_account,
            foreign_amount=foreign_amount,
            foreign_currency=foreign_currency,
            raw=row,
        )


def _label(row):
    for key in ("remittanceInformationUnstructured", "remittanceInformationUnstructuredArray",
                "remittanceInformationStructured", "remittanceInformationStructuredArray",
                "additionalInformation"):
        value = row.get(key)
        if isinstance(value, list):
            value = " ".join(str(part) for part in value if part)
        if value:
            return str(value).strip()
    return ""


def _foreign(row, amount, currency):
    """The instructed amount in another currency, signed like ``amount``."""
    exchanges = row.get("currencyExchange") or []
    if isinstance(exchanges, dict):
        exchanges = [exchanges]
    for exchange in exchanges if isinstance(exchanges, list) else []:
        instructed = exchange.get("instructedAmount") if isinstance(exchange, dict) else None
        if isinstance(instructed, dict) and instructed.get("currency") and instructed.get("amount") is not None:
            foreign_currency = parse_currency(instructed["currency"])
            if foreign_currency != currency:
                value = abs(parse_amount(instructed["amount"], "foreign amount"))
                return (-value if amount < 0 else value), foreign_currency
    return None, ""


def _first_date(row, *keys):
    for key in keys:
        if row.get(key):
            return parse_date(row[key])
    return None


def _expired(moment, limit):
    """True when the ISO ``moment`` is missing or before ``limit``."""
    if not moment:
        return True
    try:
        return parse_datetime(moment) <= limit
    except MalformedResponse:
        return True


def _after(now, seconds):
    try:
        return (now + timedelta(seconds=int(seconds))).isoformat()
    except (TypeError, ValueError):
        raise MalformedResponse("GoCardless sent an invalid token lifetime.") from None


def _headers(response):
    """The answer's headers by lower-case name, ``HTTP_`` prefix and underscores as GoCardless may send them."""
    return {name.lower().replace("_", "-").removeprefix("http-"): value for name, value in response.headers.items()}


def _now():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _with_query(url, name, value):
    parts = urlsplit(url)
    extra = urlencode({name: value})
    return urlunsplit(parts._replace(query=f"{parts.query}&{extra}" if parts.query else extra))


def _split_glued_ref(params):
    """Undo ``?ref=`` appended after an existing query string (``state=X?ref=Y``)."""
    params = dict(params)
    for name, value in list(params.items()):
        if isinstance(value, str) and "?ref=" in value and "ref" not in params:
            params[name], params["ref"] = value.split("?ref=", 1)
    return params
