"""Salt Edge Account Information API (v5) connector.

Salt Edge models one end user as a *customer* owning *connections* (one bank
login and its consent), each holding accounts and transactions. Every Odoo
link gets its own customer and one connection. The user gives consent on the
hosted Salt Edge Connect page, which sends them back to Odoo with the
connection id; Salt Edge then keeps the bank data and refreshes it daily or
when asked. Applications authenticate with their ``App-id`` and ``Secret``
headers; when a private key is configured every request is also signed
(``Expires-at`` and ``Signature`` headers), as Live applications must.
"""
import base64
import json
import re
import secrets
import time
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

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
from .parsing import parse_amount, parse_bic, parse_currency, parse_date, parse_datetime, with_request_id
from .schema import PENDING, POSTED, Account, ConnectionStart, Institution, Transaction, TransactionPage

API_URL = "https://www.saltedge.com/api/v5"
#: Header carrying the id Salt Edge gives each request (unconfirmed name).
REQUEST_ID_HEADER = "X-Request-Id"
#: Seconds a signed request stays valid (Salt Edge accepts up to one hour).
SIGNATURE_VALIDITY = 60
CONSENT_SCOPES = ["account_details", "transactions_details"]
FETCH_SCOPES = ["accounts", "transactions"]
#: Days of history asked for when the bank does not say how far back it goes.
DEFAULT_HISTORY_DAYS = 90
IBAN_RE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$")
#: Cursor phases: the booked list, then the pending list.
PHASE_POSTED = "posted"
PHASE_PENDING = "pending"

_CONFIG_MESSAGE = "Salt Edge refused the application credentials ({}): check the App ID, Secret and private key."
#: Salt Edge error classes -> (typed error, message for the accountant).
ERRORS = {
    **dict.fromkeys((
        "ApiKeyNotFound", "AppIdNotProvided", "SecretNotProvided", "ClientNotFound", "WrongClientToken",
        "SignatureNotMatch", "MissingSignature", "MissingExpiresAt", "ExpiresAtInvalid", "RequestExpired",
        "PublicKeyNotProvided", "InvalidSignature",
    ), (InvalidConfiguration, _CONFIG_MESSAGE)),
    **dict.fromkeys(("ClientDisabled", "ClientPending", "ClientRestricted", "ActionNotAllowed"), (
        InvalidConfiguration, "The Salt Edge application may not do this in its current status ({}).")),
    **dict.fromkeys(("ProviderDisabled", "ProviderNotFound", "ProviderKeyFound", "ConnectionLimitReached",
                     "AispConsentScopesNotAllowed", "FetchScopesNotAllowed", "ReturnURLInvalid",
                     "ReturnURLTooLong"), (
        InvalidConfiguration, "Salt Edge does not allow this bank or setting for the application ({}).")),
    **dict.fromkeys(("AispConsentExpired", "AispConsentNotFound"), (
        ReauthRequired, "The consent given to the bank through Salt Edge has expired: reconnect the bank.")),
    **dict.fromkeys(("AispConsentRevoked", "AispConsentAlreadyRevoked", "ProviderAccessNotGranted"), (
        ReauthRequired, "The consent given to the bank through Salt Edge was withdrawn: reconnect the bank.")),
    **dict.fromkeys(("InvalidCredentials", "CredentialsNotMatch"), (
        ReauthRequired, "The bank refused the login details: reconnect the bank with the current ones.")),
    **dict.fromkeys(("ConnectionDisabled", "ConnectionNotFound", "CustomerNotFound"), (
        ReauthRequired, "Salt Edge no longer holds this bank connection ({}): reconnect the bank.")),
    **dict.fromkeys(("InteractiveAdapterTimeout", "InteractiveTimeout", "InvalidInteractiveCredentials"), (
        MFARequired, "The bank asks for a security code, given in Salt Edge Connect ({}).")),
    **dict.fromkeys(("RateLimitExceeded", "TooManyRequests", "BackgroundFetchLimitExceeded",
                     "ConnectionCannotBeRefreshed"), (
        RateLimited, "The bank or Salt Edge limits how often the data can be refreshed ({}).")),
    **dict.fromkeys(("ProviderUnavailable", "ProviderInactive", "ProviderError", "ExecutionTimeout",
                     "FetchingTimeout", "ConnectionFailed", "ConnectionLost", "ConnectionFetchingStopped",
                     "ConnectionAlreadyProcessing", "InternalServerError"), (
        InstitutionUnavailable, "The bank or Salt Edge is temporarily unavailable ({}). The next run will retry.")),
    "AccountNotFound": (ProviderError, "Salt Edge no longer knows this bank account."),
}
#: Error classes of a connection, or of its customer, that no longer exists at Salt Edge: a reconnect
#: cannot repair it, a new connection can.
GONE_CLASSES = frozenset({"ConnectionNotFound", "CustomerNotFound"})


def utcnow():
    """The current time as a naive UTC datetime."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class SaltEdgeProvider(Provider):
    """Salt Edge Account Information API v5, through the hosted Salt Edge Connect page."""

    code = "saltedge"
    name = "Salt Edge"
    # One host for all: the application's status (Pending/Test/Live) decides which banks answer.
    ENVIRONMENTS = {"sandbox": API_URL, "production": API_URL}
    CONFIG_FIELDS = {"client_id": "App ID", "client_secret": "Secret", "private_key": "Private key (request signing)"}

    def __init__(self, config=None):
        super().__init__(config)
        self._http = None
        self._key = None

    # institutions and consent -----------------------------------------------

    def search_institutions(self, country=None, text=None):
        """Return the active Salt Edge providers of a country whose name or code contains ``text``."""
        params = {"country_code": country.upper() if country else None}
        if self._sandbox:
            params["include_fake_providers"] = "true"
        text = (text or "").strip().lower()
        institutions = []
        for raw, request_id in self._pages("providers", params):
            if raw.get("status") not in (None, "active"):
                continue
            name = str(raw.get("name") or "")
            code = str(require(raw, "code", request_id=request_id))
            if text and text not in name.lower() and text not in code.lower():
                continue
            interactive = raw.get("interactive") and not raw.get("optional_interactivity")
            institutions.append(Institution(
                id=code,
                name=name or code,
                country=str(raw.get("country_code") or ""),
                logo_url=str(raw.get("logo_url") or ""),
                max_history_days=self._int(raw.get("max_fetch_interval")),
                unattended_refresh=bool(raw.get("automatic_fetch", True)) and not interactive,
            ))
        return institutions

    def start_connection(self, institution_id, mode="new", tokens=None, redirect_url=None, state=None):
        """Open a Salt Edge Connect session: a new connection, or a reconnect of the existing one.

        Salt Edge has no state parameter: ``state`` rides on the return URL.
        """
        if not redirect_url:
            raise ProviderError("Salt Edge needs the address to send the user back to.")
        tokens = tokens or {}
        return_to = self._add_query(redirect_url, state=state) if state else redirect_url
        history_days, consent_days = self._provider_days(institution_id)
        from_date = (date.today() - timedelta(days=history_days)).isoformat()
        consent = {"scopes": CONSENT_SCOPES, "from_date": from_date}
        if consent_days:
            # The longest consent the bank allows, rather than Salt Edge's default.
            consent["period_days"] = consent_days
        data = {
            "consent": consent,
            "attempt": {"return_to": return_to, "fetch_scopes": FETCH_SCOPES, "from_date": from_date},
            "daily_refresh": True,
            "return_connection_id": True,
            "return_error_class": True,
            "include_fake_providers": self._sandbox,
        }
        response, new_connection = None, False
        customer_id = tokens.get("customer_id")
        if mode in ("update", "renew") and tokens.get("connection_id"):
            reconnect = dict(data, connection_id=tokens["connection_id"], override_credentials=mode == "update")
            try:
                response = self._call("POST", "connect_sessions/reconnect", data=reconnect)
            except ReauthRequired as error:
                if getattr(error, "error_class", None) not in GONE_CLASSES:
                    raise
                # Removed at Salt Edge (by the user, the bank or Salt Edge): connect the bank anew.
                if error.error_class == "CustomerNotFound":
                    customer_id = None
        if response is None:
            new_connection = True
            customer_id = customer_id or self._create_customer()
            create = dict(data, customer_id=customer_id, provider_code=institution_id, disable_provider_search=True)
            try:
                response = self._call("POST", "connect_sessions/create", data=create)
            except ReauthRequired as error:
                if getattr(error, "error_class", None) != "CustomerNotFound":
                    raise
                customer_id = self._create_customer()
                create["customer_id"] = customer_id
                response = self._call("POST", "connect_sessions/create", data=create)
        connect_url = require(response.payload, "data", "connect_url", request_id=response.request_id)
        # ``new_connection``: the callback brings a connection of its own, not the one renewed.
        return ConnectionStart(redirect_url=str(connect_url),
                               pending={"customer_id": customer_id, "new_connection": new_connection})

    def complete_connection(self, institution_id, params, tokens=None):
        """Check the connection Salt Edge sent the user back with and return its tokens."""
        tokens = tokens or {}
        new_connection = tokens.get("new_connection") or not tokens.get("connection_id")
        if params.get("error_class"):
            error = self._error(params["error_class"], None)
            if isinstance(error, ReauthRequired):
                # The user stopped at Salt Edge or the bank refused: nothing was given, nothing withdrawn.
                raise ProviderError(
                    "The consent was not given at Salt Edge: no bank was connected. Start again when you are ready."
                    if new_connection else
                    "The consent was not renewed at Salt Edge: the connection is unchanged. Try again when ready."
                )
            raise error
        customer_id = tokens.get("customer_id")
        connection_id = params.get("connection_id") or (None if new_connection else tokens.get("connection_id"))
        if not customer_id or not connection_id:
            raise ProviderError("Salt Edge did not report a bank connection: the consent was not completed.")
        if not new_connection and connection_id != tokens["connection_id"]:
            raise ProviderError("Salt Edge reported another bank connection than the one being renewed.")
        connection, request_id = self._connection(connection_id)
        if str(connection.get("customer_id")) != str(customer_id):
            raise ProviderError("The bank connection reported by Salt Edge does not belong to this consent.",
                                request_id=request_id)
        consent = self._consent(connection)
        with with_request_id(request_id):
            expires_at = parse_datetime(consent["expires_at"], "consent end") if consent.get("expires_at") else None
        return {
            "customer_id": str(customer_id),
            "connection_id": str(connection_id),
            "provider_code": str(connection.get("provider_code") or institution_id),
            "consent_id": str(consent.get("id") or ""),
            "consent_expires_at": expires_at and expires_at.isoformat(),
            "consent_from_date": str(consent.get("from_date") or ""),
        }

    def consent_expiry(self, tokens):
        """When the Salt Edge consent ends (naive UTC), or None when it does not expire."""
        value = (tokens or {}).get("consent_expires_at")
        return datetime.fromisoformat(value) if value else None

    def refresh_tokens(self, tokens):
        """Ask Salt Edge to fetch fresh data from the bank when the connection allows it.

        Salt Edge has no expiring access token: what goes stale is the
        connection's data. A refresh is requested once Salt Edge's
        ``next_refresh_possible_at`` has passed; the tokens then keep when it
        was asked and when the next one is possible. Refreshing is
        asynchronous: its data is read by the next synchronization.
        """
        connection_id = (tokens or {}).get("connection_id")
        if not connection_id:
            return tokens
        connection, request_id = self._connection(connection_id)
        next_possible = connection.get("next_refresh_possible_at")
        now = utcnow()
        with with_request_id(request_id):
            if next_possible and parse_datetime(next_possible, "next refresh time") > now:
                return tokens
        data = {"attempt": {"fetch_scopes": FETCH_SCOPES}, "daily_refresh": True}
        try:
            response = self._call("PUT", f"connections/{connection_id}/refresh", data=data, safe=False)
        except RateLimited:
            return tokens
        refreshed = response.payload.get("data") if isinstance(response.payload, dict) else None
        next_possible = (refreshed or {}).get("next_refresh_possible_at")
        with with_request_id(response.request_id):
            next_possible = parse_datetime(next_possible, "next refresh time").isoformat() if next_possible else None
        return dict(tokens, refreshed_at=now.isoformat(), next_refresh_possible_at=next_possible)

    def revoke(self, tokens):
        """Remove the connection, which withdraws the consent and deletes its data, then the customer Odoo created."""
        tokens = tokens or {}
        for path in filter(None, (
            tokens.get("connection_id") and f"connections/{tokens['connection_id']}",
            tokens.get("customer_id") and f"customers/{tokens['customer_id']}",
        )):
            try:
                self._call("DELETE", path)
            except ReauthRequired:
                pass  # already removed or disabled at Salt Edge

    # data -------------------------------------------------------------------

    def list_accounts(self, tokens, balances=True):
        """Return the accounts of the connection."""
        connection_id = self._connection_id(tokens)
        self._check_connection(*self._connection(connection_id))
        accounts = []
        for raw, request_id in self._pages("accounts", {"connection_id": connection_id}):
            extra = raw.get("extra") if isinstance(raw.get("extra"), dict) else {}
            account_id = str(require(raw, "id", request_id=request_id))
            with with_request_id(request_id):
                balance = raw.get("balance")
                accounts.append(Account(
                    id=account_id,
                    name=str(raw.get("name") or extra.get("account_name") or account_id),
                    currency=parse_currency(raw.get("currency_code")),
                    number=str(extra.get("iban") or extra.get("account_number") or extra.get("bban") or ""),
                    balance=parse_amount(balance, "balance") if balance is not None else None,
                    holder_name=str(extra.get("client_name") or ""),
                    bic=parse_bic(extra.get("swift")),
                ))
        return accounts

    def list_transactions(self, tokens, account_id, date_from, cursor=None, unattended=False):
        """Return one page of the account's booked, then pending, transactions made from ``date_from``.

        The cursor is ``<phase>:<from_id>``; Salt Edge has no date filter, so
        older transactions are dropped here. Background refreshes that need
        the user are reported by the connection check on the first page.
        """
        connection_id = self._connection_id(tokens)
        if cursor is None:
            self._check_connection(*self._connection(connection_id))
            phase, from_id = PHASE_POSTED, ""
        else:
            phase, _sep, from_id = cursor.partition(":")
            if phase not in (PHASE_POSTED, PHASE_PENDING):
                raise ProviderError("The synchronization resumed from an unknown Salt Edge position.")
        path = "transactions" if phase == PHASE_POSTED else "transactions/pending"
        params = {"connection_id": connection_id, "account_id": account_id, "from_id": from_id or None}
        response = self._call("GET", path, params=params)
        transactions = []
        for raw in self._data_list(response):
            if raw.get("duplicated"):
                continue
            transaction = self._transaction(raw, phase, response.request_id)
            if transaction.booking_date >= date_from:
                transactions.append(transaction)
        next_id = self._next_id(response)
        if next_id:
            if next_id == from_id:
                raise MalformedResponse("Salt Edge returned the same page twice.", request_id=response.request_id)
            next_cursor = f"{phase}:{next_id}"
        else:
            next_cursor = PHASE_PENDING if phase == PHASE_POSTED else None
        history_start = self._history_start(tokens) if cursor is None else None
        return TransactionPage(transactions, next_cursor, history_start=history_start)

    @staticmethod
    def _history_start(tokens):
        """The first day of the consent's history (its ``from_date``), or None."""
        value = tokens.get("consent_from_date")
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            return None

    # internals: mapping -----------------------------------------------------

    def _transaction(self, raw, phase, request_id):
        extra = raw.get("extra") if isinstance(raw.get("extra"), dict) else {}
        with with_request_id(request_id):
            transaction_id = str(require(raw, "id"))
            amount = parse_amount(raw.get("amount"))
            currency = parse_currency(raw.get("currency_code"))
            made_on = parse_date(raw.get("made_on"), "transaction date")
            booked_on = parse_date(extra["posting_date"], "posting date") if extra.get("posting_date") else made_on
            foreign_amount, foreign_currency = None, ""
            if extra.get("original_amount") is not None and extra.get("original_currency_code"):
                foreign_currency = parse_currency(extra["original_currency_code"])
                foreign_amount = abs(parse_amount(extra["original_amount"], "original amount"))
                foreign_amount = -foreign_amount if amount < 0 else foreign_amount
                if foreign_currency == currency:
                    foreign_amount, foreign_currency = None, ""
        name, account = self._counterparty(extra, outgoing=amount < 0)
        pending = phase == PHASE_PENDING or raw.get("status") == "pending"
        return Transaction(
            id=transaction_id,
            booking_date=booked_on,
            value_date=made_on,
            amount=amount,
            currency=currency,
            status=PENDING if pending else POSTED,
            label=str(raw.get("description") or extra.get("information") or ""),
            counterparty_name=name,
            counterparty_account=account,
            foreign_amount=foreign_amount,
            foreign_currency=foreign_currency,
            raw=raw,
        )

    @staticmethod
    def _counterparty(extra, outgoing):
        """(name, IBAN) of the other party: the payee of money out, the payer of money in.

        Banks put the IBAN in either field of the pair and the name in the other.
        """
        keys = ("payee", "payee_information") if outgoing else ("payer", "payer_information")
        values = [str(extra[key]).strip() for key in keys if extra.get(key)]
        compact = [value.replace(" ", "").upper() for value in values]
        iban = next((value for value in compact if IBAN_RE.match(value)), "")
        name = next((value for value, packed in zip(values, compact) if packed != iban), "")
        return name, iban

    # internals: connection state ------------------------------------------------

    def _connection(self, connection_id):
        """The connection and the request id of the answer."""
        response = self._call("GET", f"connections/{connection_id}")
        connection = require(response.payload, "data", request_id=response.request_id)
        if not isinstance(connection, dict):
            raise MalformedResponse("Salt Edge sent an unreadable connection.", request_id=response.request_id)
        return connection, response.request_id

    def _check_connection(self, connection, request_id):
        """Raise the error that keeps the connection's data from being current."""
        status = connection.get("status")
        attempt = connection.get("last_attempt") if isinstance(connection.get("last_attempt"), dict) else {}
        failure = attempt.get("fail_error_class")
        if failure and not attempt.get("success_at"):
            raise self._error(failure, request_id)
        if status in ("inactive", "disabled"):
            raise ReauthRequired(f"The bank connection is {status} at Salt Edge: reconnect the bank.",
                                 request_id=request_id)

    def _consent(self, connection):
        """The connection's current consent ({} when Salt Edge lists none)."""
        response = self._call("GET", "consents", params={"connection_id": connection.get("id")})
        consents = [consent for consent in self._data_list(response) if not consent.get("revoked_at")]
        current = [consent for consent in consents if str(consent.get("id")) == str(connection.get("last_consent_id"))]
        return (current or consents[-1:] or [{}])[0]

    def _create_customer(self):
        identifier = f"odoo-{secrets.token_hex(12)}"
        response = self._call("POST", "customers", data={"identifier": identifier})
        data = require(response.payload, "data", request_id=response.request_id)
        customer_id = isinstance(data, dict) and (data.get("id") or data.get("customer_id"))
        if not customer_id:
            raise MalformedResponse("Salt Edge did not return the new customer's id.", request_id=response.request_id)
        return str(customer_id)

    def _provider_days(self, institution_id):
        """How many days back the bank gives transactions, and its longest consent in days (None: not told)."""
        if not institution_id:
            return DEFAULT_HISTORY_DAYS, None
        response = self._call("GET", f"providers/{institution_id}")
        data = (response.payload.get("data") if isinstance(response.payload, dict) else None) or {}
        consent_days = self._int(data.get("max_consent_days"))
        return (self._int(data.get("max_fetch_interval")) or DEFAULT_HISTORY_DAYS,
                consent_days if consent_days and consent_days > 0 else None)

    @staticmethod
    def _connection_id(tokens):
        return Provider.required_token(
            tokens, "connection_id", "This link has no Salt Edge connection: connect the bank again.",
        )

    # internals: HTTP ----------------------------------------------------------

    @property
    def _sandbox(self):
        return (self.config.get("environment") or "sandbox") == "sandbox"

    def _call(self, method, path, params=None, data=None, safe=None):
        """Send a signed request; ``data`` is wrapped in Salt Edge's ``{"data": ...}`` envelope."""
        app_id, secret = self.require_config("client_id", "client_secret")
        if self._http is None:
            self._http = self.http_client(request_id_header=REQUEST_ID_HEADER, error_handler=self._raise_for)
        url = self._http.url(path)
        query = {key: value for key, value in (params or {}).items() if value is not None}
        if query:
            url = f"{url}?{urlencode(query)}"
        body = json.dumps({"data": data}) if data is not None else ""
        headers = {"Accept": "application/json", "Content-Type": "application/json",
                   "App-id": app_id, "Secret": secret}
        if self.config.get("private_key"):
            headers.update(self._signature(method, url, body))
        return self._http.request(method, url, safe=safe, headers=headers, data=body.encode() or None)

    def _signature(self, method, url, body):
        """``Expires-at`` and ``Signature`` headers: RSA-SHA256 over ``expires|METHOD|url|body``."""
        if self._key is None:
            try:
                key = serialization.load_pem_private_key(self.config["private_key"].encode(), password=None)
            except (ValueError, TypeError):
                raise InvalidConfiguration("The Salt Edge private key is not a readable PEM key.",
                                           credentials_rejected=False) from None
            if not isinstance(key, rsa.RSAPrivateKey):
                raise InvalidConfiguration("The Salt Edge private key must be an RSA key.", credentials_rejected=False)
            self._key = key
        expires_at = str(int(time.time()) + SIGNATURE_VALIDITY)
        message = f"{expires_at}|{method.upper()}|{url}|{body}".encode()
        signature = self._key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return {"Expires-at": expires_at, "Signature": base64.b64encode(signature).decode()}

    def _pages(self, path, params):
        """Yield ``(item, request_id)`` over every page of a Salt Edge list (``from_id``/``next_id``)."""
        from_id = None
        while True:
            response = self._call("GET", path, params=dict(params, from_id=from_id))
            for item in self._data_list(response):
                yield item, response.request_id
            next_id = self._next_id(response)
            if not next_id:
                return
            if next_id == from_id:
                raise MalformedResponse("Salt Edge returned the same page twice.", request_id=response.request_id)
            from_id = next_id

    @staticmethod
    def _data_list(response):
        items = require(response.payload, "data", request_id=response.request_id)
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise MalformedResponse("Salt Edge sent an unreadable list.", request_id=response.request_id)
        return items

    @staticmethod
    def _next_id(response):
        meta = response.payload.get("meta") if isinstance(response.payload, dict) else None
        next_id = meta.get("next_id") if isinstance(meta, dict) else None
        return str(next_id) if next_id not in (None, "") else None

    def _raise_for(self, response):
        """``HttpClient`` error hook: raise the typed error of a Salt Edge error answer."""
        payload = response.payload if isinstance(response.payload, dict) else {}
        error = payload.get("error") if isinstance(payload.get("error"), dict) else {}
        error_class = error.get("class") or payload.get("error_class")
        retry_after = HttpClient.retry_after(response)
        if retry_after is None:
            retry_after = self._seconds_until(
                error.get("next_refresh_possible_at") or payload.get("next_refresh_possible_at"))
        if error_class:
            raise self._error(str(error_class), response.request_id, response.status, retry_after)
        if response.status in (401, 403):
            raise InvalidConfiguration(_CONFIG_MESSAGE.format(f"HTTP {response.status}"),
                                       request_id=response.request_id)

    @staticmethod
    def _error(error_class, request_id, status=None, retry_after=None):
        """The typed error for a Salt Edge error class (by HTTP status when the class is unknown)."""
        error_type, message = ERRORS.get(error_class, (None, None))
        if error_type is None:
            if status == 429:
                error_type = RateLimited
            elif status and status >= 500:
                error_type = InstitutionUnavailable
            elif status in (401, 403):
                error_type = InvalidConfiguration
            else:
                error_type = ProviderError
            message = "Salt Edge refused the request ({})."
        message = message.format(error_class)
        if error_type is RateLimited:
            error = RateLimited(message, retry_after=retry_after, request_id=request_id)
        elif error_type is InvalidConfiguration:
            # What the application's status or plan does not allow is no credential rejection.
            rejected = ERRORS.get(error_class, (None, _CONFIG_MESSAGE))[1] == _CONFIG_MESSAGE
            error = InvalidConfiguration(message, request_id=request_id, credentials_rejected=rejected)
        elif error_type is MFARequired:
            # An interactive bank takes the code in Salt Edge Connect only, which Update Credentials opens.
            error = MFARequired(message, request_id=request_id, update_credentials=True)
        else:
            error = error_type(message, request_id=request_id)
        error.error_class = error_class
        return error

    @staticmethod
    def _seconds_until(moment):
        """Seconds from now until an ISO datetime, or None when it cannot be read."""
        try:
            return max(0.0, (parse_datetime(moment) - utcnow()).total_seconds()) if moment else None
        except MalformedResponse:
            return None

    @staticmethod
    def _int(value):
        try:
            return int(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            return None

    @staticmethod
    def _add_query(url, **params):
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
        return urlunsplit(parts._replace(query=urlencode(query)))

