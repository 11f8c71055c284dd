"""Plaid (US / Canada): Plaid Link for consent, ``/transactions/sync`` for transactions.

Every Plaid endpoint is a JSON ``POST`` authenticated by the team's client id
and the environment's secret. A connection is a Plaid *Item*, reached with an
``access_token`` that does not expire; it stops working when the bank asks
the user to log in again, which Link's update mode repairs on the same Item,
so accounts and transactions keep their ids.

Consent runs through Plaid Link, opened in Odoo's web client with the
``link_token`` (``ConnectionStart.widget_token``); Link hands a one-time
``public_token`` to Odoo, which exchanges it for the access token. Clients
that Plaid enabled for Hosted Link (an opt-in, ``plaid_hosted_link`` in the
settings) may use it instead: Plaid then hosts Link, sends the user back to
``completion_redirect_uri`` with Odoo's ``state``, and the public token is
read from ``/link/token/get``.

Transactions come from ``/transactions/sync``, one cursor stream per
account. The cursor reached is handed back as ``TransactionPage.resume_cursor``
and kept by Odoo with the lines it covers; the next run starts there and
gets what was added, modified or removed since.
"""
import json
import secrets
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .base import Provider
from .errors import (
    InstitutionUnavailable,
    InvalidConfiguration,
    MalformedResponse,
    MFARequired,
    ProviderError,
    RateLimited,
    ReauthRequired,
)
from .http import HttpClient, require
from .parsing import parse_amount, parse_currency, parse_date, parse_datetime
from .schema import PENDING, POSTED, Account, ConnectionStart, Institution, Transaction, TransactionPage

API_VERSION = "2020-09-14"
CLIENT_NAME = "Odoo"
COUNTRY_CODES = ["US", "CA"]
#: Days of history asked for when linking (Plaid's maximum).
DAYS_REQUESTED = 730
#: Updates per ``/transactions/sync`` page (Plaid's maximum).
PAGE_SIZE = 500
#: Times a listing starts again from its first cursor when Plaid's data changes while it is paged.
MAX_LISTING_RESTARTS = 3
#: Where Plaid serves Link's web script (a local copy may be configured instead).
LINK_SCRIPT_URL = "https://cdn.plaid.com/link/v2/stable/link-initialize.js"
#: Institutions listed when no search text is given (one ``/institutions/get`` page).
INSTITUTION_PAGE = 500
#: Plaid sends no Retry-After; its limits are counted per minute.
DEFAULT_RETRY_AFTER = 60
#: Account types whose positive balance is money owed to the bank.
DEBT_TYPES = frozenset({"credit", "loan"})

REAUTH_CODES = frozenset({
    "ITEM_LOGIN_REQUIRED", "INVALID_CREDENTIALS", "INSUFFICIENT_CREDENTIALS", "ITEM_LOCKED",
    "PASSWORD_RESET_REQUIRED", "USER_SETUP_REQUIRED", "ACCESS_NOT_GRANTED", "NO_ACCOUNTS",
    "ITEM_NOT_FOUND", "INVALID_ACCESS_TOKEN", "INVALID_UPDATED_USERNAME",
})
MFA_CODES = frozenset({"INVALID_MFA", "INVALID_OTP", "INVALID_SEND_METHOD", "USER_INPUT_TIMEOUT"})
CONFIG_CODES = frozenset({
    "INVALID_API_KEYS", "UNAUTHORIZED_ENVIRONMENT", "UNAUTHORIZED_ROUTE_ACCESS", "INVALID_PRODUCT",
    "PRODUCT_NOT_ENABLED", "PRODUCTS_NOT_SUPPORTED", "INSTITUTION_REGISTRATION_REQUIRED",
    "ITEM_PRODUCT_NOT_ENABLED", "ADDITION_LIMIT",
})
UNAVAILABLE_CODES = frozenset({
    "INSTITUTION_DOWN", "INSTITUTION_NOT_RESPONDING", "INSTITUTION_NOT_AVAILABLE",
    "INTERNAL_SERVER_ERROR", "PLANNED_MAINTENANCE",
})


def _plain(value):
    """``value`` with its ``Decimal`` numbers turned back into JSON numbers (kept as raw data)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class _Rows(dict):
    """Transaction rows by id, with the request id of the last page they came in."""

    request_id = None


def _with_query(url, **params):
    """``url`` with ``params`` added to its query string."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


class ListingChanged(ProviderError):
    """Plaid's data changed while a ``/transactions/sync`` listing was paged."""


class PlaidProvider(Provider):
    """Plaid's Transactions product through Plaid Link (or Hosted Link, when the client has it)."""

    code = "plaid"
    name = "Plaid"
    ENVIRONMENTS = {
        "sandbox": "https://sandbox.plaid.com",
        "production": "https://production.plaid.com",
    }
    CONFIG_FIELDS = {"client_id": "client_id", "client_secret": "Secret"}

    def __init__(self, config=None):
        super().__init__(config)
        self._client = None

    # HTTP -----------------------------------------------------------------

    def _post(self, path, body, safe=True):
        """POST ``body`` to ``path``; return the decoded payload and Plaid's request id."""
        client_id, secret = self.require_config("client_id", "client_secret")
        if self._client is None:
            self._client = self.http_client(error_handler=self._raise_error)
        response = self._client.post(path, json=body, safe=safe, headers={
            "PLAID-CLIENT-ID": client_id,
            "PLAID-SECRET": secret,
            "Plaid-Version": API_VERSION,
        })
        payload = response.payload
        if not isinstance(payload, dict):
            raise MalformedResponse("Plaid sent an empty answer.")
        return payload, payload.get("request_id")

    def _raise_error(self, response):
        """Raise the typed error of a Plaid error answer (HttpClient's error handler)."""
        payload = response.payload if isinstance(response.payload, dict) else {}
        retry_after = HttpClient.retry_after(response)
        if response.status == 429:
            payload = dict(payload, error_type="RATE_LIMIT_EXCEEDED")
        error = self._error(payload, retry_after)
        if error:
            raise error

    @staticmethod
    def _error(payload, retry_after=None):
        """The typed error for a Plaid error object, or None when it names no error."""
        request_id = payload.get("request_id")
        error_type = payload.get("error_type") or ""
        error_code = payload.get("error_code") or ""
        if error_type == "RATE_LIMIT_EXCEEDED":
            return RateLimited(
                "Plaid limits how often this bank connection can be read; the next synchronization will try again.",
                retry_after=DEFAULT_RETRY_AFTER if retry_after is None else retry_after,
                request_id=request_id,
            )
        if error_code in MFA_CODES:
            # Plaid takes the code in Link's update mode only, which Update Credentials opens.
            return MFARequired("The bank asks for a security code, given in Plaid Link.", request_id=request_id,
                               update_credentials=True)
        if error_code in REAUTH_CODES or error_type == "OAUTH_ERROR":
            return ReauthRequired("The bank needs you to log in again through Plaid: reconnect this bank.",
                                  request_id=request_id)
        if error_code in CONFIG_CODES:
            return InvalidConfiguration(f"Plaid refused the connector settings ({error_code}): check the "
                                        "client_id, the Secret and the environment.", request_id=request_id)
        if error_code in UNAVAILABLE_CODES or error_type in ("INSTITUTION_ERROR", "API_ERROR"):
            return InstitutionUnavailable("The bank or Plaid is temporarily unavailable; the next synchronization "
                                          "will try again.", request_id=request_id)
        if error_code == "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION":
            return ListingChanged("Plaid's transactions changed while they were read.", request_id=request_id)
        if error_code == "PRODUCT_NOT_READY":
            return ProviderError("Plaid is still collecting this bank's transactions; the next synchronization "
                                 "will try again.", request_id=request_id)
        if error_code:
            return ProviderError(f"Plaid refused the request ({error_code}).", request_id=request_id)
        return None

    # institutions and consent ----------------------------------------------

    def search_institutions(self, country=None, text=None):
        """Institutions offering transactions in ``country`` (US and CA by default) matching ``text``."""
        country_codes = [country.upper()] if country else COUNTRY_CODES
        if text:
            payload, request_id = self._post("/institutions/search", {
                "query": text, "country_codes": country_codes, "products": ["transactions"],
                "options": {"include_optional_metadata": True},
            })
        else:
            payload, request_id = self._post("/institutions/get", {
                "count": INSTITUTION_PAGE, "offset": 0, "country_codes": country_codes,
                "options": {"products": ["transactions"], "include_optional_metadata": True},
            })
        institutions = []
        for item in require(payload, "institutions", request_id=request_id):
            codes = item.get("country_codes") or country_codes
            institutions.append(Institution(
                id=require(item, "institution_id", request_id=request_id),
                name=require(item, "name", request_id=request_id),
                country=next((code for code in codes if code in country_codes), codes[0]),
                logo_url=f"data:image/png;base64,{item['logo']}" if item.get("logo") else "",
                max_history_days=DAYS_REQUESTED,
            ))
        return institutions

    def start_connection(self, institution_id, mode="new", tokens=None, redirect_url=None, state=None):
        """Create a Link token: a new Item, or update mode on the connection's Item.

        Link itself runs in the web client (``widget_token``, ``widget_url``);
        with Hosted Link enabled in the settings, the user is sent to Plaid's page.
        """
        tokens = tokens or {}
        client_user_id = tokens.get("client_user_id") or secrets.token_hex(12)
        body = {
            "client_name": CLIENT_NAME,
            "language": "en",
            "country_codes": COUNTRY_CODES,
            "user": {"client_user_id": client_user_id},
        }
        if mode in ("update", "renew") and tokens.get("access_token"):
            body["access_token"] = tokens["access_token"]
        else:
            body["products"] = ["transactions"]
            body["transactions"] = {"days_requested": DAYS_REQUESTED}
        hosted = bool(self.config.get("plaid_hosted_link"))
        if hosted:
            body["hosted_link"] = {}
            if redirect_url:
                body["hosted_link"]["completion_redirect_uri"] = (
                    _with_query(redirect_url, state=state) if state else redirect_url
                )
        payload, request_id = self._post("/link/token/create", body, safe=False)
        link_token = require(payload, "link_token", request_id=request_id)
        pending = {"link_token": link_token, "client_user_id": client_user_id}
        if not hosted:
            return ConnectionStart(
                widget_token=link_token,
                widget_url=self.config.get("plaid_link_script_url") or LINK_SCRIPT_URL,
                pending=pending,
            )
        hosted_url = payload.get("hosted_link_url")
        if not hosted_url:
            raise InvalidConfiguration("Plaid did not open a Hosted Link session: this client_id is not enabled for "
                                       "Hosted Link. Untick Hosted Link in the Plaid settings.", request_id=request_id,
                                       credentials_rejected=False)
        return ConnectionStart(redirect_url=hosted_url, pending=pending)

    def complete_connection(self, institution_id, params, tokens=None):
        """Exchange the public token Link gave (new Item) and return the tokens.

        ``params`` holds Link's ``public_token``; after Hosted Link it holds
        only the ``state``, and the session is read with ``/link/token/get``.
        Update mode repairs the same Item: its access token and account ids stay.
        """
        tokens = dict(tokens or {})
        link_token = tokens.pop("link_token", None)
        if not link_token:
            raise ProviderError("The Plaid consent was not started from this database; start it again.")
        public_token = params.get("public_token")
        if not public_token and not tokens.get("access_token"):
            payload, request_id = self._post("/link/token/get", {"link_token": link_token})
            public_token = self._finished_session(payload.get("link_sessions") or [], request_id)
            if not public_token:
                raise ProviderError("The Plaid session ended without connecting a bank; start again.",
                                    request_id=request_id)
        if not tokens.get("access_token"):
            payload, request_id = self._post("/item/public_token/exchange", {"public_token": public_token},
                                             safe=False)
            tokens.update(
                access_token=require(payload, "access_token", request_id=request_id),
                item_id=require(payload, "item_id", request_id=request_id),
            )
        item, request_id = self._item(tokens)
        if isinstance(item.get("error"), dict):
            error = self._error(dict(item["error"], request_id=request_id))
            if isinstance(error, (ReauthRequired, MFARequired)):
                raise error
        return self._with_item(tokens, item)

    @staticmethod
    def _finished_session(sessions, request_id):
        """The public token of the last finished Link session ("" when it gave none).

        Raise when the user left Link with an error, cancelled, or has not finished yet.
        """
        for session in reversed(sessions):
            if not isinstance(session, dict) or not session.get("finished_at"):
                continue
            exit_info = session.get("exit") or session.get("on_exit")
            if exit_info:
                error = exit_info.get("error") if isinstance(exit_info, dict) else None
                if isinstance(error, dict) and error.get("error_code"):
                    raise PlaidProvider._error(dict(error, request_id=request_id))
                raise ProviderError("The Plaid session was left before the bank was connected; start again.",
                                    request_id=request_id)
            results = (session.get("results") or {}).get("item_add_results") or []
            candidates = [result.get("public_token") for result in results if isinstance(result, dict)]
            candidates.append((session.get("on_success") or {}).get("public_token"))
            return next((token for token in candidates if token), "")
        raise ProviderError("The Plaid session is not finished: complete it in Plaid first.", request_id=request_id)

    def _item(self, tokens):
        """The connection's Plaid Item and the request id of the answer."""
        payload, request_id = self._post("/item/get", {"access_token": self._access_token(tokens)})
        item = require(payload, "item", request_id=request_id)
        if not isinstance(item, dict):
            raise MalformedResponse("Plaid sent an invalid Item.", request_id=request_id)
        return item, request_id

    @staticmethod
    def _with_item(tokens, item):
        """``tokens`` completed with the Item's id, institution and consent expiry."""
        expiry = item.get("consent_expiration_time")
        return dict(
            tokens,
            item_id=item.get("item_id") or tokens.get("item_id"),
            institution_id=item.get("institution_id") or tokens.get("institution_id"),
            consent_expires_at=parse_datetime(expiry).isoformat() if expiry else None,
        )

    def consent_expiry(self, tokens):
        """When the Item's OAuth consent ends (naive UTC), or None for banks without one."""
        value = (tokens or {}).get("consent_expires_at")
        return datetime.fromisoformat(value) if value else None

    def refresh_tokens(self, tokens):
        """Re-read the Item: banks may move its consent expiry. Access tokens themselves never expire."""
        if not (tokens or {}).get("access_token"):
            return tokens
        fresh = self._with_item(tokens, self._item(tokens)[0])
        return fresh if fresh != tokens else tokens

    def revoke(self, tokens):
        """Remove the Item at Plaid: its access token stops working."""
        access_token = (tokens or {}).get("access_token")
        if access_token:
            self._post("/item/remove", {"access_token": access_token}, safe=False)

    # data -----------------------------------------------------------------

    @staticmethod
    def _access_token(tokens):
        return Provider.required_token(
            tokens, "access_token", "This connection has no consent at Plaid: reconnect this bank.",
        )

    def list_accounts(self, tokens, balances=True):
        """The Item's accounts with their current balance (positive = money held)."""
        payload, request_id = self._post("/accounts/get", {"access_token": self._access_token(tokens)})
        accounts = []
        try:
            for item in require(payload, "accounts", request_id=request_id):
                balances = require(item, "balances", request_id=request_id)
                current = balances.get("current")
                if current is None:
                    current = balances.get("available")
                balance = parse_amount(current, "balance") if current is not None else None
                if balance is not None and item.get("type") in DEBT_TYPES:
                    balance = -balance
                accounts.append(Account(
                    id=require(item, "account_id", request_id=request_id),
                    name=item.get("name") or item.get("official_name") or "",
                    currency=parse_currency(balances.get("iso_currency_code")
                                            or balances.get("unofficial_currency_code")),
                    number=item.get("mask") or "",
                    number_masked=True,
                    balance=balance,
                ))
        except MalformedResponse as error:
            raise MalformedResponse(error.message, request_id=request_id) from None
        return accounts

    def list_transactions(self, tokens, account_id, date_from, cursor=None, unattended=False):
        """The account's changes since ``cursor`` (a ``resume_cursor`` of an earlier run), in one page.

        Without a cursor, the whole history Plaid holds from ``date_from``.
        The listing is paged to its end here, as Plaid asks, and started again
        from its first cursor when Plaid's data changes meanwhile. Pending
        transactions are carried in the cursor until Plaid posts or removes
        them, so that each run knows all of them.
        """
        state = self._resume_state(cursor, date_from)
        since = date.fromisoformat(state["since"])
        rows, modified, removed, next_cursor = self._sync_listing(tokens, account_id, state["cursor"])
        pending = {tid: row for tid, row in state["pending"].items() if tid not in removed and tid not in rows}
        transactions = []
        try:
            for row in rows.values():
                transaction = self._transaction(row, rows.request_id)
                if transaction.booking_date < since:
                    continue
                if transaction.is_posted:
                    transactions.append(transaction)
                else:
                    pending[transaction.id] = row
            transactions += [self._transaction(row, rows.request_id) for row in pending.values()]
        except MalformedResponse as error:
            raise MalformedResponse(error.message, request_id=rows.request_id) from None
        resume = {"cursor": next_cursor or state["cursor"], "since": state["since"], "pending": pending}
        return TransactionPage(
            transactions,
            resume_cursor=json.dumps(resume, default=str),
            modified_ids=tuple(tid for tid in modified if tid in rows),
            removed_ids=tuple(removed),
        )

    @staticmethod
    def _resume_state(cursor, date_from):
        """The state a ``resume_cursor`` holds: Plaid's cursor, the first date, the pending rows."""
        if not cursor:
            return {"cursor": "", "since": date_from.isoformat(), "pending": {}}
        try:
            state = json.loads(cursor)
            if isinstance(state.get("cursor"), str) and isinstance(state.get("pending"), dict):
                date.fromisoformat(state["since"])
                return state
        except (AttributeError, TypeError, ValueError):
            pass
        raise ProviderError("The synchronization lost its place in Plaid's transaction list.")

    def _sync_listing(self, tokens, account_id, first_cursor):
        """Page ``/transactions/sync`` from ``first_cursor`` to its end.

        Return the rows added or modified (latest version, by id), the ids
        among them that were modified, the ids removed, and the next cursor.
        """
        for _attempt in range(MAX_LISTING_RESTARTS):
            rows, modified, removed = _Rows(), set(), set()
            cursor = first_cursor
            try:
                while True:
                    body = {
                        "access_token": self._access_token(tokens),
                        "count": self.config.get("page_size") or PAGE_SIZE,
                        "options": {"account_id": account_id, "include_original_description": True},
                    }
                    if cursor:
                        body["cursor"] = cursor
                    payload, request_id = self._post("/transactions/sync", body)
                    rows.request_id = request_id
                    page = self._sync_page(payload, request_id)
                    for row in page["added"]:
                        rows[row["transaction_id"]] = row
                    for row in page["modified"]:
                        if row["transaction_id"] not in rows:
                            modified.add(row["transaction_id"])
                        rows[row["transaction_id"]] = row
                    for row in page["removed"]:
                        if rows.pop(row["transaction_id"], None) is None or row["transaction_id"] in modified:
                            removed.add(row["transaction_id"])
                        modified.discard(row["transaction_id"])
                    if not page["has_more"]:
                        return rows, modified, removed, page["next_cursor"]
                    if page["next_cursor"] == cursor:
                        raise MalformedResponse("Plaid sent the same transaction page twice.", request_id=request_id)
                    cursor = page["next_cursor"]
            except ListingChanged:
                continue
        raise InstitutionUnavailable("Plaid's transactions kept changing while they were read; the next "
                                     "synchronization will try again.")

    @staticmethod
    def _sync_page(payload, request_id):
        """``payload`` checked against Plaid's ``TransactionsSyncResponse``."""
        lists = {key: payload.get(key) for key in ("added", "modified", "removed")}
        valid = (
            all(isinstance(value, list) and all(isinstance(row, dict) for row in value) for value in lists.values())
            and all(isinstance(row.get("transaction_id"), str) and row["transaction_id"]
                    for value in lists.values() for row in value)
            and isinstance(payload.get("has_more"), bool)
            and isinstance(payload.get("next_cursor"), str)
        )
        if not valid:
            raise MalformedResponse("Plaid sent an invalid transaction list.", request_id=request_id)
        return dict(lists, has_more=payload["has_more"], next_cursor=payload["next_cursor"])

    @staticmethod
    def _transaction(row, request_id):
        """A normalized transaction; Plaid's amounts are positive when money leaves the account."""
        if not isinstance(row, dict):
            raise MalformedResponse("Plaid sent a transaction that is not an object.")
        transaction_id = require(row, "transaction_id", request_id=request_id)
        if not isinstance(transaction_id, str) or not transaction_id:
            raise MalformedResponse("Plaid sent a transaction without an id.")
        pending = require(row, "pending", request_id=request_id)
        if not isinstance(pending, bool):
            raise MalformedResponse(f"Plaid sent an invalid pending flag on transaction {transaction_id}.")
        amount = -parse_amount(row.get("amount"), f"amount on transaction {transaction_id}")
        counterparties = row.get("counterparties") or []
        payment_meta = row.get("payment_meta") or {}
        names = [row.get("merchant_name")]
        names += [party.get("name") for party in counterparties if isinstance(party, dict)]
        names.append(payment_meta.get("payer") if amount > 0 else payment_meta.get("payee"))
        return Transaction(
            id=transaction_id,
            booking_date=parse_date(row.get("date"), f"date on transaction {transaction_id}"),
            amount=amount,
            currency=parse_currency(row.get("iso_currency_code") or row.get("unofficial_currency_code")),
            status=PENDING if pending else POSTED,
            label=row.get("original_description") or row.get("name") or "",
            counterparty_name=next((name for name in names if name), ""),
            raw=_plain(row),
        )

