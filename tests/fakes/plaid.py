"""A fake Plaid API, built from Plaid's published specification rather than from our connector.

Sources:

- Plaid's OpenAPI specification, repository ``plaid/plaid-openapi``, file ``2020-09-14.yml``,
  ``info.version`` ``2020-09-14_1.697.4`` (commit 26f1a0588c12). From it: the endpoints served,
  their request schemas (``REQUESTS``: required fields, types, known fields), ``TransactionsSyncRequest``
  (``cursor`` omitted = whole history, ``count`` 1..500, ``options.account_id`` = a cursor stream per
  account), ``TransactionsSyncResponse`` (``added``/``modified``/``removed``, ``next_cursor``, ``has_more``,
  ``transactions_update_status``), ``RemovedTransaction``, ``Transaction`` (``amount`` positive when money
  leaves the account, ``pending_transaction_id``), ``LinkTokenCreateResponse.hosted_link_url`` and
  ``LinkTokenGetResponse.link_sessions`` (present only for clients enabled for Hosted Link), ``PlaidError``.
- Plaid's error catalogue, https://plaid.com/docs/errors/: ``INVALID_REQUEST`` (``INVALID_BODY``,
  ``MISSING_FIELDS``, ``INVALID_FIELD``, ``UNKNOWN_FIELDS``), ``INVALID_INPUT`` (``INVALID_API_KEYS``,
  ``INVALID_ACCESS_TOKEN``, ``INVALID_PUBLIC_TOKEN``, ``INVALID_LINK_TOKEN``), ``ITEM_LOGIN_REQUIRED``,
  ``INSTITUTION_DOWN``, ``TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION`` (restart from the listing's first
  cursor), ``RATE_LIMIT_EXCEEDED`` (HTTP 429, ``TRANSACTIONS_SYNC_LIMIT``); Plaid sends no ``Retry-After``.
- Plaid Link for the web, https://plaid.com/docs/link/web/: ``Plaid.create({token, onSuccess, onExit})``
  then ``open()``; ``onSuccess(public_token, metadata)``. ``/link-initialize.js`` here is a stand-in for
  Link's script: it finishes the session at once, as a user who picks the bank and logs in.
- Transactions docs, https://plaid.com/docs/transactions/transactions-data/: a pending transaction
  posts under a new ``transaction_id``; the pending id comes in ``removed``.

Chosen here without a primary source: the body of Plaid's 404 for a path it does not have (its error
object, ``INVALID_REQUEST`` / ``NOT_FOUND``); that ``hosted_link`` sent by a client not enabled for Hosted
Link is ignored (no URL, no ``link_sessions``) rather than refused; that ``added``/``modified``/``removed``
list every change event since the cursor (a transaction added then modified appears in both). Every
path below that the specification has but this fake does not serve (``/transactions/get`` among them)
also answers 404: the connector must not use them.
"""
import base64
import json
import random
import secrets
import string
import threading
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import requests

from .server import FakeAggregator, FakeBankControls, route

CLIENT_ID = "6512f3a7c0ffee0012345678"
SECRET = "sandbox-secret-0b1d5e7a9c3f24681357"
#: ``count`` the connector is configured with in the tests, so that listings take several pages.
TEST_PAGE_SIZE = 10
#: Requests refused after ``rate_limit()``: one call and the retries of ``provider_config``.
RATE_LIMITED_REQUESTS = 3
ID_ALPHABET = string.ascii_letters + string.digits
#: A 1x1 PNG, base64-encoded as Plaid sends institution logos.
LOGO = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

#: JSON types of the specification.
JSON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list, "object": dict}
CREDENTIALS = {"client_id": "string", "secret": "string"}


def _schema(required, types, nested=None):
    return {"required": required, "types": dict(CREDENTIALS, **types), "nested": nested or {}}


def _nested(required, types):
    return {"required": required, "types": types, "nested": {}}


#: Request schemas of the endpoints served, from the specification (``components.schemas``).
REQUESTS = {
    "/link/token/create": _schema(["client_name", "language", "country_codes"], {
        "access_token": "string", "access_tokens": "array", "account_filters": "object",
        "additional_consented_products": "array", "android_package_name": "string", "appearance_mode": "string",
        "auth": "object", "base_report": "object", "card_switch": "object", "cashflow_report": "object",
        "client_name": "string", "consumer_report_permissible_purpose": "string", "country_codes": "array",
        "cra_enabled": "boolean", "cra_options": "object", "credit_partner_insights": "object",
        "employment": "object", "enable_multi_item_link": "boolean", "eu_config": "object",
        "financekit_supported": "boolean", "hosted_link": "object", "identity": "object",
        "identity_verification": "object", "income_verification": "object", "institution_data": "object",
        "institution_id": "string", "investments": "object", "investments_auth": "object", "language": "string",
        "link_customization_name": "string", "optional_products": "array", "payment_configuration": "object",
        "payment_initiation": "object", "products": "array", "redirect_uri": "string",
        "required_if_supported_products": "array", "statements": "object", "third_party_user_token": "string",
        "transactions": "object", "transfer": "object", "update": "object", "user": "object", "user_id": "string",
        "user_token": "string", "webhook": "string",
    }, {
        # LinkTokenCreateRequestUser, LinkTokenTransactions, LinkTokenCreateHostedLink
        "user": _nested(["client_user_id"], {
            "client_user_id": "string", "legal_name": "string", "name": "object", "phone_number": "string",
            "phone_number_verified_time": "string", "email_address": "string",
            "email_address_verified_time": "string", "ssn": "string", "date_of_birth": "string",
            "address": "object", "id_number": "object"}),
        "transactions": _nested([], {"days_requested": "integer"}),
        "hosted_link": _nested([], {"delivery_method": "string", "completion_redirect_uri": "string",
                                    "url_lifetime_seconds": "integer", "is_mobile_app": "boolean"}),
    }),
    "/link/token/get": _schema(["link_token"], {"link_token": "string"}),
    "/item/public_token/exchange": _schema(["public_token"], {"public_token": "string"}),
    "/item/get": _schema(["access_token"], {"access_token": "string"}),
    "/item/remove": _schema(["access_token"], {"access_token": "string", "reason_code": "string",
                                                "reason_note": "string"}),
    "/accounts/get": _schema(["access_token"], {"access_token": "string", "options": "object"}, {
        "options": _nested([], {"account_ids": "array"})}),
    "/transactions/sync": _schema(["access_token"], {
        "access_token": "string", "cursor": "string", "count": "integer", "options": "object",
    }, {
        "options": _nested([], {"include_original_description": "boolean",
                                "include_personal_finance_category": "boolean",
                                "include_logo_and_counterparty_beta": "boolean",
                                "personal_finance_category_version": "string", "days_requested": "integer",
                                "account_id": "string"}),
    }),
    "/institutions/get": _schema(["count", "offset", "country_codes"], {
        "count": "integer", "offset": "integer", "country_codes": "array", "options": "object",
    }, {
        "options": _nested([], {"products": "array", "routing_numbers": "array", "oauth": "boolean",
                                "include_optional_metadata": "boolean", "include_auth_metadata": "boolean",
                                "include_payment_initiation_metadata": "boolean"}),
    }),
    "/institutions/search": _schema(["query", "country_codes"], {
        "query": "string", "products": "array", "country_codes": "array", "options": "object",
    }, {
        "options": _nested([], {"oauth": "boolean", "include_optional_metadata": "boolean",
                                "include_auth_metadata": "boolean", "include_payment_initiation_metadata": "boolean",
                                "payment_initiation": "object"}),
    }),
}

INSTITUTIONS = (
    # (institution_id, name, country, oauth)
    ("ins_127287", "Platypus OAuth Bank", "US", True),
    ("ins_109508", "First Platypus Bank", "US", False),
    ("ins_109509", "First Gingham Credit Union", "US", False),
    ("ins_109511", "Tartan Bank", "US", False),
    ("ins_43", "Tartan-Dominion Bank of Canada", "CA", False),
)

ACCOUNTS = (
    # (account_id, name, official name, currency, mask, opening balance)
    ("BxBXxLj1m4HMXBm9WZZmCWVbPjX16EHwv99vp", "Business Checking", "Platypus Business Checking",
     "USD", "0042", Decimal("12500.00")),
    ("dVzbVMLjrxTnLjX4G66XUp5GLklm4oiZy88yK", "CAD Operating", "Platypus CAD Operating Account",
     "CAD", "7781", Decimal("8300.00")),
)

MERCHANTS = (
    # (bank text, merchant name, Plaid sign (+1 = money out), low, high, category)
    ("OFFICE DEPOT #{n}", "Office Depot", 1, 15, 400, "GENERAL_MERCHANDISE"),
    ("UBER *TRIP {n}", "Uber", 1, 8, 90, "TRANSPORTATION"),
    ("AMAZON MKTPL*{n}", "Amazon", 1, 10, 600, "GENERAL_MERCHANDISE"),
    ("ACH CREDIT GLOBEX CORP INV {n}", None, -1, 400, 5200, "INCOME"),
    ("DIRECT DEP NORTHWIND {n}", None, -1, 150, 2400, "INCOME"),
    ("COMCAST BUSINESS {n}", "Comcast", 1, 80, 250, "RENT_AND_UTILITIES"),
)


#: Link's web script as served by the fake: ``open()`` finishes the session at once (``{session_url}``
#: answers like the user going through Link), then calls ``onSuccess`` or ``onExit`` as Link does.
LINK_SCRIPT = """
window.Plaid = {
    create(config) {
        return {
            open() {
                fetch("%(session_url)s?token=" + encodeURIComponent(config.token))
                    .then((response) => response.json())
                    .then((result) => result.error
                        ? config.onExit(result.error, {status: "requires_credentials"})
                        : config.onSuccess(result.public_token, result.metadata));
            },
            exit() {},
            destroy() {},
        };
    },
};
"""


class _Fault(Exception):
    """A Plaid error answer."""

    def __init__(self, status, error_type, error_code, message):
        super().__init__(error_code)
        self.status, self.error_type, self.error_code, self.message = status, error_type, error_code, message


def _plaid_id(rng):
    return "".join(rng.choice(ID_ALPHABET) for _ in range(37))


def _now():
    return datetime.now(timezone.utc).replace(microsecond=0)


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def _wire(value):
    """``value`` ready for JSON: Plaid sends amounts as numbers."""
    if isinstance(value, dict):
        return {key: _wire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_wire(item) for item in value]
    if isinstance(value, Decimal):
        return float(value)
    return value


def _check_fields(body, schema, prefix=""):
    """Refuse ``body`` as Plaid does when it breaks ``schema``: unknown, missing or mistyped fields."""
    types = schema["types"]
    unknown = [prefix + name for name in body if name not in types]
    if unknown:
        raise _Fault(400, "INVALID_REQUEST", "UNKNOWN_FIELDS",
                     f"the following fields are not recognized by this endpoint: {', '.join(unknown)}")
    missing = [prefix + name for name in schema["required"] if body.get(name) is None]
    if missing:
        raise _Fault(400, "INVALID_REQUEST", "MISSING_FIELDS",
                     f"the following required fields are missing: {', '.join(missing)}")
    for name, value in body.items():
        expected = JSON_TYPES[types[name]]
        if value is None:
            continue
        if not isinstance(value, expected) or (isinstance(value, bool) and types[name] != "boolean"):
            raise _Fault(400, "INVALID_REQUEST", "INVALID_FIELD", f"{prefix}{name} must be of type {types[name]}")
        if name in schema["nested"]:
            _check_fields(value, schema["nested"][name], f"{prefix}{name}.")


class FakePlaid(FakeAggregator, FakeBankControls):
    """Plaid's API for one team (``CLIENT_ID``/``SECRET``) and one bank login with two accounts.

    ``hosted_link``: whether Plaid enabled this client for Hosted Link (an opt-in).
    Every Item links the same two accounts (real Plaid gives a new Item new account ids).
    """

    provider_code = "plaid"
    institution_id = "ins_127287"

    def __init__(self, hosted_link=False):
        super().__init__()
        # The catch-all answer for unknown paths is tried last.
        self._routes.sort(key=lambda entry: entry[2].__name__ == "unknown_path")
        self.hosted_link_enabled = hosted_link
        self._lock = threading.RLock()
        self._rng = random.Random("plaid-fake")
        self.items = {}  # item_id -> item state
        self.access_tokens = {}  # access_token -> item_id
        self.public_tokens = {}  # public_token -> item_id
        self.link_tokens = {}  # link_token -> link session state
        self.hosted = {}  # hosted link id -> link_token
        self.transactions = {}  # account_id -> current rows
        self.changes = []  # (sequence, "added" | "modified" | "removed", account_id, row): what sync reports
        self._open_listings = {}  # next_cursor of a page with has_more -> number of changes when it was given
        self._after_page = None
        self.mutation_errors = 0
        self._rate_limited = 0
        self._down = False
        self._break_page = False
        self._revoked = False
        for account in ACCOUNTS:
            self.transactions[account[0]] = []
            for row in sorted(self._seed(account), key=lambda row: row["date"]):
                self._record("added", row)

    # seeded data -------------------------------------------------------------

    def _seed(self, account):
        account_id, _name, _official, currency = account[:4]
        rng = random.Random(f"plaid:{account_id}")
        today = date.today()
        rows = []
        if account_id == ACCOUNTS[0][0]:
            rows.append(self._row(
                rng, account_id, currency, Decimal("-2500.00"), today - timedelta(days=10),
                name="ACME CORP PAYMENT", original="ACH CREDIT ACME CORP INV 2024-117 PPD ID 1234567890",
                category="INCOME", payment_meta={"payer": "ACME CORP", "reference_number": "INV2024117",
                                                 "ppd_id": "1234567890", "payment_method": "ACH"},
            ))
        while len(rows) < 40:
            text, merchant, sign, low, high, category = rng.choice(MERCHANTS)
            amount = Decimal(rng.randint(low * 100, high * 100)) / 100 * sign
            text = text.format(n=rng.randint(1000, 9999))
            rows.append(self._row(rng, account_id, currency, amount, today - timedelta(days=rng.randint(2, 100)),
                                  name=text.title(), original=text, merchant=merchant, category=category))
        for days in (0, 1):
            rows.append(self._row(rng, account_id, currency, Decimal(rng.randint(500, 9000)) / 100,
                                  today - timedelta(days=days), name="Card Authorization Coffee Bar",
                                  original="POS AUTH COFFEE BAR", merchant="Coffee Bar",
                                  category="FOOD_AND_DRINK", pending=True))
        return rows

    @staticmethod
    def _row(rng, account_id, currency, amount, day, name, original, merchant=None, category="OTHER",
             payment_meta=None, pending=False):
        return {
            "transaction_id": _plaid_id(rng),
            "account_id": account_id,
            "amount": amount,
            "iso_currency_code": currency,
            "unofficial_currency_code": None,
            "date": day.isoformat(),
            "authorized_date": (day - timedelta(days=rng.choice((0, 0, 1)))).isoformat(),
            "authorized_datetime": None,
            "datetime": None,
            "pending": pending,
            "pending_transaction_id": None,
            "name": name,
            "original_description": original,
            "merchant_name": merchant,
            "merchant_entity_id": None,
            "logo_url": None,
            "website": None,
            "check_number": None,
            "payment_channel": "in store" if merchant else "other",
            "transaction_code": None,
            "transaction_type": "place" if merchant else "special",
            "personal_finance_category": {"primary": category, "detailed": f"{category}_OTHER",
                                          "confidence_level": "HIGH"},
            "counterparties": [{"name": merchant, "type": "merchant", "entity_id": None,
                                "confidence_level": "HIGH", "logo_url": None, "website": None}]
            if merchant else [],
            "payment_meta": dict({"reference_number": None, "ppd_id": None, "payee": None, "payer": None,
                                  "by_order_of": None, "payment_method": None, "payment_processor": None,
                                  "reason": None}, **(payment_meta or {})),
            "location": {"address": None, "city": None, "region": None, "postal_code": None,
                         "country": None, "lat": None, "lon": None, "store_number": None},
            "account_owner": None,
            "category": None,
            "category_id": None,
        }

    def _record(self, kind, row):
        """Apply a change to the bank's rows and log it for ``/transactions/sync``."""
        rows = self.transactions[row["account_id"]]
        rows[:] = [old for old in rows if old["transaction_id"] != row["transaction_id"]]
        if kind != "removed":
            rows.append(row)
        self.changes.append((len(self.changes) + 1, kind, row["account_id"], dict(row)))

    # plumbing ----------------------------------------------------------------

    def _request_id(self):
        return "".join(self._rng.choice(ID_ALPHABET) for _ in range(15))

    def _error_body(self, fault):
        return {
            "error_type": fault.error_type,
            "error_code": fault.error_code,
            "error_code_reason": None,
            "error_message": fault.message,
            "display_message": None,
            "request_id": self._request_id(),
            "causes": [],
            "status": fault.status,
            "documentation_url": f"https://plaid.com/docs/errors/#{fault.error_code.lower()}",
            "suggested_action": None,
        }

    def _answer(self, request, handler):
        """Check ``request`` against the endpoint's schema and keys, run ``handler(body)``; faults become Plaid errors."""
        with self._lock:
            try:
                try:
                    body = json.loads(request.body or b"")
                except ValueError:
                    body = None
                if not isinstance(body, dict) or "application/json" not in (request.headers.get("Content-Type") or ""):
                    raise _Fault(400, "INVALID_REQUEST", "INVALID_BODY", "body could not be parsed as JSON")
                client_id = request.headers.get("PLAID-CLIENT-ID") or body.get("client_id")
                secret = request.headers.get("PLAID-SECRET") or body.get("secret")
                missing = [name for name, value in (("client_id", client_id), ("secret", secret)) if not value]
                if missing:
                    raise _Fault(400, "INVALID_REQUEST", "MISSING_FIELDS",
                                 f"the following required fields are missing: {', '.join(missing)}")
                _check_fields(body, REQUESTS[request.path])
                if client_id != CLIENT_ID or secret != SECRET:
                    raise _Fault(400, "INVALID_INPUT", "INVALID_API_KEYS", "invalid client_id or secret provided")
                return 200, _wire(dict(handler(body), request_id=self._request_id()))
            except _Fault as fault:
                return fault.status, self._error_body(fault)

    def _item(self, body):
        item = self.items.get(self.access_tokens.get(body["access_token"]))
        if not item or item["removed"]:
            raise _Fault(400, "INVALID_INPUT", "INVALID_ACCESS_TOKEN", "provided access token is invalid")
        return item

    def _data_item(self, body, limit_code):
        """The Item of a call that reads the bank's data, after the bank's fault switches."""
        item = self._item(body)
        if self._rate_limited:
            self._rate_limited -= 1
            raise _Fault(429, "RATE_LIMIT_EXCEEDED", limit_code,
                         "rate limit exceeded for attempts to access this item. please try again later")
        if self._down:
            raise _Fault(400, "INSTITUTION_ERROR", "INSTITUTION_DOWN",
                         "this institution is not currently responding to this request. please try again soon")
        if item["error"]:
            raise _Fault(400, "ITEM_ERROR", "ITEM_LOGIN_REQUIRED",
                         "the login details of this item have changed (credentials, MFA, or required user "
                         "action) and a user login is required to update this information. use Link's update "
                         "mode to restore the item to a good state")
        return item

    def _item_json(self, item):
        error = None
        if item["error"]:
            error = {"error_type": "ITEM_ERROR", "error_code": "ITEM_LOGIN_REQUIRED", "error_code_reason": None,
                     "error_message": "a user login is required", "display_message": None,
                     "request_id": self._request_id(), "causes": [], "status": 400}
        return {
            "item_id": item["item_id"],
            "institution_id": item["institution_id"],
            "institution_name": next(inst[1] for inst in INSTITUTIONS if inst[0] == item["institution_id"]),
            "webhook": None,
            "auth_method": None,
            "error": error,
            "available_products": ["balance"],
            "billed_products": ["transactions"],
            "products": ["transactions"],
            "consented_products": ["transactions"],
            "consent_expiration_time": item["consent_expiration_time"],
            "update_type": "background",
        }

    def _accounts_json(self, account_ids=None):
        accounts = []
        for account_id, name, official, currency, mask, opening in ACCOUNTS:
            if account_ids is not None and account_id not in account_ids:
                continue
            rows = self.transactions[account_id]
            current = opening - sum(row["amount"] for row in rows if not row["pending"])
            available = current - sum(row["amount"] for row in rows if row["pending"])
            accounts.append({
                "account_id": account_id,
                "balances": {"available": available, "current": current, "limit": None,
                             "iso_currency_code": currency, "unofficial_currency_code": None,
                             "last_updated_datetime": None},
                "mask": mask, "name": name, "official_name": official,
                "type": "depository", "subtype": "checking", "persistent_account_id": None,
                "holder_category": "business",
            })
        return accounts

    @staticmethod
    def _consent_end(institution_id):
        """OAuth banks grant a one-year consent; the others none."""
        oauth = next(inst[3] for inst in INSTITUTIONS if inst[0] == institution_id)
        end = datetime.combine(date.today() + timedelta(days=365), datetime.min.time(), timezone.utc)
        return _iso(end) if oauth else None

    @staticmethod
    def _institution_json(institution, metadata):
        institution_id, name, country, oauth = institution
        data = {"institution_id": institution_id, "name": name, "country_codes": [country],
                "products": ["assets", "auth", "balance", "transactions", "identity"],
                "routing_numbers": ["011401533"], "oauth": oauth, "dtc_numbers": []}
        if metadata:
            data.update(logo=LOGO, primary_color="#1f1f1f", url="https://plaid.com")
        return data

    # unknown paths -------------------------------------------------------------

    @route("POST", "/.*")
    def unknown_path(self, request):
        return 404, dict(self._error_body(_Fault(404, "INVALID_REQUEST", "NOT_FOUND", "not found")))

    # institutions ------------------------------------------------------------

    @route("POST", "/institutions/search")
    def institutions_search(self, request):
        def handler(body):
            metadata = (body.get("options") or {}).get("include_optional_metadata")
            return {"institutions": [
                self._institution_json(inst, metadata) for inst in INSTITUTIONS
                if inst[2] in body["country_codes"] and body["query"].lower() in inst[1].lower()
            ]}
        return self._answer(request, handler)

    @route("POST", "/institutions/get")
    def institutions_get(self, request):
        def handler(body):
            count, offset = body["count"], body["offset"]
            if not 1 <= count <= 500 or offset < 0:
                raise _Fault(400, "INVALID_REQUEST", "INVALID_FIELD", "count must be between 1 and 500")
            metadata = (body.get("options") or {}).get("include_optional_metadata")
            found = [inst for inst in INSTITUTIONS if inst[2] in body["country_codes"]]
            return {"institutions": [self._institution_json(inst, metadata) for inst in found[offset:offset + count]],
                    "total": len(found)}
        return self._answer(request, handler)

    # Link --------------------------------------------------------------------

    @route("POST", "/link/token/create")
    def link_token_create(self, request):
        def handler(body):
            item = self._item(body) if body.get("access_token") else None
            if not item and not body.get("products"):
                raise _Fault(400, "INVALID_REQUEST", "MISSING_FIELDS",
                             "the following required fields are missing: products")
            created = _now()
            expiration = created + (timedelta(minutes=30) if item else timedelta(hours=4))
            link_token = f"link-sandbox-{secrets.token_hex(16)}"
            hosted = self.hosted_link_enabled and body.get("hosted_link") is not None
            self.link_tokens[link_token] = {
                "created_at": created, "expiration": expiration, "item_id": item and item["item_id"],
                "hosted": body.get("hosted_link") if hosted else None, "sessions": [], "body": body,
            }
            answer = {"link_token": link_token, "expiration": _iso(expiration)}
            if hosted:
                hosted_id = secrets.token_urlsafe(12)
                self.hosted[hosted_id] = link_token
                answer["hosted_link_url"] = f"{self.url}/hl/{hosted_id}"
            return answer
        return self._answer(request, handler)

    def _finish_link_session(self, link_token):
        """The user goes through Link: picks the bank, logs in, shares the accounts.

        A new Item gets a public token; update mode repairs the Item (Link gives a public token
        that needs no exchange). Return the ``onSuccess`` arguments, or None when the token is invalid.
        """
        link = self.link_tokens.get(link_token)
        if not link or _now() > link["expiration"]:
            return None
        if link["item_id"]:
            item = self.items[link["item_id"]]
            item["error"] = None
            item["consent_expiration_time"] = self._consent_end(item["institution_id"])
        else:
            item = self._create_item()
        public_token = f"public-sandbox-{secrets.token_hex(16)}"
        if not link["item_id"]:
            self.public_tokens[public_token] = item["item_id"]
        institution = {"institution_id": item["institution_id"],
                       "name": next(i[1] for i in INSTITUTIONS if i[0] == item["institution_id"])}
        accounts = [{"id": a["account_id"], "name": a["name"], "mask": a["mask"], "type": a["type"],
                     "subtype": a["subtype"]} for a in self._accounts_json()]
        now = _iso(_now())
        session_id = secrets.token_hex(8)
        link["sessions"].append({
            "link_session_id": session_id, "started_at": now, "finished_at": now, "exit": None, "events": [],
            "results": {"item_add_results": [] if link["item_id"] else [
                {"public_token": public_token, "institution": institution, "accounts": accounts}]},
        })
        return public_token, {"institution": institution, "accounts": accounts, "link_session_id": session_id}

    def _create_item(self):
        item_id = _plaid_id(self._rng)
        access_token = f"access-sandbox-{secrets.token_hex(16)}"
        self.items[item_id] = {"item_id": item_id, "access_token": access_token, "removed": False,
                               "institution_id": self.institution_id, "error": None,
                               "consent_expiration_time": self._consent_end(self.institution_id)}
        self.access_tokens[access_token] = item_id
        return self.items[item_id]

    @route("GET", "/link-initialize.js")
    def link_script(self, request):
        script = LINK_SCRIPT % {"session_url": f"{self.url}/link/stand-in/session"}
        return 200, script, {"Content-Type": "application/javascript"}

    @route("GET", "/link/stand-in/session")
    def link_stand_in_session(self, request):
        """What Link's front end does with Plaid for the stand-in script (not a Plaid API endpoint)."""
        with self._lock:
            result = self._finish_link_session(request.arg("token"))
        cors = {"Access-Control-Allow-Origin": "*"}
        if not result:
            return 200, {"error": {"error_type": "INVALID_INPUT", "error_code": "INVALID_LINK_TOKEN",
                                   "error_message": "provided link token is invalid", "display_message": None}}, cors
        return 200, {"public_token": result[0], "metadata": result[1]}, cors

    @route("GET", "/hl/(?P<hosted_id>[^/]+)")
    def hosted_link(self, request, hosted_id):
        """Hosted Link: Plaid's page, then back to ``completion_redirect_uri`` (Plaid adds no parameters)."""
        with self._lock:
            link_token = self.hosted.get(hosted_id)
            if not self._finish_link_session(link_token):
                return 400, "This link has expired. Return to the application and try again."
            redirect = (self.link_tokens[link_token]["hosted"] or {}).get("completion_redirect_uri")
            if not redirect:
                return 200, "All done. You may close this window."
            return 302, "", {"Location": redirect}

    @route("POST", "/link/token/get")
    def link_token_get(self, request):
        def handler(body):
            link = self.link_tokens.get(body["link_token"])
            if not link:
                raise _Fault(400, "INVALID_INPUT", "INVALID_LINK_TOKEN", "provided link token is invalid")
            answer = {
                "link_token": body["link_token"],
                "created_at": _iso(link["created_at"]),
                "expiration": _iso(link["expiration"]),
                "metadata": {"initial_products": link["body"].get("products") or [],
                             "webhook": None, "country_codes": link["body"]["country_codes"],
                             "language": link["body"]["language"], "redirect_uri": None,
                             "client_name": link["body"]["client_name"]},
            }
            if link["hosted"] is not None:
                answer["link_sessions"] = link["sessions"]
            return answer
        return self._answer(request, handler)

    @route("POST", "/item/public_token/exchange")
    def public_token_exchange(self, request):
        def handler(body):
            item_id = self.public_tokens.pop(body["public_token"], None)
            if not item_id:
                raise _Fault(400, "INVALID_INPUT", "INVALID_PUBLIC_TOKEN", "provided public token is expired. "
                             "Public tokens expire 30 minutes after creation at which point they can no longer "
                             "be exchanged")
            item = self.items[item_id]
            return {"access_token": item["access_token"], "item_id": item_id}
        return self._answer(request, handler)

    # Items and data ------------------------------------------------------------

    @route("POST", "/item/get")
    def item_get(self, request):
        def handler(body):
            item = self._item(body)
            return {"item": self._item_json(item), "status": {"transactions": {
                "last_successful_update": _iso(_now()), "last_failed_update": None}, "last_webhook": None}}
        return self._answer(request, handler)

    @route("POST", "/item/remove")
    def item_remove(self, request):
        def handler(body):
            item = self._item(body)
            item["removed"] = True
            self._revoked = True
            return {}
        return self._answer(request, handler)

    @route("POST", "/accounts/get")
    def accounts_get(self, request):
        def handler(body):
            item = self._data_item(body, "ACCOUNTS_LIMIT")
            return {"accounts": self._accounts_json(), "item": self._item_json(item)}
        return self._answer(request, handler)

    @staticmethod
    def _cursor(sequence):
        return base64.urlsafe_b64encode(json.dumps({"v": 1, "seq": sequence}).encode()).decode()

    def _cursor_sequence(self, cursor):
        if not cursor:
            return 0
        if cursor == "now":
            return len(self.changes)
        try:
            return int(json.loads(base64.urlsafe_b64decode(cursor.encode()))["seq"])
        except (ValueError, KeyError, TypeError):
            raise _Fault(400, "INVALID_REQUEST", "INVALID_FIELD", "cursor is not a valid cursor") from None

    @route("POST", "/transactions/sync")
    def transactions_sync(self, request):
        def handler(body):
            self._data_item(body, "TRANSACTIONS_SYNC_LIMIT")
            options = body.get("options") or {}
            account_id = options.get("account_id")
            if account_id and account_id not in self.transactions:
                raise _Fault(400, "INVALID_INPUT", "INVALID_ACCOUNT_ID", "one or more of the account IDs is invalid")
            count = body.get("count", 100)
            if not 1 <= count <= 500:
                raise _Fault(400, "INVALID_REQUEST", "INVALID_FIELD", "count must be between 1 and 500")
            cursor = body.get("cursor") or ""
            sequence = self._cursor_sequence(cursor)
            if cursor in self._open_listings and self._open_listings[cursor] != len(self.changes):
                self.mutation_errors += 1
                raise _Fault(400, "TRANSACTIONS_ERROR", "TRANSACTIONS_SYNC_MUTATION_DURING_PAGINATION",
                             "Underlying transaction data changed since last page was fetched. Please restart "
                             "pagination from last update.")
            pending = [change for change in self.changes
                       if change[0] > sequence and (not account_id or change[2] == account_id)]
            page, has_more = pending[:count], len(pending) > count
            next_cursor = self._cursor(page[-1][0] if page else sequence)
            if has_more:
                self._open_listings[next_cursor] = len(self.changes)
            lists = {"added": [], "modified": [], "removed": []}
            for _sequence, kind, change_account, row in page:
                if kind == "removed":
                    lists[kind].append({"transaction_id": row["transaction_id"], "account_id": change_account})
                    continue
                row = dict(row)
                if not options.get("include_original_description"):
                    row["original_description"] = None
                lists[kind].append(row)
            answer = dict(
                lists, next_cursor=next_cursor, has_more=has_more,
                accounts=self._accounts_json({change[2] for change in page}),
                transactions_update_status="HISTORICAL_UPDATE_COMPLETE",
            )
            if self._break_page:
                # A transaction without its (required) amount, or a page without its next_cursor.
                self._break_page = False
                rows = lists["added"] or lists["modified"]
                del (rows[0] if rows else answer)["amount" if rows else "next_cursor"]
            if has_more and self._after_page:
                change, self._after_page = self._after_page, None
                change()
            return answer
        return self._answer(request, handler)

    # controls ----------------------------------------------------------------

    def provider_config(self):
        return {"environment": "sandbox", "base_url": self.url, "client_id": CLIENT_ID,
                "client_secret": SECRET, "timeout": 2, "retries": 2, "backoff": 0.01,
                "page_size": TEST_PAGE_SIZE, "plaid_hosted_link": self.hosted_link_enabled,
                "plaid_link_script_url": f"{self.url}/link-initialize.js"}

    def consent(self, consent_url):
        """Hosted Link: the user goes through Plaid's page and is sent back; return the callback's parameters."""
        response = requests.get(consent_url, allow_redirects=False, timeout=5)
        if response.status_code != 302:
            raise AssertionError(f"Hosted Link answered {response.status_code}: {response.text[:100]}")
        return dict(parse_qsl(urlsplit(response.headers["Location"]).query))

    def link(self, link_token):
        """Plaid Link in the browser: the user finishes the session; return ``onSuccess``'s public token."""
        with self._lock:
            result = self._finish_link_session(link_token)
        if not result:
            raise AssertionError("Link refused the link token")
        return result[0]

    def account_ids(self):
        return [account[0] for account in ACCOUNTS]

    def posted_ids(self, account_id):
        return [row["transaction_id"] for row in self.transactions[account_id] if not row["pending"]]

    def posted_rows(self, account_id):
        return [row for row in self.transactions[account_id] if not row["pending"]]

    def add_transaction(self, account_id, amount, booking_date, pending=False):
        with self._lock:
            currency = next(account[3] for account in ACCOUNTS if account[0] == account_id)
            row = self._row(self._rng, account_id, currency, -amount, booking_date, name="Wire Transfer",
                            original="WIRE TRANSFER", pending=pending)
            self._record("added", row)
            return row["transaction_id"]

    def post_pending(self, keep_dates=False):
        """Plaid posts a pending row as a new row (new id) pointing to it; the pending id is removed.

        Posted today, or with ``keep_dates`` on the pending row's own date (a bank booking late).
        """
        with self._lock:
            for rows in self.transactions.values():
                for row in [row for row in rows if row["pending"]]:
                    self._record("removed", row)
                    self._record("added", dict(
                        row, transaction_id=_plaid_id(self._rng), pending=False,
                        pending_transaction_id=row["transaction_id"],
                        date=row["date"] if keep_dates else max(row["date"], date.today().isoformat()),
                        authorized_date=row["date"]))

    def modify_transaction(self, transaction_id, amount=None, name=None):
        """The bank corrects a transaction (``amount`` positive = money in): it comes in ``modified``."""
        with self._lock:
            row = next(row for rows in self.transactions.values() for row in rows
                       if row["transaction_id"] == transaction_id)
            row = dict(row)
            if amount is not None:
                row["amount"] = -amount
            if name is not None:
                row["name"] = row["original_description"] = name
            self._record("modified", row)

    def remove_transaction(self, transaction_id):
        """The bank withdraws a transaction: its id comes in ``removed``."""
        with self._lock:
            row = next(row for rows in self.transactions.values() for row in rows
                       if row["transaction_id"] == transaction_id)
            self._record("removed", row)

    def change_after_next_page(self, change):
        """Run ``change()`` right after the next page that has more pages after it (data moving mid-listing)."""
        self._after_page = change

    def expire_consent(self):
        with self._lock:
            for item in self.items.values():
                item["error"] = "ITEM_LOGIN_REQUIRED"

    def expire_access_token(self):
        """Plaid access tokens never expire. The nearest event is the bank cutting the Item's OAuth
        consent short (Plaid's PENDING_EXPIRATION): the connector must pick up the new expiry."""
        with self._lock:
            for item in self.items.values():
                item["consent_expiration_time"] = _iso(_now() + timedelta(days=7))

    def rate_limit(self, retry_after=0):
        """Plaid sends no Retry-After header: ``retry_after`` has no counterpart in its answers."""
        self._rate_limited = RATE_LIMITED_REQUESTS

    def go_down(self):
        self._down = True

    def come_back(self):
        self._down = False

    def break_next_transactions_page(self):
        self._break_page = True

    @property
    def revoked(self):
        return self._revoked


class FakePlaidHostedLink(FakePlaid):
    """Plaid for a client enabled for Hosted Link: consent on Plaid's page and back to Odoo's callback."""

    def __init__(self):
        super().__init__(hosted_link=True)
