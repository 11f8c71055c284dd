"""A fake Plaid API: Hosted Link, Items, accounts and ``/transactions/get``.

Answers follow Plaid's documented JSON: every endpoint is a ``POST`` checked
against the ``PLAID-CLIENT-ID``/``PLAID-SECRET`` headers (or the body's
``client_id``/``secret``), errors are HTTP 400/429/500 with Plaid's error
object and ``request_id`` in the body (Plaid sends no request id header),
amounts are JSON numbers positive when money leaves the account, and
``/transactions/get`` pages newest first by ``count``/``offset`` with
``total_transactions``. The page size is capped at ``PAGE_SIZE`` so that
paging is exercised. Every Item links the same two accounts of one bank login
(real Plaid gives a new Item new account ids).
"""
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
PAGE_SIZE = 10
#: Requests refused after ``rate_limit()``: one call and the retries of ``provider_config``.
RATE_LIMITED_REQUESTS = 3
ID_ALPHABET = string.ascii_letters + string.digits
#: A 1x1 PNG, base64-encoded as Plaid sends institution logos.
LOGO = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

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


class FakePlaid(FakeAggregator, FakeBankControls):
    """Plaid's API for one team (``CLIENT_ID``/``SECRET``) and one bank login with two accounts."""

    provider_code = "plaid"
    institution_id = "ins_127287"

    def __init__(self):
        super().__init__()
        self._lock = threading.RLock()
        self._rng = random.Random("plaid-fake")
        self.items = {}  # item_id -> item state
        self.access_tokens = {}  # access_token -> item_id
        self.public_tokens = {}  # public_token -> item_id
        self.link_tokens = {}  # link_token -> link session state
        self.hosted = {}  # hosted link id -> link_token
        self.transactions = {account[0]: self._seed(account) for account in ACCOUNTS}
        self._rate_limited = 0
        self._down = False
        self._break_page = False
        self._revoked = False

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

    # plumbing ----------------------------------------------------------------

    def _request_id(self):
        return "".join(self._rng.choice(ID_ALPHABET) for _ in range(15))

    def _error_body(self, fault):
        return {
            "error_type": fault.error_type,
            "error_code": fault.error_code,
            "error_message": fault.message,
            "display_message": None,
            "request_id": self._request_id(),
            "causes": [],
            "status": fault.status,
            "documentation_url": f"https://plaid.com/docs/errors/#{fault.error_code.lower()}",
            "suggested_action": None,
        }

    def _answer(self, request, handler):
        """Authenticate ``request`` and run ``handler(body)``; Plaid errors become their JSON answers."""
        with self._lock:
            try:
                try:
                    body = request.json()
                except ValueError:
                    raise _Fault(400, "INVALID_REQUEST", "INVALID_BODY",
                                 "body could not be parsed as JSON") from None
                client_id = request.headers.get("PLAID-CLIENT-ID") or body.get("client_id")
                secret = request.headers.get("PLAID-SECRET") or body.get("secret")
                missing = [name for name, value in (("client_id", client_id), ("secret", secret)) if not value]
                if missing:
                    raise _Fault(400, "INVALID_REQUEST", "MISSING_FIELDS",
                                 f"the following required fields are missing: {', '.join(missing)}")
                if client_id != CLIENT_ID or secret != SECRET:
                    raise _Fault(400, "INVALID_INPUT", "INVALID_API_KEYS", "invalid client_id or secret provided")
                return 200, _wire(dict(handler(body), request_id=self._request_id()))
            except _Fault as fault:
                return fault.status, self._error_body(fault)

    @staticmethod
    def _required(body, *names):
        missing = [name for name in names if body.get(name) in (None, "", [])]
        if missing:
            raise _Fault(400, "INVALID_REQUEST", "MISSING_FIELDS",
                         f"the following required fields are missing: {', '.join(missing)}")

    def _item(self, body):
        self._required(body, "access_token")
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
            error = {"error_type": "ITEM_ERROR", "error_code": "ITEM_LOGIN_REQUIRED",
                     "error_message": "a user login is required", "display_message": None,
                     "request_id": self._request_id(), "causes": [], "status": 400}
        return {
            "item_id": item["item_id"],
            "institution_id": item["institution_id"],
            "webhook": None,
            "error": error,
            "available_products": ["balance"],
            "billed_products": ["transactions"],
            "products": ["transactions"],
            "consented_products": ["transactions"],
            "consent_expiration_time": item["consent_expiration_time"],
            "update_type": "background",
        }

    def _accounts_json(self):
        accounts = []
        for account_id, name, official, currency, mask, opening in ACCOUNTS:
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

    # institutions ------------------------------------------------------------

    @route("POST", "/institutions/search")
    def institutions_search(self, request):
        def handler(body):
            self._required(body, "query", "country_codes")
            metadata = (body.get("options") or {}).get("include_optional_metadata")
            return {"institutions": [
                self._institution_json(inst, metadata) for inst in INSTITUTIONS
                if inst[2] in body["country_codes"] and body["query"].lower() in inst[1].lower()
            ]}
        return self._answer(request, handler)

    @route("POST", "/institutions/get")
    def institutions_get(self, request):
        def handler(body):
            self._required(body, "count", "country_codes")
            count, offset = int(body["count"]), int(body.get("offset") or 0)
            if not 1 <= count <= 500:
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
            self._required(body, "client_name", "language", "country_codes", "user")
            if not (body["user"] or {}).get("client_user_id"):
                raise _Fault(400, "INVALID_REQUEST", "MISSING_FIELDS",
                             "the following required fields are missing: user.client_user_id")
            item = self._item(body) if body.get("access_token") else None
            if not item and not body.get("products"):
                raise _Fault(400, "INVALID_REQUEST", "MISSING_FIELDS",
                             "the following required fields are missing: products")
            created = _now()
            expiration = created + (timedelta(minutes=30) if item else timedelta(hours=4))
            link_token = f"link-sandbox-{secrets.token_hex(16)}"
            hosted_id = secrets.token_urlsafe(12)
            self.link_tokens[link_token] = {
                "created_at": created, "expiration": expiration, "item_id": item and item["item_id"],
                "hosted": body.get("hosted_link"), "sessions": [], "body": body,
            }
            answer = {"link_token": link_token, "expiration": _iso(expiration)}
            if body.get("hosted_link") is not None:
                self.hosted[hosted_id] = link_token
                answer["hosted_link_url"] = f"{self.url}/hl/{hosted_id}"
            return answer
        return self._answer(request, handler)

    @route("GET", "/hl/(?P<hosted_id>[^/]+)")
    def hosted_link(self, request, hosted_id):
        """The user goes through Link: picks the bank, logs in, shares the accounts."""
        with self._lock:
            link = self.link_tokens.get(self.hosted.get(hosted_id))
            if not link or _now() > link["expiration"]:
                return 400, "This link has expired. Return to the application and try again."
            results = {"item_add_results": []}
            if link["item_id"]:
                item = self.items[link["item_id"]]
                item["error"] = None
                item["consent_expiration_time"] = self._consent_end(item["institution_id"])
            else:
                item = self._create_item()
                public_token = f"public-sandbox-{secrets.token_hex(16)}"
                self.public_tokens[public_token] = item["item_id"]
                results["item_add_results"].append({
                    "public_token": public_token,
                    "institution": {"institution_id": item["institution_id"],
                                    "name": next(i[1] for i in INSTITUTIONS if i[0] == item["institution_id"])},
                    "accounts": [{"id": a["account_id"], "name": a["name"], "mask": a["mask"],
                                  "type": a["type"], "subtype": a["subtype"]} for a in self._accounts_json()],
                })
            now = _iso(_now())
            link["sessions"].append({"link_session_id": secrets.token_hex(8), "started_at": now,
                                     "finished_at": now, "results": results, "exit": None, "events": []})
            redirect = (link["hosted"] or {}).get("completion_redirect_uri")
            if not redirect:
                return 200, "All done. You may close this window."
            return 302, "", {"Location": redirect}

    def _create_item(self):
        item_id = _plaid_id(self._rng)
        access_token = f"access-sandbox-{secrets.token_hex(16)}"
        self.items[item_id] = {"item_id": item_id, "access_token": access_token, "removed": False,
                               "institution_id": self.institution_id, "error": None,
                               "consent_expiration_time": self._consent_end(self.institution_id)}
        self.access_tokens[access_token] = item_id
        return self.items[item_id]

    @route("POST", "/link/token/get")
    def link_token_get(self, request):
        def handler(body):
            self._required(body, "link_token")
            link = self.link_tokens.get(body["link_token"])
            if not link:
                raise _Fault(400, "INVALID_INPUT", "INVALID_LINK_TOKEN", "provided link token is invalid")
            return {
                "link_token": body["link_token"],
                "created_at": _iso(link["created_at"]),
                "expiration": _iso(link["expiration"]),
                "metadata": {"initial_products": link["body"].get("products") or [],
                             "webhook": None, "country_codes": link["body"]["country_codes"],
                             "language": link["body"]["language"], "redirect_uri": None,
                             "client_name": link["body"]["client_name"]},
                "link_sessions": link["sessions"],
            }
        return self._answer(request, handler)

    @route("POST", "/item/public_token/exchange")
    def public_token_exchange(self, request):
        def handler(body):
            self._required(body, "public_token")
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

    @route("POST", "/transactions/get")
    def transactions_get(self, request):
        def handler(body):
            self._required(body, "access_token", "start_date", "end_date")
            item = self._data_item(body, "TRANSACTIONS_LIMIT")
            try:
                start, end = date.fromisoformat(body["start_date"]), date.fromisoformat(body["end_date"])
            except (TypeError, ValueError):
                raise _Fault(400, "INVALID_REQUEST", "INVALID_FIELD",
                             "start_date and end_date must be dates of the form YYYY-MM-DD") from None
            if start > end:
                raise _Fault(400, "INVALID_REQUEST", "INVALID_FIELD", "start_date must be before end_date")
            options = body.get("options") or {}
            count, offset = int(options.get("count") or 100), int(options.get("offset") or 0)
            if not 1 <= count <= 500 or offset < 0:
                raise _Fault(400, "INVALID_REQUEST", "INVALID_FIELD",
                             "count must be between 1 and 500 and offset must be non-negative")
            account_ids = options.get("account_ids") or list(self.transactions)
            unknown = [account_id for account_id in account_ids if account_id not in self.transactions]
            if unknown:
                raise _Fault(400, "INVALID_INPUT", "INVALID_ACCOUNT_ID",
                             "one or more of the account IDs is invalid")
            rows = sorted(
                (row for account_id in account_ids for row in self.transactions[account_id]
                 if start.isoformat() <= row["date"] <= end.isoformat()),
                key=lambda row: (row["date"], row["transaction_id"]), reverse=True,
            )
            page = [dict(row) for row in rows[offset:offset + min(count, PAGE_SIZE)]]
            if not options.get("include_original_description"):
                for row in page:
                    row["original_description"] = None
            if self._break_page and page:
                self._break_page = False
                del page[0]["amount"]
            return {"accounts": [a for a in self._accounts_json() if a["account_id"] in account_ids],
                    "transactions": page, "total_transactions": len(rows), "item": self._item_json(item)}
        return self._answer(request, handler)

    # controls ----------------------------------------------------------------

    def provider_config(self):
        return {"environment": "sandbox", "base_url": self.url, "client_id": CLIENT_ID,
                "client_secret": SECRET, "timeout": 2, "retries": 2, "backoff": 0.01}

    def consent(self, consent_url):
        response = requests.get(consent_url, allow_redirects=False, timeout=5)
        if response.status_code != 302:
            raise AssertionError(f"Hosted Link answered {response.status_code}: {response.text[:100]}")
        return dict(parse_qsl(urlsplit(response.headers["Location"]).query))

    def account_ids(self):
        return [account[0] for account in ACCOUNTS]

    def posted_ids(self, account_id):
        return [row["transaction_id"] for row in self.transactions[account_id] if not row["pending"]]

    def add_transaction(self, account_id, amount, booking_date, pending=False):
        with self._lock:
            currency = next(account[3] for account in ACCOUNTS if account[0] == account_id)
            row = self._row(self._rng, account_id, currency, -amount, booking_date, name="Wire Transfer",
                            original="WIRE TRANSFER", pending=pending)
            self.transactions[account_id].append(row)
            return row["transaction_id"]

    def post_pending(self):
        """Plaid books a pending row as a new row (new id) pointing to it; the pending row goes."""
        with self._lock:
            for rows in self.transactions.values():
                for index, row in enumerate(rows):
                    if row["pending"]:
                        rows[index] = dict(row, transaction_id=_plaid_id(self._rng), pending=False,
                                           pending_transaction_id=row["transaction_id"],
                                           date=max(row["date"], date.today().isoformat()),
                                           authorized_date=row["date"])

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
