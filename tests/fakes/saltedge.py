"""A fake Salt Edge Account Information API v5 on 127.0.0.1.

Built against Salt Edge's Account Information API v5, from the documentation
of a client generated from Salt Edge's v5 Swagger description
(github.com/ltowarek/budget-supervisor, ``third_party/saltedge/docs``, commit
8147faf): ``POST /connect_sessions/create|reconnect|refresh``, ``DELETE
/customers/{customer_id}`` ("deletes a customer ... revokes all consents"),
``DELETE /connections/{id}`` ("removes a connection ... and revokes the
consent; all the associated accounts and transactions ... will be destroyed"),
``PUT /connections/{id}/refresh`` (only with an active consent; answers
``next_refresh_possible_at``), ``GET /transactions`` (``connection_id``
required, ``account_id``, ``from_id``) and ``GET /transactions/pending``;
error classes and statuses as summarised, with their sources, in the shared
Salt Edge sheet (v5 reference at docs.saltedge.com/account_information/v5).

It serves the routes the Salt Edge connector uses, under ``/api/v5``, with
Salt Edge's ``{"data": ..., "meta": {"next_id": ...}}`` envelopes and
``from_id`` pagination, its ``{"error": {"class": ...}}`` errors, the
``App-id``/``Secret`` headers and RSA request signatures (``Expires-at``,
``Signature``) checked against the public key of a key pair generated here,
and a hosted Salt Edge Connect page at ``/connect`` that redirects to
``return_to`` with ``connection_id``.

Like Salt Edge, the fake keeps the bank data it fetched: the account and
transaction lists keep answering when the bank is down or the consent has
ended; those show on the connection (``status``, ``last_attempt``) and on
refresh requests. HTTP statuses of the error classes follow Salt Edge's
documented groups (400/401/404/406/409/429); the connector maps by class.

A connection removed at Salt Edge (``remove_connection``, ``DELETE``) is gone:
reconnecting it answers ``ConnectionNotFound`` and only a new connection
works, whose accounts and transactions get new ids.

Guessed, not confirmed by a primary source: the error class of an unknown
route (``RouteNotFound``, 404) and of a user who cancels in Salt Edge Connect
(``ProviderAccessNotGranted`` appended to ``return_to`` as ``error_class``);
the ``X-Request-Id`` answer header; the body of ``DELETE /customers/{id}``
(``{"data": {"deleted": true, "id": ...}}``); that a consent's ``from_date``
is moved forward when the bank keeps less history (``limit_history``); that
the accounts and transactions of a new connection (the old ones are destroyed
with their connection, as documented) get new ids.
"""
import base64
import random
import secrets
import threading
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .server import FakeAggregator, FakeBankControls, route

API = "/api/v5"
PAGE_SIZE = 10
PROVIDER_PAGE_SIZE = 2
RETRIES = 2
#: Time Salt Edge makes a connection wait between two refreshes, in the fake.
REFRESH_INTERVAL = timedelta(hours=1)
CONSENT_DAYS = 90
DOCS_URL = "https://docs.saltedge.com/account_information/v5/#errors"

ERROR_STATUS = {
    "AppIdNotProvided": 400, "SecretNotProvided": 400, "MissingExpiresAt": 400, "MissingSignature": 400,
    "ExpiresAtInvalid": 400, "RequestExpired": 400, "WrongRequestFormat": 400, "JsonParseError": 400,
    "ApiKeyNotFound": 401, "SignatureNotMatch": 401,
    "AccountNotFound": 404, "ConnectionNotFound": 404, "CustomerNotFound": 404, "ProviderNotFound": 404,
    "AispConsentExpired": 406, "ConnectionCannotBeRefreshed": 406, "ProviderDisabled": 406,
    "DuplicatedCustomer": 409,
    "RateLimitExceeded": 429,
}

PROVIDERS = (
    # code, name, country, mode, interactive, max_fetch_interval, status
    ("fakebank_simple_xf", "Fakebank Simple", "XF", "web", False, 365, "active"),
    ("fakebank_interactive_xf", "Fakebank Interactive", "XF", "web", True, 365, "active"),
    ("fake_oauth_client_xf", "Fake OAuth Client Bank", "XF", "oauth", False, 90, "active"),
    ("fakebank_inactive_xf", "Fakebank Inactive", "XF", "web", False, 90, "inactive"),
    ("kbc_business_be", "KBC Business", "BE", "oauth", False, 730, "active"),
    ("belfius_be", "Belfius Bank", "BE", "oauth", False, 540, "active"),
    ("ing_be", "ING Belgium", "BE", "oauth", False, 730, "active"),
)

ACCOUNTS = (
    # id, name, nature, currency, IBAN, holder
    ("222222222222222201", "Business current account", "checking", "EUR", "BE68539007547034", "Example SRL"),
    ("222222222222222202", "USD operating account", "checking", "USD", "BE62510007547061", "Example SRL"),
)

COUNTERPARTIES = (
    # name, IBAN or "", sign, low, high, description
    ("Acme Trading SA", "BE71096123456769", 1, 300, 2500, "SEPA credit Acme Trading SA INV/{ref}"),
    ("Bureau Supplies NV", "NL91ABNA0417164300", -1, 20, 400, "SEPA transfer Bureau Supplies NV Order {ref}"),
    ("Contoso Energy", "FR1420041010050500013M02606", -1, 60, 380, "Direct debit Contoso Energy {ref}"),
    ("City Parking", "", -1, 3, 40, "Card payment City Parking"),
    ("Fabrikam GmbH", "DE89370400440532013000", 1, 120, 1900, "SEPA credit Fabrikam GmbH order {ref}"),
)


def _now():
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def _stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def api(method, pattern, data_call=False):
    """Register a Salt Edge API route: credentials and signature checked, request id header added.

    ``data_call`` routes are the ones a rate limit refuses.
    """
    def decorator(function):
        def handler(self, request, **kwargs):
            answer = self._authenticate(request)
            if answer is None and data_call and self._rate_limited:
                self._rate_limited -= 1
                answer = self._error("RateLimitExceeded", "Too many requests, try again later.",
                                     headers={"Retry-After": str(self._retry_after)})
            if answer is None:
                answer = function(self, request, **kwargs)
            return self._with_request_id(*answer)
        return route(method, API + pattern)(handler)
    return decorator


class FakeSaltEdge(FakeAggregator, FakeBankControls):
    """Salt Edge with one bank user: two accounts (EUR, USD) at ``fakebank_simple_xf``."""

    provider_code = "saltedge"
    institution_id = "fakebank_simple_xf"

    def __init__(self, require_signature=True):
        super().__init__()
        self.app_id = "fake-app-" + secrets.token_hex(6)
        self.secret = "fake-secret-" + secrets.token_hex(12)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption(),
        ).decode()
        self.public_key = key.public_key()
        self.require_signature = require_signature
        self.customers = {}
        self.sessions = {}
        self.connections = {}
        self.consents = {}
        self.accounts = {}
        self.transactions = {}
        self.pending = {}
        self.refresh_count = 0
        self.last_request_id = None
        self._next_id = 444444444444440001
        self._local = threading.local()
        self._rate_limited = 0
        self._retry_after = 0
        self._down = False
        self._consent_expired = False
        self._break_next_page = False
        self._revoked = False
        self._cancel_next = False
        self._history_days = None
        self.removed_customers = []
        self._seed()

    # seeded bank data ----------------------------------------------------------

    def _new_id(self):
        self._next_id += 1
        return str(self._next_id)

    def _seed(self):
        today = date.today()
        rng = random.Random(5531)
        for account_id, name, nature, currency, iban, holder in ACCOUNTS:
            self.accounts[account_id] = {
                "id": account_id, "connection_id": None, "name": name, "nature": nature,
                "balance": 0.0, "currency_code": currency,
                "extra": {"iban": iban, "swift": "GKCCBEBB", "client_name": holder, "account_name": name},
                "created_at": _stamp(_now()), "updated_at": _stamp(_now()),
            }
            self.transactions[account_id] = []
            self.pending[account_id] = []
            rows = []
            for index in range(40):
                made_on = today - timedelta(days=rng.randint(2, 100))
                name_cp, iban_cp, sign, low, high, label = rng.choice(COUNTERPARTIES)
                amount = Decimal(rng.randint(low * 100, high * 100)) / 100 * sign
                rows.append((made_on, amount, name_cp, iban_cp, label.format(ref=f"{made_on:%Y}/{index:04d}"), {}))
            if currency == "EUR":
                self.known = (today - timedelta(days=30), Decimal("-45.30"), "Bureau Supplies NV",
                              "NL91ABNA0417164300", "SEPA transfer Bureau Supplies NV Order 5531",
                              {"information": "Order 5531", "end_to_end_id": "NOTPROVIDED"})
                rows.append(self.known)
                rows.append((today - timedelta(days=12), Decimal("-85.10"), "Northwind Traders Ltd", "",
                             "Card payment Northwind London",
                             {"original_amount": 72.45, "original_currency_code": "GBP", "exchange_rate": 0.8513}))
            for made_on, amount, name_cp, iban_cp, label, extra in sorted(rows, key=lambda row: row[0]):
                row_id = self._add_row(account_id, amount, made_on, False, name_cp, iban_cp, label, extra)
                if extra.get("information") == "Order 5531":
                    self.known_transaction_id = row_id
            for days in (1, 0):
                self._add_row(account_id, Decimal("-12.50") - days, today - timedelta(days=days), True,
                              "City Parking", "", "Card payment City Parking", {})

    def _add_row(self, account_id, amount, made_on, pending, name="", iban="", label="", extra=None):
        row_id = self._new_id()
        account = self.accounts[account_id]
        outgoing = amount < 0
        extra = dict(extra or {})
        extra.setdefault("id", f"{made_on:%Y%m%d}{row_id[-8:]}")
        if name:
            extra["payee_information" if outgoing else "payer_information"] = name
        if iban:
            extra["payee" if outgoing else "payer"] = iban
        if not pending:
            extra["posting_date"] = min(made_on + timedelta(days=1), date.today()).isoformat()
        row = {
            "id": row_id, "account_id": account_id, "duplicated": False, "mode": "normal",
            "status": "pending" if pending else "posted", "made_on": made_on.isoformat(),
            "amount": float(amount), "currency_code": account["currency_code"], "description": label,
            "category": "business_services", "extra": extra,
            "created_at": _stamp(_now()), "updated_at": _stamp(_now()),
        }
        (self.pending if pending else self.transactions)[account_id].append(row)
        if not pending:
            account["balance"] = round(account["balance"] + float(amount), 2)
        return row_id

    # FakeBankControls --------------------------------------------------------------

    def provider_config(self):
        return {
            "environment": "sandbox", "base_url": self.url + API,
            "client_id": self.app_id, "client_secret": self.secret, "private_key": self.private_key_pem,
            "timeout": 2, "retries": RETRIES, "backoff": 0.01,
        }

    def consent(self, consent_url):
        response = requests.get(consent_url, allow_redirects=False, timeout=5)
        assert response.status_code == 302, response.text
        return dict(parse_qsl(urlsplit(response.headers["Location"]).query))

    def account_ids(self):
        return list(self.accounts)

    def posted_ids(self, account_id):
        return [row["id"] for row in self.transactions[account_id]]

    def add_transaction(self, account_id, amount, booking_date, pending=False):
        return self._add_row(account_id, Decimal(amount), booking_date, pending, "Globex Corporation",
                             "GB29NWBK60161331926819", "Transfer Globex Corporation")

    def post_pending(self):
        """Salt Edge replaces pending rows by new booked rows with their own ids on the next fetch."""
        for account_id, rows in self.pending.items():
            self.pending[account_id] = []
            for row in rows:
                extra = {key: value for key, value in row["extra"].items()
                         if key not in ("id", "payee", "payer", "payee_information", "payer_information")}
                self._add_row(account_id, Decimal(str(row["amount"])), date.fromisoformat(row["made_on"]), False,
                              "City Parking", "", row["description"], extra)

    def expire_consent(self):
        self._consent_expired = True
        for consent in self.consents.values():
            consent["expires_at"] = _stamp(_now() - timedelta(minutes=1))
        for connection in self.connections.values():
            connection["status"] = "inactive"
            self._attempt(connection, "AispConsentExpired", "The consent has expired.")

    def expire_access_token(self):
        """Salt Edge has no access token; what expires is the data: the connection becomes due for a refresh."""
        for connection in self.connections.values():
            connection["next_refresh_possible_at"] = _stamp(_now() - timedelta(minutes=1))

    def rate_limit(self, retry_after=0):
        """The next data call, retries included, is refused with 429 ``RateLimitExceeded``."""
        self._rate_limited = RETRIES + 1
        self._retry_after = retry_after

    def go_down(self):
        """The bank is unavailable: the connection's last fetch attempt failed with ``ProviderUnavailable``."""
        self._down = True
        for connection in self.connections.values():
            self._attempt(connection, "ProviderUnavailable", "The provider is temporarily unavailable.")

    def come_back(self):
        self._down = False
        for connection in self.connections.values():
            if connection["status"] == "active":
                self._attempt(connection)

    def break_next_transactions_page(self):
        self._break_next_page = True

    def remove_connection(self):
        """The connection is removed at Salt Edge (by the user in their dashboard, or after long inactivity)."""
        for connection in self.connections.values():
            connection["removed"] = True

    def cancel_next_consent(self):
        """The user cancels on the next Salt Edge Connect page."""
        self._cancel_next = True

    def limit_history(self, days):
        """The bank gives only the last ``days`` days: consents start from then, whatever was asked."""
        self._history_days = days

    def not_found(self, request):
        return self._with_request_id(*self._error("RouteNotFound", f"Route {request.path} was not found.",
                                                  status=404))

    @property
    def revoked(self):
        return self._revoked

    # plumbing ------------------------------------------------------------------

    def _dispatch(self, handler):
        self._local.raw_path = handler.path  # the signature covers the URL exactly as sent
        return super()._dispatch(handler)

    def _with_request_id(self, status, body=None, headers=None):
        self.last_request_id = "req-" + secrets.token_hex(8)
        return status, body, {"X-Request-Id": self.last_request_id, **(headers or {})}

    @staticmethod
    def _error(error_class, message, request=None, headers=None, status=None, **fields):
        body = {"error": {"class": error_class, "message": message,
                          "documentation_url": f"{DOCS_URL}-{error_class.lower()}", **fields},
                "request": request or {}}
        return status or ERROR_STATUS.get(error_class, 400), body, headers

    def _authenticate(self, request):
        app_id, secret = request.headers.get("App-id"), request.headers.get("Secret")
        if not app_id:
            return self._error("AppIdNotProvided", "App-id is missing.")
        if not secret:
            return self._error("SecretNotProvided", "Secret is missing.")
        if (app_id, secret) != (self.app_id, self.secret):
            return self._error("ApiKeyNotFound", "API key with such App-id and Secret was not found.")
        if not self.require_signature:
            return None
        expires_at, signature = request.headers.get("Expires-at"), request.headers.get("Signature")
        if not expires_at:
            return self._error("MissingExpiresAt", "Expires-at header is missing.")
        if not signature:
            return self._error("MissingSignature", "Signature header is missing.")
        try:
            expires = int(expires_at)
        except ValueError:
            return self._error("ExpiresAtInvalid", "Expires-at is not a timestamp.")
        if expires > time.time() + 3600:
            return self._error("ExpiresAtInvalid", "Expires-at is more than one hour ahead.")
        if expires < time.time():
            return self._error("RequestExpired", "The request has expired.")
        url = f"http://{request.headers.get('Host')}{self._local.raw_path}"
        message = f"{expires_at}|{request.method}|{url}|{request.body.decode()}".encode()
        try:
            self.public_key.verify(base64.b64decode(signature), message, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return self._error("SignatureNotMatch", "Signature does not match.")
        return None

    @staticmethod
    def _data(request):
        """The ``data`` object of a JSON body, or None when the body is not Salt Edge's envelope."""
        try:
            data = request.json().get("data")
        except (ValueError, AttributeError):
            return None
        return data if isinstance(data, dict) else None

    def _page(self, rows, request, path, size=PAGE_SIZE):
        from_id = request.arg("from_id")
        if from_id:
            rows = [row for row in rows if int(row["id"]) >= int(from_id)]
        page, rest = rows[:size], rows[size:]
        meta = {"next_id": None, "next_page": None}
        if rest:
            query = {key: values[0] for key, values in request.query.items()}
            meta = {"next_id": rest[0]["id"],
                    "next_page": f"{API}/{path}?{urlencode(dict(query, from_id=rest[0]['id']))}"}
        return 200, {"data": page, "meta": meta}

    def _attempt(self, connection, fail_class=None, fail_message=None):
        now = _stamp(_now())
        connection["last_attempt"] = {
            "id": self._new_id(), "api_mode": "service", "api_version": "5", "automatic_fetch": True,
            "daily_refresh": True, "fetch_scopes": ["accounts", "transactions"], "finished": True,
            "finished_recent": True, "interactive": False, "locale": "en", "partial": False,
            "fail_at": now if fail_class else None, "fail_error_class": fail_class, "fail_message": fail_message,
            "success_at": None if fail_class else now, "created_at": now, "updated_at": now,
            "last_stage": {"name": "finish", "created_at": now, "updated_at": now},
        }
        if not fail_class:
            connection["last_success_at"] = now

    def _live_connection(self, connection_id):
        connection = self.connections.get(connection_id or "")
        if not connection or connection.get("removed"):
            return None
        return connection

    def _not_found(self, what, value):
        return self._error(f"{what}NotFound", f"{what} with id: '{value}' was not found.")

    # routes: providers and customers -----------------------------------------------

    @api("GET", "/providers")
    def _providers(self, request):
        country = request.arg("country_code")
        fakes = request.arg("include_fake_providers") == "true"
        rows = [
            self._provider_json(index, provider) for index, provider in enumerate(PROVIDERS, start=1)
            if (not country or provider[2] == country) and (fakes or provider[2] != "XF")
        ]
        return self._page(rows, request, "providers", PROVIDER_PAGE_SIZE)

    @api("GET", "/providers/(?P<code>[^/]+)")
    def _provider(self, request, code):
        for index, provider in enumerate(PROVIDERS, start=1):
            if provider[0] == code:
                return 200, {"data": self._provider_json(index, provider)}
        return self._error("ProviderNotFound", f"Provider with code: '{code}' was not found.")

    @staticmethod
    def _provider_json(index, provider):
        code, name, country, mode, interactive, max_fetch, status = provider
        return {
            "id": str(index), "code": code, "name": name, "mode": mode, "status": status,
            "automatic_fetch": True, "interactive": interactive, "optional_interactivity": False,
            "instruction": "", "home_url": "https://example.com", "login_url": "https://example.com/login",
            "logo_url": f"https://d1uuj3mi6rzwpm.cloudfront.net/logos/providers/xf/{code}.svg",
            "country_code": country, "timezone": "UTC", "regulated": mode == "oauth",
            "max_consent_days": CONSENT_DAYS, "max_fetch_interval": max_fetch, "max_interactive_delay": 480,
            "supported_fetch_scopes": ["accounts", "transactions"], "holder_info": ["names"],
            "created_at": "2020-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
        }

    @api("POST", "/customers")
    def _create_customer(self, request):
        data = self._data(request)
        if not data or not data.get("identifier"):
            return self._error("WrongRequestFormat", "Identifier is missing.")
        if any(c["identifier"] == data["identifier"] for c in self.customers.values()):
            return self._error("DuplicatedCustomer", "Customer with such identifier already exists.")
        customer = {"id": self._new_id(), "identifier": data["identifier"], "secret": secrets.token_urlsafe(24),
                    "blocked_at": None, "created_at": _stamp(_now()), "updated_at": _stamp(_now())}
        self.customers[customer["id"]] = customer
        return 200, {"data": customer}

    @api("DELETE", "/customers/(?P<customer_id>[0-9]+)")
    def _remove_customer(self, request, customer_id):
        if customer_id not in self.customers:
            return self._not_found("Customer", customer_id)
        del self.customers[customer_id]
        for connection in self.connections.values():
            if connection["customer_id"] == customer_id:
                connection["removed"] = True
        self.removed_customers.append(customer_id)
        return 200, {"data": {"deleted": True, "id": customer_id}}

    # routes: Salt Edge Connect -------------------------------------------------------

    @api("POST", "/connect_sessions/create")
    def _connect_create(self, request):
        data = self._data(request)
        if not data or not isinstance(data.get("consent"), dict) or not data["consent"].get("scopes"):
            return self._error("WrongRequestFormat", "Consent scopes are missing.")
        if int(data["consent"].get("period_days") or 0) > CONSENT_DAYS:
            return self._error("WrongRequestFormat", "Consent period_days exceeds the provider's max_consent_days.")
        if data.get("customer_id") not in self.customers:
            return self._not_found("Customer", data.get("customer_id"))
        provider = next((p for p in PROVIDERS if p[0] == data.get("provider_code")), None)
        if not provider:
            return self._error("ProviderNotFound", "Provider was not found.")
        if provider[2] == "XF" and not data.get("include_fake_providers"):
            return self._error("ProviderDisabled", "Fake providers are not included.")
        return self._session(data, customer_id=data["customer_id"], provider_code=provider[0])

    @api("POST", "/connect_sessions/reconnect")
    def _connect_reconnect(self, request):
        data = self._data(request)
        if not data or not isinstance(data.get("consent"), dict) or not data["consent"].get("scopes"):
            return self._error("WrongRequestFormat", "Consent scopes are missing.")
        connection = self._live_connection(data.get("connection_id"))
        if not connection:
            return self._not_found("Connection", data.get("connection_id"))
        return self._session(data, customer_id=connection["customer_id"],
                             provider_code=connection["provider_code"], connection_id=connection["id"])

    def _session(self, data, **target):
        attempt = data.get("attempt") or {}
        if not str(attempt.get("return_to") or "").startswith(("http://", "https://")):
            return self._error("ReturnURLInvalid", "The return_to URL is invalid.")
        token = secrets.token_urlsafe(24)
        self.sessions[token] = dict(target, return_to=attempt["return_to"], data=data)
        expires_at = _stamp(_now() + timedelta(hours=1))
        return 200, {"data": {"expires_at": expires_at, "connect_url": f"{self.url}/connect?token={token}"}}

    @route("GET", "/connect")
    def _connect_page(self, request):
        """The user picks the bank, logs in and confirms: a connection is created or renewed."""
        session = self.sessions.pop(request.arg("token") or "", None)
        if not session:
            return 404, "<html><body>This Connect session has expired.</body></html>"
        parts = urlsplit(session["return_to"])
        query = parse_qsl(parts.query, keep_blank_values=True)
        if self._cancel_next:
            self._cancel_next = False
            if session["data"].get("return_error_class"):
                query.append(("error_class", "ProviderAccessNotGranted"))
            return 302, "", {"Location": urlunsplit(parts._replace(query=urlencode(query)))}
        connection = self.connections.get(session.get("connection_id") or "")
        if connection is None:
            connection = {
                "id": self._new_id(), "customer_id": session["customer_id"],
                "provider_code": session["provider_code"],
                "provider_name": next(p[1] for p in PROVIDERS if p[0] == session["provider_code"]),
                "country_code": "XF", "categorization": "personal", "store_credentials": True,
                "created_at": _stamp(_now()), "show_consent_confirmation": False,
            }
            self.connections[connection["id"]] = connection
            self._attach_accounts(connection["id"])
        from_date = session["data"]["consent"].get("from_date")
        if self._history_days and from_date:
            from_date = max(from_date, (date.today() - timedelta(days=self._history_days)).isoformat())
        # Without ``period_days`` the consent lasts the provider's ``max_consent_days``.
        period = session["data"]["consent"].get("period_days") or CONSENT_DAYS
        consent = {
            "id": self._new_id(), "connection_id": connection["id"], "customer_id": connection["customer_id"],
            "scopes": session["data"]["consent"]["scopes"], "period_days": period,
            "from_date": from_date, "to_date": None,
            "expires_at": _stamp(_now() + timedelta(days=period)), "collected_by": "client",
            "revoked_at": None, "revoke_reason": None, "created_at": _stamp(_now()), "updated_at": _stamp(_now()),
        }
        self.consents[consent["id"]] = consent
        self._consent_expired = False
        connection.update(status="active", last_consent_id=consent["id"], daily_refresh=True,
                          next_refresh_possible_at=_stamp(_now() + REFRESH_INTERVAL), updated_at=_stamp(_now()))
        self._attempt(connection)
        if session["data"].get("return_connection_id"):
            query.append(("connection_id", connection["id"]))
        return 302, "", {"Location": urlunsplit(parts._replace(query=urlencode(query)))}

    def _attach_accounts(self, connection_id):
        """Give the bank's accounts to a new connection; after an earlier one, under new ids, as new records."""
        for old_id in list(self.accounts):
            account = self.accounts[old_id]
            if account["connection_id"] is None:
                account["connection_id"] = connection_id
                continue
            new_id = self._new_id()
            self.accounts[new_id] = dict(self.accounts.pop(old_id), id=new_id, connection_id=connection_id)
            for store in (self.transactions, self.pending):
                store[new_id] = [dict(row, id=self._new_id(), account_id=new_id) for row in store.pop(old_id)]

    # routes: connections and consents --------------------------------------------------

    @api("GET", "/connections/(?P<connection_id>[0-9]+)", data_call=True)
    def _connection(self, request, connection_id):
        connection = self._live_connection(connection_id)
        if not connection:
            return self._not_found("Connection", connection_id)
        return 200, {"data": {key: value for key, value in connection.items() if key != "removed"}}

    @api("PUT", "/connections/(?P<connection_id>[0-9]+)/refresh")
    def _refresh(self, request, connection_id):
        connection = self._live_connection(connection_id)
        if not connection:
            return self._not_found("Connection", connection_id)
        if self._consent_expired:
            return self._error("AispConsentExpired", "Refresh is not possible because the consent has expired.")
        next_possible = connection["next_refresh_possible_at"]
        if next_possible and next_possible > _stamp(_now()):
            return self._error("ConnectionCannotBeRefreshed", "Connection cannot be refreshed right now.",
                               next_refresh_possible_at=next_possible)
        self.refresh_count += 1
        if self._down:
            self._attempt(connection, "ProviderUnavailable", "The provider is temporarily unavailable.")
        else:
            self._attempt(connection)
        connection["next_refresh_possible_at"] = _stamp(_now() + REFRESH_INTERVAL)
        return 200, {"data": {key: value for key, value in connection.items() if key != "removed"}}

    @api("DELETE", "/connections/(?P<connection_id>[0-9]+)")
    def _remove(self, request, connection_id):
        connection = self._live_connection(connection_id)
        if not connection:
            return self._not_found("Connection", connection_id)
        connection["removed"] = True
        self._revoked = True
        return 200, {"data": {"removed": True, "id": connection_id}}

    @api("GET", "/consents")
    def _consents(self, request):
        connection_id = request.arg("connection_id")
        if not self._live_connection(connection_id):
            return self._not_found("Connection", connection_id)
        rows = [consent for consent in self.consents.values() if consent["connection_id"] == connection_id]
        return self._page(rows, request, "consents")

    # routes: accounts and transactions ---------------------------------------------------

    @api("GET", "/accounts", data_call=True)
    def _accounts(self, request):
        connection_id = request.arg("connection_id")
        if not connection_id:
            return self._error("WrongRequestFormat", "connection_id is missing.")
        if not self._live_connection(connection_id):
            return self._not_found("Connection", connection_id)
        rows = [account for account in self.accounts.values() if account["connection_id"] == connection_id]
        return self._page(rows, request, "accounts")

    @api("GET", "/transactions", data_call=True)
    def _transactions(self, request):
        return self._transaction_list(request, self.transactions, "transactions")

    @api("GET", "/transactions/pending", data_call=True)
    def _pending_transactions(self, request):
        return self._transaction_list(request, self.pending, "transactions/pending")

    def _transaction_list(self, request, store, path):
        connection_id, account_id = request.arg("connection_id"), request.arg("account_id")
        if not connection_id:
            return self._error("WrongRequestFormat", "connection_id is missing.")
        if not self._live_connection(connection_id):
            return self._not_found("Connection", connection_id)
        account = self.accounts.get(account_id or "")
        if account_id and (not account or account["connection_id"] != connection_id):
            return self._not_found("Account", account_id)
        rows = [row for key, rows in store.items() if not account_id or key == account_id for row in rows]
        status, body = self._page(sorted(rows, key=lambda row: int(row["id"])), request, path)
        if self._break_next_page and body["data"]:
            self._break_next_page = False
            body["data"] = [dict(row) for row in body["data"]]
            del body["data"][0]["amount"]
        return status, body
