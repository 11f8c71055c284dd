"""A fake Ponto (Ibanity) API: OAuth2 token endpoint, consent pages and the JSON:API account data.

Built against (Ponto Connect API as published in August 2026):

* Ibanity's Postman collection ``Ibanity Ponto-Connect.postman_collection.json``
  (github.com/ibanity/ibanity-postman-collections, commit ab9bec3, 2026-08-11):
  the routes, the OAuth2 grants and their form fields (authorization code with
  PKCE, refresh token, client credentials), ``POST /oauth2/revoke`` with the
  refresh token, ``POST /accounts/{id}/reauthorization-requests`` with
  ``data.type = reauthorizationRequest`` and ``attributes.redirectUri``;
* Ibanity's .NET client (github.com/ibanity/ibanity-dotnet,
  ``src/Client/Products/PontoConnect/Models/*.cs``): the attributes of
  accounts (``authorizedAt``, ``authorizationExpirationExpectedAt``), of
  transactions and pending transactions, of synchronizations (``status``,
  ``errors``) and of reauthorization requests (``links.redirect``);
* the documentation generated from Ponto Connect's OpenAPI v2 (docs.rs
  ``pontoconnect_rs`` 2.0.3, as summarised in the shared Ponto sheet): JSON:API
  documents, cursor paging with ``page[limit]`` (1 to 100, default 10),
  ``page[after]``/``page[before]``, newest first, ``links.next``; errors as
  ``{"errors": [{"code", "detail", "meta": {"requestId"}}]}``; the
  ``ibanity-request-id`` answer header;
* RFC 6749 section 6 and the .NET client's token provider: a refresh token
  rotates on every use, the old one is refused once the new one is issued.

One organisation with two bank accounts at two banks (EUR at the first, USD
at the second), each bank with its own authorization: a reauthorization
request renews the authorization of its account's bank only; Ponto's
authorization page (a new consent) renews them all. Transactions are listed
newest first, ten at most per page whatever ``page[limit]`` asks (to exercise
paging); the older ``limit``/``after`` names are accepted too, as the Postman
collection still sends ``limit``. Pending transactions have their own list
and are booked under a new id.

Guessed, not confirmed by a primary source: the error code and detail of an
unknown route (``routeNotFound``, 404) and of a bank authorization that ended
(synchronization error ``authorizationInvalid``); the 429 answer with a
``Retry-After`` header; access tokens living 1,799 seconds; the hosted
reauthorization page (``/reauthorize/<id>``) redirecting straight back; that a
user who refuses on the authorization page is sent back with RFC 6749's
``error=access_denied`` (section 4.1.2.1), as Ponto's pages were not read.
"""
import base64
import hashlib
import random
import secrets
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from .server import FakeAggregator, FakeBankControls, route

PAGE_SIZE = 10
TOKEN_LIFETIME = 1799
NAMESPACE = uuid.UUID("6f1c3a52-7d0e-4b8f-9a51-2c4d6e8f0a1b")
INSTITUTION_ID = "953934eb-229a-4fd2-8675-07794078cc7d"
INSTITUTIONS = (
    (INSTITUTION_ID, "Sandbox Bank Belgium", "BE", "live", False),
    ("0a5c1c9e-71a3-4b2f-9c1e-2d8f7a6b5c41", "KBC Sandbox", "BE", "live", False),
    ("1b6d2dae-82b4-4c3f-8d2f-3e9f8b7c6d52", "Belfius Sandbox", "BE", "live", False),
    ("2c7e3ebf-93c5-4d40-9e3f-4fa09c8d7e63", "ING Belgium Sandbox", "BE", "live", False),
    ("3d8f4fc0-a4d6-4e51-8f4f-50b1ad9e8f74", "BNP Paribas Fortis Sandbox", "BE", "live", False),
    ("4e905fd1-b5e7-4f62-905f-61c2beaf9f85", "Argenta Sandbox", "BE", "beta", False),
    ("5fa16fe2-c6f8-4073-8160-72d3cfb0a096", "Old Savings Bank", "BE", "live", True),
    ("60b27ff3-d709-4184-9271-83e4d0c1b1a7", "ABN AMRO Sandbox", "NL", "live", False),
    ("71c38004-e81a-4295-a382-94f5e1d2c2b8", "ING Nederland Sandbox", "NL", "live", False),
    ("82d49115-f92b-43a6-b493-a506f2e3d3c9", "Rabobank Sandbox", "NL", "beta", False),
    ("93e5a226-0a3c-44b7-85a4-b617a3f4e4da", "BNP Paribas France Sandbox", "FR", "live", False),
    ("a4f6b337-1b4d-45c8-96b5-c728b4a5f5eb", "Deutsche Bank Sandbox", "DE", "live", False),
)
ACCOUNTS = (
    ("2ad3df83-be01-47cf-a6be-cf0de5cb4c99", "BE68539007547034", "Compte courant", "Business Account", "EUR"),
    ("7f0e4c1a-3b2d-4e5f-8a9b-0c1d2e3f4a5b", "BE62510007547061", "USD account", "Foreign Currency Account", "USD"),
)
#: The bank of each account: each bank authorization is given, and ends, on its own.
ACCOUNT_BANKS = {ACCOUNTS[0][0]: INSTITUTION_ID, ACCOUNTS[1][0]: INSTITUTIONS[1][0]}
#: Largest ``page[limit]`` Ponto accepts.
MAX_PAGE_LIMIT = 100
COUNTERPARTIES = (
    ("Acme Trading SA", "BE71096123456769", "Virement SEPA recu", 1),
    ("Bureau Supplies NV", "NL91ABNA0417164300", "Virement SEPA emis", -1),
    ("Energie Plus SA", "BE45310180521289", "Domiciliation", -1),
    ("Fabrikam GmbH", "DE89370400440532013000", "Virement SEPA recu", 1),
    ("", "", "Frais bancaires", -1),
)


def _stamp(day):
    """Ponto's UTC timestamp of a bank calendar day."""
    return f"{day.isoformat()}T00:00:00.000Z"


def _iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _number(amount):
    """A JSON number, as Ponto sends amounts."""
    return float(amount)


class FakePonto(FakeAggregator, FakeBankControls):
    """Fake Ponto.

    ``provider_config()`` describes a custom integration,
    ``provider_config(ponto_connect=True)`` a Ponto Connect application.
    """

    provider_code = "ponto"
    institution_id = INSTITUTION_ID

    def __init__(self):
        super().__init__()
        self.client_id = "3b6fd4c2-5e7a-4f1b-9c8d-0a1b2c3d4e5f"
        self.client_secret = "ponto-secret-" + secrets.token_hex(8)
        self.access_tokens = {}  # token -> expiry (epoch seconds)
        self.refresh_tokens = set()
        self.codes = {}  # code -> (code_challenge, redirect_uri)
        self.reauthorizations = {}  # request id -> (redirect uri, bank id)
        self.revocations = []
        self._cancel_next = False
        self.down = False
        self._rate_limit = None  # (retry_after, answers left)
        self.last_request_id = None
        self._break_page = False
        #: Transaction id -> attribute values listed exactly as given (a str amount as a JSON string).
        self.as_is = {}
        self._repeated = set()
        today = date.today()
        authorized_at = datetime.combine(today - timedelta(days=10), datetime.min.time()).replace(hour=10)
        #: Bank id -> {"at": authorized at, "end": expected end, "errors": errors of Ponto's last refresh}.
        self.authorizations = {bank: {"at": authorized_at, "end": authorized_at + timedelta(days=90), "errors": []}
                               for bank in set(ACCOUNT_BANKS.values())}
        self.posted = {account_id: [] for account_id, *_rest in ACCOUNTS}
        self.pending = {account_id: [] for account_id, *_rest in ACCOUNTS}
        self._seed(today)

    # data ---------------------------------------------------------------------

    def _seed(self, today):
        rng = random.Random(4242)
        for account_id, _reference, _name, _product, currency in ACCOUNTS:
            for index in range(40):
                day = today - timedelta(days=1 + index * 99 // 40)
                self.posted[account_id].append(self._make(rng, account_id, currency, f"{account_id}:{index}", day))
            for index in range(2):
                day = today - timedelta(days=index)
                self.pending[account_id].append(self._make(rng, account_id, currency, f"{account_id}:p{index}", day))

    def _make(self, rng, account_id, currency, seed, day, amount=None):
        name, iban, description, sign = rng.choice(COUNTERPARTIES)
        if amount is None:
            amount = Decimal(rng.randint(500, 250000)) / 100 * sign
        structured = rng.random() < 0.3
        remittance = f"+++{rng.randint(100, 999)}/{rng.randint(1000, 9999)}/{rng.randint(10000, 99999)}+++" \
            if structured else f"Invoice {rng.randint(1000, 9999)}"
        created = datetime.combine(day, datetime.min.time()) + timedelta(hours=6, minutes=rng.randint(0, 59))
        return {
            "type": "transaction",
            "id": str(uuid.uuid5(NAMESPACE, seed)),
            "attributes": {
                "valueDate": _stamp(day - timedelta(days=rng.choice((0, 0, 1)))),
                "executionDate": _stamp(day),
                "amount": amount,
                "currency": currency,
                "counterpartName": name or None,
                "counterpartReference": iban or None,
                "description": description,
                "remittanceInformation": remittance,
                "remittanceInformationType": "structured" if structured else "unstructured",
                "endToEndId": f"E2E-{rng.randint(10000, 99999)}",
                "bankTransactionCode": "PMNT-RCDT-ESCT" if amount > 0 else "PMNT-ICDT-ESCT",
                "proprietaryBankTransactionCode": None, "purposeCode": None, "mandateId": None,
                "creditorId": None, "additionalInformation": None, "cardReference": None,
                "cardReferenceType": None, "fee": None,
                "digest": base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode(),
                "createdAt": _iso(created), "updatedAt": _iso(created),
            },
            "relationships": {"account": {"data": {"type": "account", "id": account_id}}},
        }

    @property
    def authorization_end(self):
        """When the first bank authorization of the organisation ends."""
        return min(authorization["end"] for authorization in self.authorizations.values())

    @staticmethod
    def _sorted(transactions):
        """Newest first, by execution date."""
        return sorted(transactions, key=lambda t: (t["attributes"]["executionDate"], t["attributes"]["createdAt"],
                                                   t["id"]), reverse=True)

    def _account_resource(self, account_id):
        _id, reference, name, product, currency = next(a for a in ACCOUNTS if a[0] == account_id)
        balance = sum((t["attributes"]["amount"] for t in self.posted[account_id]), Decimal("10000"))
        now = _iso(datetime.now(timezone.utc))
        authorization = self.authorizations[ACCOUNT_BANKS[account_id]]
        sync_status = "error" if authorization["errors"] else "success"
        return {
            "type": "account",
            "id": account_id,
            "attributes": {
                "reference": reference, "referenceType": "IBAN", "description": name, "product": product,
                "holderName": "Example SRL", "subtype": "checking", "currency": currency,
                "currentBalance": _number(balance), "currentBalanceReferenceDate": _stamp(date.today()),
                "currentBalanceChangedAt": now, "availableBalance": _number(balance),
                "availableBalanceReferenceDate": _stamp(date.today()), "availableBalanceChangedAt": now,
                "authorizedAt": _iso(authorization["at"]),
                "authorizationExpirationExpectedAt": _iso(authorization["end"]),
            },
            "meta": {
                "synchronizedAt": now, "availability": "available",
                "latestSynchronization": {
                    "type": "synchronization", "id": str(uuid.uuid5(NAMESPACE, f"sync:{account_id}")),
                    "attributes": {"resourceType": "account", "resourceId": account_id,
                                   "subtype": "accountTransactions", "status": sync_status,
                                   "errors": list(authorization["errors"]), "createdAt": now, "updatedAt": now},
                },
            },
            "relationships": {"financialInstitution": {"data": {"type": "financialInstitution",
                                                                 "id": ACCOUNT_BANKS[account_id]}}},
            "links": {"transactions": f"{self.url}/accounts/{account_id}/transactions"},
        }

    # answers --------------------------------------------------------------------

    @staticmethod
    def _request_id():
        return str(uuid.uuid4())

    def _answer(self, status, body):
        return status, body, {"ibanity-request-id": self._request_id()}

    def _error(self, status, code, detail, headers=None):
        request_id = self.last_request_id = self._request_id()
        body = {"errors": [{"code": code, "detail": detail, "meta": {"requestId": request_id}}]}
        return status, body, dict(headers or {}, **{"ibanity-request-id": request_id})

    def _oauth_error(self, status, error, description):
        return status, {"error": error, "error_description": description}, {"ibanity-request-id": self._request_id()}

    def _page(self, request, path, items, serialize):
        """A JSON:API page of ``items`` (already in order) with cursor paging on ids."""
        try:
            asked = int(request.arg("page[limit]") or request.arg("limit") or PAGE_SIZE)
        except ValueError:
            return self._error(400, "invalidParameter", "page[limit] must be a number.")
        if not 1 <= asked <= MAX_PAGE_LIMIT:
            return self._error(400, "invalidParameter", f"page[limit] must be between 1 and {MAX_PAGE_LIMIT}.")
        limit = min(asked, PAGE_SIZE)
        after = request.arg("page[after]") or request.arg("after")
        start = 0
        if after:
            ids = [item["id"] for item in items]
            if after not in ids:
                return self._error(400, "invalidParameter", "page[after] is not a known resource.")
            start = ids.index(after) + 1
        chunk = items[start:start + limit]
        body = {
            "data": [serialize(item) for item in chunk],
            "meta": {"paging": {"limit": limit, "after": after}},
            "links": {"first": f"{self.url}{path}?{urlencode({'page[limit]': limit})}"},
        }
        if start + limit < len(items) and chunk:
            body["links"]["next"] = f"{self.url}{path}?" + urlencode(
                {"page[after]": chunk[-1]["id"], "page[limit]": limit})
        return self._answer(200, body)

    def _client_authenticated(self, request):
        header = request.headers.get("Authorization") or ""
        if not header.startswith("Basic "):
            return False
        try:
            client_id, _sep, secret = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return client_id == self.client_id and secret == self.client_secret

    def _bearer_error(self, request):
        """The 401 answer for a missing, unknown or expired access token, or None."""
        header = request.headers.get("Authorization") or ""
        token = header[7:] if header.startswith("Bearer ") else None
        expiry = self.access_tokens.get(token)
        if expiry is None or expiry <= time.time():
            return self._error(401, "unauthorized", "The access token is invalid or expired.")
        return None

    def _data_guard(self, request):
        """Authentication and the injected conditions shared by every data call."""
        refused = self._bearer_error(request)
        if refused:
            return refused
        if self._rate_limit:
            retry_after, left = self._rate_limit
            self._rate_limit = (retry_after, left - 1) if left > 1 else None
            return self._error(429, "tooManyRequests", "Too many requests, please retry later.",
                               {"Retry-After": str(retry_after)})
        if self.down:
            return self._error(503, "serviceUnavailable", "The service is temporarily unavailable.")
        return None

    def _issue(self, with_refresh):
        token = "pct_" + secrets.token_urlsafe(24)
        self.access_tokens[token] = time.time() + TOKEN_LIFETIME
        body = {"access_token": token, "expires_in": TOKEN_LIFETIME, "scope": "ai", "token_type": "bearer"}
        if with_refresh:
            refresh = "pcr_" + secrets.token_urlsafe(24)
            self.refresh_tokens.add(refresh)
            body.update(refresh_token=refresh, scope="offline_access ai")
        return self._answer(200, body)

    # OAuth2 ---------------------------------------------------------------------

    @route("POST", "/oauth2/token")
    def token(self, request):
        if not self._client_authenticated(request):
            return self._oauth_error(401, "invalid_client", "Client authentication failed.")
        form = request.form()
        grant = form.get("grant_type")
        if grant in ("authorization_code", "refresh_token") and form.get("client_id") != self.client_id:
            # The Postman collection sends client_id with both grants.
            return self._oauth_error(400, "invalid_request", "client_id is missing or does not match.")
        if grant == "client_credentials":
            return self._issue(with_refresh=False)
        if grant == "authorization_code":
            challenge, redirect_uri = self.codes.pop(form.get("code"), (None, None))
            verifier = form.get("code_verifier") or ""
            computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if challenge is None or redirect_uri != form.get("redirect_uri") or computed != challenge:
                return self._oauth_error(400, "invalid_grant", "The authorization code is invalid.")
            return self._issue(with_refresh=True)
        if grant == "refresh_token":
            refresh = form.get("refresh_token")
            if refresh not in self.refresh_tokens:
                return self._oauth_error(400, "invalid_grant", "The refresh token is invalid.")
            self.refresh_tokens.discard(refresh)  # rotation: a refresh token serves once
            return self._issue(with_refresh=True)
        return self._oauth_error(400, "unsupported_grant_type", "The grant type is not supported.")

    @route("POST", "/oauth2/revoke")
    def revoke_token(self, request):
        if not self._client_authenticated(request):
            return self._oauth_error(401, "invalid_client", "Client authentication failed.")
        token = request.form().get("token")
        if token in self.refresh_tokens or token in self.access_tokens:
            self.revocations.append(token)
            self.refresh_tokens.clear()
            self.access_tokens.clear()
        return self._answer(200, "")

    @route("GET", "/oauth2/auth")
    def authorization_page(self, request):
        """The user logs in to Ponto, authorizes the bank and shares the accounts."""
        redirect_uri = request.arg("redirect_uri")
        if request.arg("client_id") != self.client_id or not redirect_uri:
            return 400, "Unknown client or missing redirect_uri."
        if request.arg("response_type") != "code" or request.arg("code_challenge_method") != "S256" \
                or not request.arg("code_challenge"):
            return self._redirect(redirect_uri, error="invalid_request", state=request.arg("state"))
        if self._cancel_next:
            self._cancel_next = False
            return self._redirect(redirect_uri, error="access_denied", state=request.arg("state"),
                                  error_description="The resource owner denied the request.")
        code = secrets.token_urlsafe(16)
        self.codes[code] = (request.arg("code_challenge"), redirect_uri)
        self._renew_authorization()
        return self._redirect(redirect_uri, code=code, scope=request.arg("scope"), state=request.arg("state"))

    @route("GET", "/reauthorize/(?P<request_id>[^/]+)")
    def reauthorization_page(self, request, request_id):
        """The user authenticates at the bank again; Ponto returns to the given redirect URI."""
        redirect_uri, bank = self.reauthorizations.pop(request_id, (None, None))
        if not redirect_uri:
            return 404, "Unknown reauthorization request."
        self._renew_authorization(bank)
        return 302, "", {"Location": redirect_uri}

    @staticmethod
    def _redirect(url, **params):
        parts = urlsplit(url)
        query = parse_qsl(parts.query) + [(key, value) for key, value in params.items() if value is not None]
        return 302, "", {"Location": urlunsplit(parts._replace(query=urlencode(query)))}

    def _renew_authorization(self, bank=None):
        """The user authenticates at one bank (``bank``) or at every bank of the organisation."""
        now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
        for bank_id, authorization in self.authorizations.items():
            if bank in (None, bank_id):
                authorization.update(at=now, end=now + timedelta(days=90), errors=[])

    def not_found(self, request):
        return self._error(404, "routeNotFound", "The requested route was not found.")

    # JSON:API -------------------------------------------------------------------

    @route("GET", "/financial-institutions")
    def financial_institutions(self, request):
        items = [{"id": fid, "name": name, "country": country, "status": status, "deprecated": deprecated}
                 for fid, name, country, status, deprecated in INSTITUTIONS]

        def serialize(item):
            return {"type": "financialInstitution", "id": item["id"], "attributes": {
                "name": item["name"], "bic": "GEBABEBB", "country": item["country"], "status": item["status"],
                "logoUrl": f"https://static.myponto.com/logos/{item['id']}.png",
                "primaryColor": "#00a0e1", "secondaryColor": "#ffffff", "deprecated": item["deprecated"],
                "maintenanceType": None, "maintenanceFrom": None, "maintenanceTo": None,
                "sharedBrandName": None, "sharedBrandReference": None, "timeZone": "Europe/Brussels",
            }}
        return self._page(request, "/financial-institutions", items, serialize)

    @route("GET", "/accounts")
    def accounts(self, request):
        refused = self._data_guard(request)
        if refused:
            return refused
        items = [{"id": account_id} for account_id, *_rest in ACCOUNTS]
        return self._page(request, "/accounts", items, lambda item: self._account_resource(item["id"]))

    @route("GET", "/accounts/(?P<account_id>[^/]+)")
    def account(self, request, account_id):
        refused = self._data_guard(request)
        if refused:
            return refused
        if account_id not in self.posted:
            return self._error(404, "resourceNotFound", "The requested resource was not found.")
        return self._answer(200, {"data": self._account_resource(account_id)})

    @route("GET", "/accounts/(?P<account_id>[^/]+)/(?P<kind>transactions|pending-transactions)")
    def transactions(self, request, account_id, kind):
        refused = self._data_guard(request)
        if refused:
            return refused
        if account_id not in self.posted:
            return self._error(404, "resourceNotFound", "The requested resource was not found.")
        items = self._sorted((self.posted if kind == "transactions" else self.pending)[account_id])

        def serialize(item):
            attributes = dict(item["attributes"], amount=_number(item["attributes"]["amount"]))
            attributes.update(self.as_is.get(item["id"], {}))
            if self._break_page:
                self._break_page = False
                del attributes["amount"]
            return dict(item, attributes=attributes)
        status, body, headers = self._page(request, f"/accounts/{account_id}/{kind}", items, serialize)
        if status == 200:
            body["data"] = [copy for entry in body["data"]
                            for copy in [entry] * (2 if entry["id"] in self._repeated else 1)]
        return status, body, headers

    @route("POST", "/accounts/(?P<account_id>[^/]+)/reauthorization-requests")
    def reauthorization_request(self, request, account_id):
        refused = self._bearer_error(request)
        if refused:
            return refused
        if account_id not in self.posted:
            return self._error(404, "resourceNotFound", "The requested resource was not found.")
        attributes = (request.json().get("data") or {}).get("attributes") or {}
        if not attributes.get("redirectUri"):
            return self._error(400, "validationError", "redirectUri is required.")
        request_id = str(uuid.uuid4())
        self.reauthorizations[request_id] = (attributes["redirectUri"], ACCOUNT_BANKS[account_id])
        return self._answer(201, {"data": {
            "type": "reauthorizationRequest", "id": request_id,
            "links": {"redirect": f"{self.url}/reauthorize/{request_id}"},
        }})

    # controls -------------------------------------------------------------------

    def provider_config(self, ponto_connect=False):
        config = {"environment": "sandbox", "base_url": self.url, "client_id": self.client_id,
                  "client_secret": self.client_secret, "timeout": 2, "retries": 2, "backoff": 0.01}
        if ponto_connect:
            config.update(self._certificate())
        return config

    @staticmethod
    def _certificate():
        """A self-signed client certificate and its key, as the Developer Portal hands them out."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ponto-connect-test")])
        now = datetime.now(timezone.utc)
        certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                       .serial_number(x509.random_serial_number()).not_valid_before(now)
                       .not_valid_after(now + timedelta(days=30)).sign(key, hashes.SHA256()))
        return {
            "certificate": certificate.public_bytes(serialization.Encoding.PEM).decode(),
            "private_key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode(),
        }

    def consent(self, consent_url):
        response = requests.get(consent_url, allow_redirects=False, timeout=5)
        assert response.status_code == 302, response.text
        return dict(parse_qsl(urlsplit(response.headers["Location"]).query))

    def account_ids(self):
        return [account_id for account_id, *_rest in ACCOUNTS]

    def posted_ids(self, account_id):
        return [transaction["id"] for transaction in self.posted[account_id]]

    def add_transaction(self, account_id, amount, booking_date, pending=False):
        currency = next(a[4] for a in ACCOUNTS if a[0] == account_id)
        seed = f"{account_id}:added:{secrets.token_hex(8)}"
        transaction = self._make(random.Random(seed), account_id, currency, seed, booking_date, Decimal(amount))
        (self.pending if pending else self.posted)[account_id].append(transaction)
        return transaction["id"]

    def post_pending(self):
        """Ponto drops the pending transaction and lists the booked one under a new id."""
        for account_id, pending in self.pending.items():
            for transaction in pending:
                booked = dict(transaction, id=str(uuid.uuid5(NAMESPACE, f"booked:{transaction['id']}")))
                stamp = _iso(datetime.now(timezone.utc))
                booked["attributes"] = dict(transaction["attributes"], createdAt=stamp, updatedAt=stamp)
                self.posted[account_id].append(booked)
            pending.clear()

    def cancel_next_consent(self):
        self._cancel_next = True

    def expire_consent(self):
        """The bank authorization ended: Ponto's refreshes fail and the expected end has passed."""
        ended = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0) - timedelta(days=1)
        for authorization in self.authorizations.values():
            authorization.update(end=ended, errors=[{
                "code": "authorizationInvalid", "detail": "The authorization for this account is no longer valid."}])

    def expire_access_token(self):
        for token in self.access_tokens:
            self.access_tokens[token] = 0

    def rate_limit(self, retry_after=0):
        """Refuse the next data call, including the connector's immediate retries (``retries`` + 1 answers)."""
        self._rate_limit = (retry_after, self.provider_config()["retries"] + 1)

    def go_down(self):
        self.down = True

    def come_back(self):
        self.down = False

    def break_next_transactions_page(self):
        self._break_page = True

    def serve_as_is(self, transaction_id, **attributes):
        """List a transaction with these attribute values, sent exactly as given, until ``as_is`` is cleared.

        How tests reproduce a bank's odd data: an amount as a string with many
        decimals, a currency code nobody knows...
        """
        self.as_is.setdefault(transaction_id, {}).update(attributes)

    def repeat_in_page(self, transaction_id):
        """List a transaction twice in a row in its page, as some banks' feeds do."""
        self._repeated.add(transaction_id)

    @property
    def revoked(self):
        return bool(self.revocations)
