"""A local stand-in for GoCardless Bank Account Data (API v2), built from its published reference.

Sources:
- GoCardless Bank Account Data OpenAPI 3.0.3 document, ``info.version`` "2.0 (v2)" (the schema the API
  serves; public copy: github.com/omarsaad98/gocardless-bank-account-data ``swagger.json``): paths,
  request schemas (required fields, types, min/max), status codes and the error examples used below
  word for word (``InvalidToken``, ``AuthenticationFailed``, ``AccessExpiredError``,
  ``AccountInactiveError``, ``RateLimitError``, ``NordigenRateLimitExceeded``, ``ServiceError``,
  ``AccountSuspendedError``, ``FieldsRequired``, ``UnknownFields``, ``NotFoundError``...).
- https://developer.gocardless.com/bank-account-data/overview (banks allow down to 4 calls a day per
  account and scope; rate-limit headers), the GoCardless notice of August 2024 announcing the
  ``HTTP_X_RATELIMIT_*`` and ``HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_*`` headers, and the help-centre
  article "Bank Account Data API Rate Limits" (only successful account calls count for the bank).
- https://developer.gocardless.com/bank-account-data/quick-start-guide (flow: token, institutions,
  agreement, requisition ``link``, redirect with ``ref``, accounts, details/balances/transactions).

Guessed (not stated by a primary source): the request id header name; that the reset headers give
seconds; that a requisition's hosted page lets the user share every account and redirects to
``redirect`` with ``?ref=<reference>`` appended; that ``internalTransactionId`` (documented as unique
within one account id) is generated anew for every new account id, i.e. after each reconnection;
that ``date_from`` before the agreement's ``max_historical_days`` is silently clamped; that a user who
cancels on the hosted page is sent back with ``error=UserCancelledSession`` and ``details`` next to ``ref``.

Every requisition gets new account ids for the same bank accounts, as the service does. The
controls speak in the connector's terms: accounts as ``<IBAN>:<currency>``, transactions by
``transactionId``, else ``entryReference``, else ``internalTransactionId`` (see ``reported_id``).
"""
import hashlib
import random
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import requests

from .server import FakeAggregator, FakeBankControls, route

P = r"(?:/api/v2)?"
NOT_FOUND = {"detail": "Not found.", "summary": "Not found.", "status_code": 404}
INVALID_TOKEN = {"summary": "Invalid token", "detail": "Token is invalid or expired", "status_code": 401}
NO_CREDENTIALS = {"summary": "Authentication credentials were not provided.",
                  "detail": "Authentication credentials were not provided.", "status_code": 401}

INSTITUTIONS = [
    {"id": "SANDBOXFINANCE_SFIN0000", "name": "Sandbox Finance", "bic": "SFIN0000",
     "transaction_total_days": "90", "max_access_valid_for_days": "90", "countries": ["XX"],
     "logo": "https://cdn-logos.gocardless.com/ais/SANDBOXFINANCE_SFIN0000.png"},
    {"id": "KBC_KREDBEBB", "name": "KBC Bank", "bic": "KREDBEBB", "transaction_total_days": "730",
     "max_access_valid_for_days": "180", "countries": ["BE"],
     "logo": "https://cdn-logos.gocardless.com/ais/KBC_KREDBEBB.png"},
    {"id": "BELFIUS_GKCCBEBB", "name": "Belfius", "bic": "GKCCBEBB", "transaction_total_days": "540",
     "max_access_valid_for_days": "90", "countries": ["BE"],
     "logo": "https://cdn-logos.gocardless.com/ais/BELFIUS_GKCCBEBB.png"},
    {"id": "ING_INGBNL2A", "name": "ING", "bic": "INGBNL2A", "transaction_total_days": "730",
     "max_access_valid_for_days": "180", "countries": ["NL"],
     "logo": "https://cdn-logos.gocardless.com/ais/ING_INGBNL2A.png"},
]
ACCESS_SCOPES = ("balances", "details", "transactions")
#: Fields each request body accepts (the OpenAPI request schemas).
AGREEMENT_FIELDS = {"institution_id", "max_historical_days", "access_valid_for_days", "access_scope"}
REQUISITION_FIELDS = {"redirect", "institution_id", "agreement", "reference", "user_language", "ssn",
                      "account_selection", "redirect_immediate"}
COUNTRIES = {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GB", "GR", "HR", "HU",
             "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK"}

#: (name, IBAN or "", remittance, sign, low, high)
COUNTERPARTIES = [
    ("Acme Trading SA", "BE71096123456769", "INV/{ref}", 1, 300, 2500),
    ("Bureau Supplies NV", "NL91ABNA0417164300", "Order {ref}", -1, 20, 400),
    ("Contoso Energy", "FR1420041010050500013M02606", "Direct debit {ref}", -1, 60, 300),
    ("City Parking", "", "CARD 4411 CITY PARKING", -1, 3, 30),
    ("Fabrikam GmbH", "DE89370400440532013000", "Payment {ref}", 1, 100, 1800),
]


def _now():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _money(amount, currency):
    return {"amount": f"{amount:.2f}", "currency": currency}


class FakeGoCardless(FakeAggregator, FakeBankControls):
    """GoCardless Bank Account Data with one company, two shared accounts (EUR and USD)."""

    provider_code = "gocardless"
    institution_id = "SANDBOXFINANCE_SFIN0000"
    SECRET_ID = "6a1b9f0e-3c1d-4f0a-9d61-0f2b0c6b7e11"
    SECRET_KEY = "1f6f3c0d2b8e4a7f9c0e5d4b3a291807a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1"
    REQUEST_ID_HEADER = "X-Request-Id"
    #: Token lifetimes in seconds, as ``token/new`` announces them.
    access_expires = 86400
    refresh_expires = 2592000

    def __init__(self):
        super().__init__()
        self.access_tokens = {}
        self.refresh_tokens = {}
        self.agreements = {}
        self.requisitions = {}
        self.account_uids = {}  # GoCardless account id -> (requisition id, bank account key)
        self.last_request_id = None
        self._cancel_next = False
        self._down = False
        #: Account data calls refused with the bank's quota answer: (count, seconds to reset, bank key or None).
        self._quota = None
        #: Successful calls per (bank account, scope): the bank counts only those.
        self.successful_calls = {}
        #: The bank's daily quota of successful calls per account and scope, told in the
        #: ``HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_*`` headers of each account data answer; None: not set.
        self.account_success_limit = None
        self._quota_headers = {}
        self._break_next = False
        self._sequence = 0
        #: The only id booked rows carry (see ``use_id_style``); None: the seeded mix.
        self.id_style = None
        self.banks = {}
        for iban, currency, name, opening in (("BE68539007547034", "EUR", "Business Current Account", "12500.00"),
                                              ("BE62510007547061", "USD", "USD Account", "4300.00")):
            key = f"{iban}:{currency}"
            self.banks[key] = {"iban": iban, "currency": currency, "name": name, "owner": "Example Company SA",
                               "opening": Decimal(opening), "booked": [], "pending": []}
            self._seed(key)

    # seeded data ---------------------------------------------------------------

    def _seed(self, key):
        bank = self.banks[key]
        currency = bank["currency"]
        rng = random.Random(f"gocardless:{key}")
        today = date.today()
        for index, offset in enumerate(sorted(rng.sample(range(1, 101), 40), reverse=True)):
            name, iban, remittance, sign, low, high = rng.choice(COUNTERPARTIES)
            amount = Decimal(rng.randint(low * 100, high * 100)) / 100 * sign
            day = today - timedelta(days=offset)
            row = self._row(currency, amount, day, value_date=day - timedelta(days=index % 2),
                            remittance=remittance.format(ref=f"{day:%Y}/{index + 100:04d}"),
                            counterparty=name, counterparty_iban=iban)
            # Not every bank gives every id: some rows only have an entry reference or GoCardless' own id.
            if index % 5 == 3:
                del row["transactionId"]
            elif index % 7 == 5:
                del row["transactionId"], row["entryReference"]
            bank["booked"].append(row)
        if currency == "EUR":
            self.known_credit = self._row(
                currency, Decimal("1250.00"), today - timedelta(days=3), value_date=today - timedelta(days=4),
                remittance="INV/2024/0117", counterparty="Acme Trading SA", counterparty_iban="BE71096123456769",
                endToEndId="ACME-PAY-88231", bankTransactionCode="PMNT-RCDT-ESCT")
            self.known_foreign = self._row(
                currency, Decimal("-45.30"), today - timedelta(days=5), value_date=today - timedelta(days=5),
                remittance=None, counterparty="London Paper Ltd", counterparty_iban="GB29NWBK60161331926819",
                remittanceInformationUnstructuredArray=["Order 5531", "Paper and toner"],
                currencyExchange=[{"sourceCurrency": "GBP", "exchangeRate": "1.1712", "unitCurrency": "GBP",
                                   "targetCurrency": "EUR", "instructedAmount": _money(Decimal("38.68"), "GBP")}])
            bank["booked"] += [self.known_credit, self.known_foreign]
        bank["pending"] = [
            {"valueDate": today.isoformat(), "transactionAmount": _money(Decimal("-12.99"), currency),
             "remittanceInformationUnstructured": "CARD 4411 COFFEE BAR BRUSSELS"},
            {"internalTransactionId": self._internal_id(), "valueDate": (today - timedelta(days=1)).isoformat(),
             "transactionAmount": _money(Decimal("-64.10"), currency), "creditorName": "Umbrella Travel",
             "remittanceInformationUnstructured": "CARD 4411 UMBRELLA TRAVEL MADRID"},
        ]

    def _row(self, currency, amount, day, value_date=None, remittance=None, counterparty=None,
             counterparty_iban=None, **extra):
        self._sequence += 1
        reference = f"{day:%Y%m%d}{self._sequence:08d}"
        side = "debtor" if amount >= 0 else "creditor"
        row = {"transactionId": f"{reference}-1", "entryReference": reference,
               "internalTransactionId": self._internal_id(),
               "bookingDate": day.isoformat(), "valueDate": (value_date or day).isoformat(),
               "transactionAmount": _money(amount, currency),
               "proprietaryBankTransactionCode": "SEPA-CT-IN" if amount >= 0 else "SEPA-CT-OUT"}
        if counterparty:
            row[f"{side}Name"] = counterparty
        if counterparty_iban:
            row[f"{side}Account"] = {"iban": counterparty_iban}
        if remittance:
            row["remittanceInformationUnstructured"] = remittance
        row.update(extra)
        return row

    def _internal_id(self):
        self._sequence += 1
        return hashlib.md5(f"internal-{self._sequence}".encode()).hexdigest()

    @staticmethod
    def _scoped(row, uid):
        """``row`` as served under the account id ``uid``: its ``internalTransactionId`` is unique within it."""
        row = dict(row)
        if row.get("internalTransactionId"):
            row["internalTransactionId"] = hashlib.md5(f"{uid}:{row['internalTransactionId']}".encode()).hexdigest()
        return row

    def _current_uid(self, key):
        """The account id the latest linked requisition gives the bank account ``key``."""
        for uid, (requisition_id, bank_key) in reversed(list(self.account_uids.items())):
            requisition = self.requisitions[requisition_id]
            if bank_key == key and requisition["status"] == "LN" and not requisition["deleted"]:
                return uid
        return None

    def reported_id(self, row, account_id):
        """The id the connector reports for the booked ``row`` of ``account_id``, as served now."""
        row = self._scoped(row, self._current_uid(account_id))
        return row.get("transactionId") or row.get("entryReference") or row.get("internalTransactionId")

    # plumbing --------------------------------------------------------------------

    def _reply(self, status, body, headers=None):
        self.last_request_id = uuid.uuid4().hex
        headers = dict(headers or {}, **self._quota_headers)
        self._quota_headers = {}
        return status, body, dict(headers, **{self.REQUEST_ID_HEADER: self.last_request_id})

    def _unauthorized(self, request):
        """The error answer when the Bearer token is missing or not valid, else None."""
        header = request.headers.get("Authorization") or ""
        if not header.startswith("Bearer "):
            return self._reply(401, NO_CREDENTIALS)
        expires = self.access_tokens.get(header[len("Bearer "):])
        if not expires or expires <= _now():
            return self._reply(401, INVALID_TOKEN)
        return None

    def _issue(self, lifetime, store):
        token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9." + uuid.uuid4().hex
        store[token] = _now() + timedelta(seconds=lifetime)
        return token

    @staticmethod
    def _field_error(field, summary, detail=None):
        return {field: {"summary": summary, "detail": detail or summary}, "status_code": 400}

    def not_found(self, request):
        self.last_request_id = uuid.uuid4().hex
        return 404, NOT_FOUND, {self.REQUEST_ID_HEADER: self.last_request_id}

    def _body(self, request, allowed, required):
        """``(body, None)`` for a JSON object with the ``required`` fields and no others, else ``(None, answer)``."""
        try:
            body = request.json()
        except ValueError:
            return None, self._reply(400, {"summary": "Parse error", "detail": "JSON parse error",
                                           "status_code": 400})
        if not isinstance(body, dict):
            return None, self._reply(400, {"summary": "Invalid data", "detail": "Expected a dictionary of items",
                                           "status_code": 400})
        unknown = sorted(set(body) - allowed)
        if unknown:
            return None, self._reply(400, {"summary": "Unknown fields",
                                           "detail": f"Unknown fields {{{', '.join(unknown)}}} in {{body}}",
                                           "status_code": 400})
        missing = [name for name in required if body.get(name) in (None, "")]
        if missing:
            return None, self._reply(400, dict({name: ["This field is required."] for name in missing},
                                               status_code=400))
        return body, None

    @staticmethod
    def _valid_uuid(value):
        try:
            uuid.UUID(str(value))
        except ValueError:
            return False
        return True

    # tokens --------------------------------------------------------------------

    @route("POST", P + r"/token/new/?")
    def token_new(self, request):
        body, refused = self._body(request, {"secret_id", "secret_key"}, ("secret_id", "secret_key"))
        if refused:
            return refused
        if (body["secret_id"], body["secret_key"]) != (self.SECRET_ID, self.SECRET_KEY):
            return self._reply(401, {"summary": "Authentication failed",
                                     "detail": "No active account found with the given credentials",
                                     "status_code": 401})
        return self._reply(200, {
            "access": self._issue(self.access_expires, self.access_tokens), "access_expires": self.access_expires,
            "refresh": self._issue(self.refresh_expires, self.refresh_tokens), "refresh_expires": self.refresh_expires,
        })

    @route("POST", P + r"/token/refresh/?")
    def token_refresh(self, request):
        body, refused = self._body(request, {"refresh"}, ("refresh",))
        if refused:
            return refused
        expires = self.refresh_tokens.get(body["refresh"])
        if not expires or expires <= _now():
            return self._reply(401, INVALID_TOKEN)
        return self._reply(200, {"access": self._issue(self.access_expires, self.access_tokens),
                                 "access_expires": self.access_expires})

    # institutions --------------------------------------------------------------

    @route("GET", P + r"/institutions/?")
    def institutions(self, request):
        refused = self._unauthorized(request)
        if refused:
            return refused
        country = request.arg("country")
        if country is None:
            return self._reply(200, INSTITUTIONS)
        if country.upper() not in COUNTRIES:
            return self._reply(400, {"summary": "Invalid country choice.",
                                     "detail": f"{country} is not a valid choice.",
                                     "status_code": 400})
        return self._reply(200, [item for item in INSTITUTIONS if country.upper() in item["countries"]])

    @route("GET", P + r"/institutions/(?P<institution_id>[^/]+)/?")
    def institution(self, request, institution_id):
        refused = self._unauthorized(request)
        if refused:
            return refused
        for item in INSTITUTIONS:
            if item["id"] == institution_id:
                return self._reply(200, item)
        return self._reply(404, NOT_FOUND)

    # agreements and requisitions -------------------------------------------------

    @route("POST", P + r"/agreements/enduser/?")
    def create_agreement(self, request):
        refused = self._unauthorized(request)
        if refused:
            return refused
        body, refused = self._body(request, AGREEMENT_FIELDS, ("institution_id",))
        if refused:
            return refused
        institution = next((i for i in INSTITUTIONS if i["id"] == body["institution_id"]), None)
        if not institution:
            return self._reply(400, self._field_error(
                "institution_id", f"Unknown Institution ID {body['institution_id']}",
                "Get Institution IDs from /institutions/?country={$COUNTRY_CODE}"))
        history = body.get("max_historical_days", 90)
        validity = body.get("access_valid_for_days", 90)
        for name, value in (("max_historical_days", history), ("access_valid_for_days", validity)):
            if not isinstance(value, int) or isinstance(value, bool):
                return self._reply(400, self._field_error(name, "A valid integer is required."))
        if not 1 <= history <= min(730, int(institution["transaction_total_days"])):
            return self._reply(400, self._field_error(
                "max_historical_days", "Incorrect max_historical_days",
                f"max_historical_days must be > 0 and <= {institution['id']} transaction_total_days "
                f"({institution['transaction_total_days']})"))
        if not 1 <= validity <= min(180, int(institution["max_access_valid_for_days"])):
            return self._reply(400, self._field_error(
                "access_valid_for_days", "Incorrect access_valid_for_days",
                f"access_valid_for_days must be > 0 and <= {institution['max_access_valid_for_days']}"))
        scope = body.get("access_scope", list(ACCESS_SCOPES))
        if not isinstance(scope, list) or not set(scope) <= set(ACCESS_SCOPES):
            return self._reply(400, self._field_error(
                "access_scope", "Unknown value in access_scope",
                "Choose one or several from ['balances', 'details', 'transactions']"))
        agreement = {"id": str(uuid.uuid4()), "created": _now().isoformat() + "Z",
                     "institution_id": institution["id"], "max_historical_days": history,
                     "access_valid_for_days": validity,
                     "access_scope": scope,
                     "accepted": None}
        self.agreements[agreement["id"]] = agreement
        return self._reply(201, agreement)

    @route("GET", P + r"/agreements/enduser/(?P<agreement_id>[^/]+)/?")
    def agreement(self, request, agreement_id):
        refused = self._unauthorized(request)
        if refused:
            return refused
        agreement = self.agreements.get(agreement_id)
        return self._reply(200, agreement) if agreement else self._reply(404, NOT_FOUND)

    @route("POST", P + r"/requisitions/?")
    def create_requisition(self, request):
        refused = self._unauthorized(request)
        if refused:
            return refused
        body, refused = self._body(request, REQUISITION_FIELDS, ("redirect", "institution_id"))
        if refused:
            return refused
        redirect = body["redirect"]
        if not isinstance(redirect, str) or len(redirect) > 1024 or urlsplit(redirect).scheme not in ("http", "https"):
            return self._reply(400, self._field_error("redirect", "Invalid redirect URI",
                                                      "Redirect URI must have a valid URI structure"))
        if not any(i["id"] == body["institution_id"] for i in INSTITUTIONS):
            return self._reply(400, self._field_error(
                "institution_id", f"Unknown Institution ID {body['institution_id']}",
                "Get Institution IDs from /institutions/?country={$COUNTRY_CODE}"))
        if body.get("agreement") is not None:
            if not self._valid_uuid(body["agreement"]):
                return self._reply(400, self._field_error("agreement", "Invalid EndUserAgreement ID",
                                                          f"{body['agreement']} is not a valid EndUserAgreement UUID."))
            agreement = self.agreements.get(body["agreement"])
            if not agreement:
                return self._reply(404, {"agreement": {"summary": f"ID {body['agreement']} not found",
                                                       "detail": "Please check whether you specified a valid ID"},
                                         "status_code": 404})
            if agreement["institution_id"] != body["institution_id"]:
                return self._reply(400, self._field_error(
                    "agreement", f"Incorrect Institution ID {body['institution_id']}",
                    "Provided Institution ID for requisition does not match EUA institution ID"))
        reference = body.get("reference")
        if reference is not None and (not isinstance(reference, str) or not 1 <= len(reference) <= 256):
            return self._reply(400, self._field_error(
                "reference", "Ensure this field has no more than 256 characters."))
        if reference and any(r["reference"] == reference for r in self.requisitions.values()):
            return self._reply(400, self._field_error("reference", "Client reference must be unique",
                                                      f"Client reference: {reference} already exists"))
        requisition_id = str(uuid.uuid4())
        requisition = {
            "id": requisition_id, "created": _now().isoformat() + "Z", "redirect": body["redirect"],
            "status": "CR", "institution_id": body["institution_id"], "agreement": body.get("agreement"),
            "reference": body.get("reference") or requisition_id, "accounts": [],
            "user_language": body.get("user_language") or "EN",
            "link": f"{self.url}/psd2/start/{requisition_id}/{body['institution_id']}",
            "ssn": None, "account_selection": False, "redirect_immediate": False, "deleted": False,
        }
        self.requisitions[requisition_id] = requisition
        return self._reply(201, self._public(requisition))

    @route("GET", P + r"/requisitions/(?P<requisition_id>[^/]+)/?")
    def requisition(self, request, requisition_id):
        refused = self._unauthorized(request)
        if refused:
            return refused
        if not self._valid_uuid(requisition_id):
            return self._reply(400, {"summary": "Invalid ID", "detail": f"{requisition_id} is not a valid UUID.",
                                     "status_code": 400})
        requisition = self.requisitions.get(requisition_id)
        if not requisition or requisition["deleted"]:
            return self._reply(404, NOT_FOUND)
        return self._reply(200, self._public(requisition))

    @route("DELETE", P + r"/requisitions/(?P<requisition_id>[^/]+)/?")
    def delete_requisition(self, request, requisition_id):
        refused = self._unauthorized(request)
        if refused:
            return refused
        if not self._valid_uuid(requisition_id):
            return self._reply(400, {"summary": "Invalid ID", "detail": f"{requisition_id} is not a valid UUID.",
                                     "status_code": 400})
        requisition = self.requisitions.get(requisition_id)
        if not requisition or requisition["deleted"]:
            return self._reply(404, NOT_FOUND)
        requisition["deleted"] = True
        self.agreements.pop(requisition["agreement"] or "", None)
        return self._reply(200, {"summary": "Requisition deleted",
                                 "detail": f"Requisition {requisition_id} deleted with all its End User Agreements"})

    @staticmethod
    def _public(requisition):
        return {key: value for key, value in requisition.items() if key != "deleted"}

    @route("GET", r"/psd2/start/(?P<requisition_id>[^/]+)/(?P<institution_id>[^/]+)/?")
    def consent_page(self, request, requisition_id, institution_id):
        """The hosted page: the user consents, picks every account and is sent back with ``ref``."""
        requisition = self.requisitions.get(requisition_id)
        if not requisition or requisition["deleted"] or requisition["institution_id"] != institution_id:
            return 404, "Not found"
        parts = urlsplit(requisition["redirect"])
        if self._cancel_next:
            self._cancel_next = False
            query = urlencode({"ref": requisition["reference"], "error": "UserCancelledSession",
                               "details": "User cancelled the session."})
            return 302, "", {"Location": urlunsplit(parts._replace(query=f"{parts.query}&{query}" if parts.query
                                                                   else query))}
        requisition["status"] = "LN"
        for key in self.banks:
            uid = str(uuid.uuid4())
            self.account_uids[uid] = (requisition_id, key)
            requisition["accounts"].append(uid)
        if requisition["agreement"]:
            self.agreements[requisition["agreement"]]["accepted"] = _now().isoformat() + "Z"
        ref = urlencode({"ref": requisition["reference"]})
        location = urlunsplit(parts._replace(query=f"{parts.query}&{ref}" if parts.query else ref))
        return 302, "", {"Location": location}

    # accounts ------------------------------------------------------------------

    def _account(self, request, uid, scope):
        """``(bank account, None)`` when a data call on ``scope`` may go on, else ``(None, error answer)``."""
        refused = self._unauthorized(request)
        if refused:
            return None, refused
        if not self._valid_uuid(uid):
            return None, self._reply(400, {"summary": "Invalid Account ID",
                                           "detail": f"{uid} is not a valid Account UUID. ", "status_code": 400})
        requisition_id, key = self.account_uids.get(uid, (None, None))
        requisition = self.requisitions.get(requisition_id)
        if not requisition or requisition["deleted"]:
            return None, self._reply(404, {"summary": f"Account ID {uid} not found",
                                           "detail": "Please check whether you specified a valid Account ID",
                                           "status_code": 404})
        summary = f"Couldn't update account {scope}"
        if requisition["status"] == "EX":
            return None, self._reply(401, {
                "summary": summary,
                "detail": "Access has expired or it has been revoked. To restore access reconnect the account.",
                "type": "AccessExpiredError", "status_code": 401})
        if self._down:
            return None, self._reply(503, {"summary": summary, "detail": "Institution service unavailable",
                                           "type": "ServiceError", "status_code": 503})
        if self._quota and self._quota["key"] in (None, key):
            self._quota["count"] -= 1
            reset = max(0, int((self._quota["until"] - _now()).total_seconds()))
            if self._quota["count"] <= 0 and reset <= 0:
                self._quota = None
            return None, self._quota_used_up(summary, 4, reset)
        used = self.successful_calls.get((key, scope), 0)
        if self.account_success_limit is not None:
            tomorrow = datetime.combine(_now().date() + timedelta(days=1), datetime.min.time())
            reset = int((tomorrow - _now()).total_seconds())
            if used >= self.account_success_limit:
                return None, self._quota_used_up(summary, self.account_success_limit, reset)
            self._quota_headers = self._quota_header_values(self.account_success_limit,
                                                            self.account_success_limit - used - 1, reset)
        self.successful_calls[key, scope] = used + 1
        return self.banks[key], None

    @staticmethod
    def _quota_header_values(limit, remaining, reset):
        return {"HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_LIMIT": str(limit),
                "HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_REMAINING": str(remaining),
                "HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_RESET": str(reset)}

    def _quota_used_up(self, summary, limit, reset):
        """The bank's answer once its daily quota of the account is used up."""
        return self._reply(429, {
            "summary": summary, "detail": "Daily request limit set by the Institution has been exceeded.",
            "type": "RateLimitError", "status_code": 429,
        }, self._quota_header_values(limit, 0, reset))

    @route("GET", P + r"/accounts/(?P<uid>[^/]+)/details/?")
    def details(self, request, uid):
        bank, refused = self._account(request, uid, "details")
        if refused:
            return refused
        return self._reply(200, {"account": {
            "resourceId": hashlib.md5(bank["iban"].encode()).hexdigest(), "iban": bank["iban"],
            "currency": bank["currency"], "ownerName": bank["owner"], "name": bank["name"],
            "product": "Business account", "cashAccountType": "CACC", "status": "enabled", "usage": "ORGA",
        }})

    @route("GET", P + r"/accounts/(?P<uid>[^/]+)/balances/?")
    def balances(self, request, uid):
        bank, refused = self._account(request, uid, "balances")
        if refused:
            return refused
        booked = bank["opening"] + sum(Decimal(row["transactionAmount"]["amount"]) for row in bank["booked"])
        available = booked + sum(Decimal(row["transactionAmount"]["amount"]) for row in bank["pending"])
        yesterday = (date.today() - timedelta(days=1)).isoformat()
        return self._reply(200, {"balances": [
            {"balanceAmount": _money(available, bank["currency"]), "balanceType": "interimAvailable",
             "creditLimitIncluded": False, "referenceDate": date.today().isoformat()},
            {"balanceAmount": _money(booked, bank["currency"]), "balanceType": "closingBooked",
             "referenceDate": yesterday},
        ]})

    def _history_start(self, requisition_id=None):
        """The oldest booking date the agreement gives access to: ``max_historical_days`` days, today included."""
        if requisition_id is None:
            linked = [r for r in self.requisitions.values() if r["status"] == "LN" and not r["deleted"]]
            requisition_id = linked[-1]["id"] if linked else None
        requisition = self.requisitions.get(requisition_id) or {}
        agreement = self.agreements.get(requisition.get("agreement") or "") or {}
        return date.today() - timedelta(days=int(agreement.get("max_historical_days") or 90) - 1)

    @route("GET", P + r"/accounts/(?P<uid>[^/]+)/transactions/?")
    def transactions(self, request, uid):
        bank, refused = self._account(request, uid, "transactions")
        if refused:
            return refused
        try:
            date_from = date.fromisoformat(request.arg("date_from") or "1970-01-01")
            date_to = date.fromisoformat(request.arg("date_to") or date.today().isoformat())
        except ValueError:
            return self._reply(400, self._field_error("date_from", "Date has wrong format. Use YYYY-MM-DD."))
        if date_from > date_to:
            return self._reply(400, {"summary": "Incorrect date range",
                                     "detail": f"Starting date '{date_from}' is greater than end date '{date_to}'. "
                                               "When specifying date range, starting date must precede the end date",
                                     "status_code": 400})
        date_from = max(date_from, self._history_start(self.account_uids[uid][0]))
        booked = [self._scoped(row, uid) for row in sorted(bank["booked"], key=lambda r: r["bookingDate"], reverse=True)
                  if date_from.isoformat() <= row["bookingDate"] <= date_to.isoformat()]
        if self._break_next and booked:
            self._break_next = False
            del booked[0]["transactionAmount"]
        pending = [self._scoped(row, uid) for row in bank["pending"]]
        return self._reply(200, {"transactions": {"booked": booked, "pending": pending}})

    # controls -------------------------------------------------------------------

    def provider_config(self):
        return {"environment": "sandbox", "base_url": self.url, "client_id": self.SECRET_ID,
                "client_secret": self.SECRET_KEY, "timeout": 2, "retries": 2, "backoff": 0.01}

    def consent(self, consent_url):
        answer = requests.get(consent_url, allow_redirects=False, timeout=5)
        if answer.status_code != 302:
            raise AssertionError(f"The consent page answered {answer.status_code}")
        return {name: values[0] for name, values in parse_qs(urlsplit(answer.headers["Location"]).query).items()}

    def account_ids(self):
        return list(self.banks)

    def posted_ids(self, account_id):
        """Ids of the booked rows the current agreement gives access to (older ones are never served)."""
        oldest = self._history_start().isoformat()
        return [self.reported_id(row, account_id) for row in self.banks[account_id]["booked"]
                if row["bookingDate"] >= oldest]

    def add_transaction(self, account_id, amount, booking_date, pending=False):
        bank = self.banks[account_id]
        if pending:
            # Banks list pending rows without their own ids; GoCardless still adds its hash.
            row = {"internalTransactionId": self._internal_id(), "valueDate": booking_date.isoformat(),
                   "transactionAmount": _money(amount, bank["currency"]),
                   "remittanceInformationUnstructured": "CARD PAYMENT"}
            bank["pending"].append(row)
            return self._scoped(row, self._current_uid(account_id))["internalTransactionId"]
        row = self._row(bank["currency"], amount, booking_date, remittance="Transfer")
        if self.id_style:
            self._restyle(row)
        bank["booked"].append(row)
        return self.reported_id(row, account_id)

    def post_pending(self):
        """Pending rows disappear and booked rows with the bank's new ids appear in their place."""
        for bank in self.banks.values():
            for row in bank["pending"]:
                day = date.fromisoformat(row.get("valueDate") or date.today().isoformat())
                extra = {k: v for k, v in row.items()
                         if k not in ("internalTransactionId", "valueDate", "transactionAmount")}
                amount = Decimal(row["transactionAmount"]["amount"])
                row = self._row(bank["currency"], amount, day, **extra)
                if self.id_style:
                    self._restyle(row)
                bank["booked"].append(row)
            bank["pending"] = []

    def cancel_next_consent(self):
        self._cancel_next = True

    def use_id_style(self, style):
        """From now on every booked row carries only ``style``'s id: ``transactionId``, ``entryReference``,
        ``internalTransactionId`` (unique within one account id only) or ``none``."""
        self.id_style = style
        for bank in self.banks.values():
            for row in bank["booked"]:
                self._restyle(row)

    def _restyle(self, row):
        self._sequence += 1
        for name in ("transactionId", "entryReference", "internalTransactionId"):
            if name != self.id_style:
                row.pop(name, None)
            elif not row.get(name):
                row[name] = self._internal_id() if name == "internalTransactionId" else f"{name}-{self._sequence}"

    def expire_consent(self):
        for requisition in self.requisitions.values():
            if requisition["status"] == "LN":
                requisition["status"] = "EX"

    def expire_access_token(self):
        self.access_tokens.clear()

    def rate_limit(self, retry_after=0, account_id=None):
        """The bank's daily quota (of ``account_id``, or of every account) is used up for ``retry_after`` seconds.

        With a zero reset it refuses the next call and every repetition the connector makes of it.
        """
        self._quota = {"count": self.provider_config()["retries"] + 1, "key": account_id,
                       "until": _now() + timedelta(seconds=retry_after)}

    def reset_quota(self):
        """The bank's day is over: its quota is available again."""
        self._quota = None

    def go_down(self):
        self._down = True

    def come_back(self):
        self._down = False

    def break_next_transactions_page(self):
        self._break_next = True

    @property
    def revoked(self):
        created = [r for r in self.requisitions.values() if r["status"] != "CR"]
        return bool(created) and all(r["deleted"] for r in created)
