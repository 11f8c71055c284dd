"""A fake Enable Banking API (AIS part), built from Enable Banking's published reference.

Sources:
- Enable Banking API reference, https://enablebanking.com/docs/api/reference/ (endpoints ``/aspsps``,
  ``/auth``, ``/sessions``, ``/accounts/{uid}/balances``, ``/accounts/{uid}/transactions`` with
  ``date_from``, ``continuation_key`` and ``strategy``; the ``ASPSP`` fields ``psu_types``,
  ``maximum_consent_validity``, ``required_psu_headers``; the ``Psu-*`` request headers; the
  ``ErrorResponse`` body ``{code, message, error, detail}`` and its error codes), as summarised with
  sources in the project's provider sheet; error codes and enumerations cross-checked with the
  public Go client github.com/marefr/enablebankinggo (``errors.go``, ``enumerations.go``).
- https://enablebanking.com/docs/api/sandbox and the FAQ (sandbox applications, unattended access).
- JWT rules: RS256, ``kid`` = application id, ``iss`` enablebanking.com, ``aud``
  api.enablebanking.com, lifetime at most 24 hours (quick start).

Guessed (not confirmed from a primary source): the request id header name; the 404 body of an
unknown route; which headers an ASPSP lists in ``required_psu_headers`` (here Nordea FI lists
``Psu-Ip-Address``, ``Psu-User-Agent`` and ``Psu-Accept-Language``); that sending some but not all
of them is refused with ``PSU_HEADER_NOT_PROVIDED``; that only calls without PSU headers count
against the bank's daily unattended quota (``unattended_limit``, off unless a test sets it), and
that a continuation page does not count; the page size.

Every call's JWT is checked against the public key of the application the fake generated.
Transactions are paged with a ``continuation_key``; the bank's consent page redirects to the
``redirect_url`` with ``state`` and ``code``. Each session gives new account ``uid`` values.
"""
import base64
import binascii
import json
import random
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .server import FakeAggregator, FakeBankControls, route

PAGE_SIZE = 10
REQUEST_ID_HEADER = "X-Request-Id"
CENT = Decimal("0.01")

PSU_HEADERS = ("Psu-Ip-Address", "Psu-User-Agent", "Psu-Referer", "Psu-Accept", "Psu-Accept-Charset",
               "Psu-Accept-Encoding", "Psu-Accept-Language", "Psu-Geo-Location")

ASPSPS = (
    {"name": "Nordea", "country": "FI", "psu_types": ["personal", "business"], "beta": False,
     "bic": "NDEAFIHH", "maximum_consent_validity": 180 * 86400,
     "required_psu_headers": ["Psu-Ip-Address", "Psu-User-Agent", "Psu-Accept-Language"]},
    {"name": "OP", "country": "FI", "psu_types": ["personal"], "beta": False,
     "bic": "OKOYFIHH", "maximum_consent_validity": 90 * 86400},
    {"name": "Aktia", "country": "FI", "psu_types": ["personal", "business"], "beta": True,
     "bic": "HELSFIHH", "maximum_consent_validity": 90 * 86400},
    {"name": "Nordea", "country": "SE", "psu_types": ["personal", "business"], "beta": False,
     "bic": "NDEASESS", "maximum_consent_validity": 180 * 86400},
    {"name": "Handelsbanken", "country": "SE", "psu_types": ["business"], "beta": False,
     "bic": "HANDSESS", "maximum_consent_validity": 180 * 86400},
)

#: (key, account_id, identification_hash, details, currency)
ACCOUNTS = (
    ("eur", {"iban": "FI2112345600000785"}, "WwpbImFjY291bnQiLCJldXIiXV0K", "Yritystili", "EUR"),
    ("sek", {"other": {"identification": "3300-1234567", "scheme_name": "BBAN"}},
     "WwpbImFjY291bnQiLCJzZWsiXV0K", "Valutakonto SEK", "SEK"),
)

#: (name, IBAN or "", remittance, direction, low, high)
COUNTERPARTIES = (
    ("Acme Trading Oy", "FI4950009420028730", "Lasku {ref}", "CRDT", 300, 2500),
    ("Toimistotarvike Oy", "FI9814283500171141", "Tilaus {ref}", "DBIT", 20, 400),
    ("Helsingin Energia", "FI7440560010101118", "Sähkö {ref}", "DBIT", 60, 300),
    ("Svensk Handel AB", "SE4550000000058398257466", "Faktura {ref}", "CRDT", 150, 1800),
    ("Kahvila Helsinki", "", "KORTTIOSTO KAHVILA HELSINKI", "DBIT", 3, 25),
)


def _b64decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _money(amount, currency):
    return {"amount": str(abs(amount).quantize(CENT)), "currency": currency}


class FakeEnableBanking(FakeAggregator, FakeBankControls):
    """Enable Banking with one application, the ASPSPs above and two shared accounts (EUR, SEK)."""

    provider_code = "enable_banking"
    institution_id = "FI:Nordea"

    def __init__(self):
        super().__init__()
        self.application_id = str(uuid.uuid4())
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key = self.private_key.public_key()
        #: Redirect URLs registered on the application (None: any is accepted).
        self.redirect_urls = None
        #: How far back the bank accepts a ``date_from`` with the default strategy.
        self.max_history_days = 730
        #: False: the bank returns its whole history whatever ``date_from`` says.
        self.honour_date_from = True
        self.deny_next_consent = False
        self.authorizations = {}
        self.codes = {}
        self.sessions = {}
        self.current_session = None
        self.uids = {}
        self.seen_tokens = set()
        self.expired_tokens = set()
        self.down = False
        self._rate_limit = None
        self._break_next = False
        self._sequence = 0
        #: Calls without PSU headers the bank allows per account and day (None: no limit).
        self.unattended_limit = None
        self.unattended_calls = {}
        #: ``(path, {PSU header: value})`` of every account data call.
        self.psu_calls = []
        #: False: booked rows carry no ``entry_reference`` and a new ``transaction_id`` at each call.
        self.entry_references = True
        self.transactions = {key: self._seed(index, key, currency)
                             for index, (key, _a, _h, _d, currency) in enumerate(ACCOUNTS)}

    # seeded data -----------------------------------------------------------

    def _next_reference(self, day):
        self._sequence += 1
        return f"{day:%Y%m%d}-{self._sequence:09d}"

    def _row(self, amount, currency, booking_date, status="BOOK", counterparty=None, remittance="", **extra):
        """An Enable Banking transaction; ``amount`` is signed (positive = money in)."""
        direction = "CRDT" if amount > 0 else "DBIT"
        row = {
            "entry_reference": self._next_reference(booking_date) if status == "BOOK" else None,
            "transaction_id": str(uuid.uuid4()),
            "transaction_amount": _money(amount, currency),
            "credit_debit_indicator": direction,
            "status": status,
            "booking_date": booking_date.isoformat() if status == "BOOK" else None,
            "value_date": booking_date.isoformat() if status == "BOOK" else None,
            "transaction_date": booking_date.isoformat(),
            "remittance_information": [remittance] if remittance else [],
        }
        if counterparty:
            name, iban = counterparty
            side = "creditor" if direction == "DBIT" else "debtor"
            row[side] = {"name": name}
            if iban:
                row[f"{side}_account"] = {"iban": iban}
        row.update(extra)
        return row

    def _seed(self, index, key, currency):
        rng = random.Random(f"enable-banking-{key}")
        today = date.today()
        rows = []
        for number in range(40):
            name, iban, remittance, direction, low, high = COUNTERPARTIES[rng.randrange(len(COUNTERPARTIES))]
            amount = Decimal(rng.randint(low * 100, high * 100)) * CENT
            day = today - timedelta(days=1 + (number * 99) // 40)
            rows.append(self._row(
                amount if direction == "CRDT" else -amount, currency, day,
                counterparty=(name, iban), remittance=remittance.format(ref=f"{index}{number:03d}"),
                reference_number=f"RF18{index}{number:05d}" if direction == "CRDT" else None,
            ))
        # A card payment abroad, with the amount in the merchant's currency.
        rows[5] = self._row(Decimal("-45.30"), currency, today - timedelta(days=13),
                            counterparty=("Grand Hotel New York", ""), remittance="CARD NEW YORK",
                            exchange_rate={"unit_currency": "USD", "exchange_rate": "1.0843",
                                           "instructed_amount": {"amount": "49.12", "currency": "USD"}})
        rows.append(self._row(Decimal("-12.99"), currency, today, status="PDNG",
                              counterparty=("Kahvila Helsinki", ""), remittance="KORTTIOSTO KAHVILA HELSINKI"))
        rows.append(self._row(Decimal("250.00"), currency, today - timedelta(days=1), status="PDNG",
                              counterparty=("Acme Trading Oy", "FI4950009420028730"), remittance="Lasku 2024-117",
                              entry_reference=f"P{index}-{uuid.uuid4().hex[:10]}"))
        return rows

    # helpers ----------------------------------------------------------------

    def _answer(self, status, body):
        return status, body, {REQUEST_ID_HEADER: str(uuid.uuid4())}

    def _error(self, status, error, message, headers=None):
        status, body, default = self._answer(status, {"code": status, "message": message, "error": error,
                                                      "detail": None})
        return status, body, dict(default, **(headers or {}))

    def _check_jwt(self, request):
        """None when the call carries a valid application JWT, else the API's error answer."""
        authorization = request.headers.get("Authorization") or ""
        if not authorization.startswith("Bearer "):
            return self._error(401, "AUTHORIZATION_NOT_PROVIDED", "Authorization header is not provided")
        token = authorization[len("Bearer "):].strip()
        try:
            header_text, claims_text, signature_text = token.split(".")
            header = json.loads(_b64decode(header_text))
            claims = json.loads(_b64decode(claims_text))
            signature = _b64decode(signature_text)
        except (ValueError, binascii.Error):
            return self._error(401, "UNAUTHORIZED_ACCESS", "Invalid JWT")
        if header.get("alg") != "RS256" or header.get("kid") != self.application_id:
            return self._error(401, "UNAUTHORIZED_ACCESS", "Unknown application")
        try:
            self.public_key.verify(signature, f"{header_text}.{claims_text}".encode(),
                                   padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return self._error(401, "UNAUTHORIZED_ACCESS", "JWT signature verification failed")
        now = time.time()
        iat, exp = claims.get("iat"), claims.get("exp")
        if (claims.get("iss") != "enablebanking.com" or claims.get("aud") != "api.enablebanking.com"
                or not isinstance(iat, int) or not isinstance(exp, int)
                or exp - iat > 86400 or iat > now + 60):
            return self._error(401, "UNAUTHORIZED_ACCESS", "Invalid JWT claims")
        if exp <= now or token in self.expired_tokens:
            return self._error(401, "UNAUTHORIZED_ACCESS", "JWT is expired")
        self.seen_tokens.add(token)
        return None

    def not_found(self, request):
        return self._error(404, "NOT_FOUND", "Not Found")

    def _psu(self, request, uid, counted):
        """None when the call's PSU headers are acceptable (and within quota), else the error answer."""
        sent = {name: request.headers[name] for name in PSU_HEADERS if request.headers.get(name)}
        self.psu_calls.append((request.path, sent))
        session_id, key = self.uids[uid]
        aspsp = next(a for a in ASPSPS if a["name"] == self.sessions[session_id]["aspsp"]["name"]
                     and a["country"] == self.sessions[session_id]["aspsp"]["country"])
        required = aspsp.get("required_psu_headers") or []
        if sent and any(name not in sent for name in required):
            return self._error(400, "PSU_HEADER_NOT_PROVIDED",
                               f"Required PSU headers not provided: {', '.join(n for n in required if n not in sent)}")
        if not sent and counted and self.unattended_limit is not None:
            count = self.unattended_calls.get(key, 0) + 1
            self.unattended_calls[key] = count
            if count > self.unattended_limit:
                return self._error(429, "ASPSP_RATE_LIMIT_EXCEEDED", "ASPSP rate limit exceeded")
        return None

    def _account(self, uid):
        """``(account key, None)`` for a usable account uid, else ``(None, error answer)``."""
        if uid not in self.uids:
            return None, self._error(404, "ACCOUNT_DOES_NOT_EXIST", "No account found matching provided id")
        session_id, key = self.uids[uid]
        session = self.sessions[session_id]
        if session["status"] == "AUTHORIZED" and datetime.now(timezone.utc) >= session["valid_until"]:
            session["status"] = "EXPIRED"
        errors = {"EXPIRED": "EXPIRED_SESSION", "CLOSED": "CLOSED_SESSION", "REVOKED": "REVOKED_SESSION"}
        if session["status"] != "AUTHORIZED":
            error = errors.get(session["status"], "WRONG_SESSION_STATUS")
            return None, self._error(401, error, f"Session is {session['status'].lower()}")
        if self.down:
            return None, self._error(502, "ASPSP_ERROR", "Error interacting with ASPSP")
        if self._rate_limit is not None:
            retry_after, self._rate_limit = self._rate_limit, None
            return None, self._error(429, "ASPSP_RATE_LIMIT_EXCEEDED", "ASPSP rate limit exceeded",
                                     {"Retry-After": str(retry_after)})
        return key, None

    def _balances_after(self, key):
        """The booked balance after each booked row (by ``id``), in booking order, as the bank keeps its book."""
        currency = next(c for k, _a, _h, _d, c in ACCOUNTS if k == key)
        balance, after = Decimal("10000.00"), {}
        for row in sorted((r for r in self.transactions[key] if r["status"] == "BOOK"), key=self._day):
            sign = 1 if row["credit_debit_indicator"] == "CRDT" else -1
            balance += Decimal(row["transaction_amount"]["amount"]) * sign
            after[id(row)] = {"amount": str(balance), "currency": currency}
        return after

    @staticmethod
    def _day(row):
        return date.fromisoformat(row["booking_date"] or row["transaction_date"])

    def _key_of(self, account_id):
        for key, account, identification_hash, _d, _c in ACCOUNTS:
            if account_id in (account.get("iban"), identification_hash):
                return key
        raise KeyError(account_id)

    # API --------------------------------------------------------------------

    @route("GET", "/aspsps")
    def aspsps(self, request):
        denied = self._check_jwt(request)
        if denied:
            return denied
        country, psu_type = request.arg("country"), request.arg("psu_type")
        return self._answer(200, {"aspsps": [
            dict(aspsp, logo=f"https://enablebanking.com/brands/{aspsp['country']}/{aspsp['name']}/",
                 auth_methods=[{"name": "redirect", "approach": "REDIRECT", "hidden_method": False}],
                 required_psu_headers=aspsp.get("required_psu_headers", []))
            for aspsp in ASPSPS
            if (not country or aspsp["country"] == country) and (not psu_type or psu_type in aspsp["psu_types"])
        ]})

    @route("POST", "/auth")
    def auth(self, request):
        denied = self._check_jwt(request)
        if denied:
            return denied
        body = request.json()
        aspsp = next((a for a in ASPSPS if a["name"] == (body.get("aspsp") or {}).get("name")
                      and a["country"] == (body.get("aspsp") or {}).get("country")), None)
        if not aspsp:
            return self._error(422, "WRONG_ASPSP_PROVIDED", "Wrong ASPSP name provided")
        redirect_url = body.get("redirect_url")
        if not redirect_url or (self.redirect_urls is not None and redirect_url not in self.redirect_urls):
            return self._error(422, "REDIRECT_URI_NOT_ALLOWED", "Redirect URI not allowed")
        try:
            valid_until = datetime.fromisoformat((body.get("access") or {})["valid_until"])
        except (KeyError, TypeError, ValueError):
            return self._error(422, "WRONG_REQUEST_PARAMETERS", "access.valid_until is required")
        limit = datetime.now(timezone.utc) + timedelta(seconds=aspsp["maximum_consent_validity"])
        if valid_until.tzinfo is None or valid_until > limit or body.get("psu_type") not in aspsp["psu_types"]:
            return self._error(422, "WRONG_REQUEST_PARAMETERS", "Wrong request parameters provided")
        authorization_id = str(uuid.uuid4())
        self.authorizations[authorization_id] = {
            "redirect_url": redirect_url, "state": body.get("state"), "valid_until": valid_until,
            "aspsp": {"name": aspsp["name"], "country": aspsp["country"]}, "psu_type": body["psu_type"],
        }
        return self._answer(200, {"url": f"{self.url}/consent/{authorization_id}",
                                  "authorization_id": authorization_id, "psu_id_hash": uuid.uuid4().hex})

    @route("GET", "/consent/(?P<authorization_id>[^/]+)")
    def consent_page(self, request, authorization_id):
        """The bank's page: the user authenticates and is sent back with a code."""
        authorization = self.authorizations.get(authorization_id)
        if not authorization:
            return 404, "Unknown authorization"
        if self.deny_next_consent:
            self.deny_next_consent = False
            params = {"state": authorization["state"], "error": "access_denied",
                      "error_description": "The user cancelled the authorization"}
        else:
            code = str(uuid.uuid4())
            self.codes[code] = authorization_id
            params = {"state": authorization["state"], "code": code}
        parts = urlsplit(authorization["redirect_url"])
        query = urlencode(parse_qsl(parts.query) + list(params.items()))
        return 302, "", {"Location": urlunsplit(parts._replace(query=query))}

    @route("POST", "/sessions")
    def create_session(self, request):
        denied = self._check_jwt(request)
        if denied:
            return denied
        code = request.json().get("code")
        authorization_id = self.codes.get(code)
        if not authorization_id:
            return self._error(422, "WRONG_AUTHORIZATION_CODE", "Wrong authorization code provided")
        authorization = self.authorizations[authorization_id]
        if authorization.get("session_id"):
            return self._error(422, "ALREADY_AUTHORIZED", "Session is already authorized")
        session_id = str(uuid.uuid4())
        authorization["session_id"] = session_id
        accounts = []
        for key, account_id, identification_hash, details, currency in ACCOUNTS:
            uid = str(uuid.uuid4())
            self.uids[uid] = (session_id, key)
            identification = account_id.get("iban") or account_id["other"]["identification"]
            accounts.append({
                "uid": uid, "account_id": account_id,
                "all_account_ids": [{"identification": identification,
                                     "scheme_name": "IBAN" if "iban" in account_id else "BBAN"}],
                "account_servicer": {"bic_fi": "NDEAFIHH"}, "name": "Oy Esimerkki Ab", "details": details,
                "usage": "ORGA", "cash_account_type": "CACC", "product": "Business Account", "currency": currency,
                "identification_hash": identification_hash, "identification_hashes": [identification_hash],
            })
        self.sessions[session_id] = {"status": "AUTHORIZED", "valid_until": authorization["valid_until"],
                                     "aspsp": authorization["aspsp"]}
        self.current_session = session_id
        return self._answer(200, {
            "session_id": session_id, "accounts": accounts, "aspsp": authorization["aspsp"],
            "psu_type": authorization["psu_type"],
            "access": {"valid_until": authorization["valid_until"].isoformat()},
        })

    @route("DELETE", "/sessions/(?P<session_id>[^/]+)")
    def delete_session(self, request, session_id):
        denied = self._check_jwt(request)
        if denied:
            return denied
        session = self.sessions.get(session_id)
        if not session:
            return self._error(404, "SESSION_DOES_NOT_EXIST", "No session found matching provided id")
        session["status"] = "CLOSED"
        return self._answer(200, {"message": "OK"})

    @route("GET", "/accounts/(?P<uid>[^/]+)/balances")
    def balances(self, request, uid):
        denied = self._check_jwt(request)
        if denied:
            return denied
        key, error = self._account(uid)
        if error:
            return error
        refused = self._psu(request, uid, counted=True)
        if refused:
            return refused
        currency = next(c for k, _a, _h, _d, c in ACCOUNTS if k == key)
        booked = Decimal("10000.00") + sum(
            (Decimal(r["transaction_amount"]["amount"]) * (1 if r["credit_debit_indicator"] == "CRDT" else -1)
             for r in self.transactions[key] if r["status"] == "BOOK"), Decimal(0))
        today = date.today().isoformat()
        return self._answer(200, {"balances": [
            {"name": "Available", "balance_amount": _money(booked + 500, currency), "balance_type": "ITAV",
             "reference_date": today},
            {"name": "Booked", "balance_amount": {"amount": str(booked), "currency": currency},
             "balance_type": "CLBD", "reference_date": today},
        ]})

    @route("GET", "/accounts/(?P<uid>[^/]+)/transactions")
    def transactions_page(self, request, uid):
        denied = self._check_jwt(request)
        if denied:
            return denied
        key, error = self._account(uid)
        if error:
            return error
        refused = self._psu(request, uid, counted=not request.arg("continuation_key"))
        if refused:
            return refused
        strategy = request.arg("strategy", "default")
        date_from = request.arg("date_from")
        try:
            date_from = date.fromisoformat(date_from) if date_from else None
        except ValueError:
            return self._error(422, "WRONG_REQUEST_PARAMETERS", "Wrong request parameters provided")
        if date_from and date_from > date.today():
            return self._error(422, "DATE_FROM_IN_FUTURE", "date_from can not be in the future")
        oldest = date.today() - timedelta(days=self.max_history_days)
        if strategy == "longest":
            date_from = max(date_from or oldest, oldest)
        elif date_from and date_from < oldest:
            return self._error(422, "WRONG_TRANSACTIONS_PERIOD", "Wrong transactions period requested")
        rows = [r for r in self.transactions[key]
                if not (self.honour_date_from and date_from) or self._day(r) >= date_from]
        rows.sort(key=lambda r: (r["status"] == "BOOK", self._day(r)), reverse=True)
        query = f"{uid}|{request.arg('date_from')}|{strategy}"
        offset = 0
        if request.arg("continuation_key"):
            try:
                position = json.loads(_b64decode(request.arg("continuation_key")))
                offset = int(position["offset"]) if position["query"] == query else -1
            except (ValueError, KeyError, TypeError, binascii.Error):
                offset = -1
            if offset < 0:
                return self._error(422, "WRONG_CONTINUATION_KEY", "Wrong continuation key provided")
        balances_after = self._balances_after(key)
        page = [dict(r, balance_after_transaction=balances_after[id(r)]) if id(r) in balances_after else dict(r)
                for r in rows[offset:offset + PAGE_SIZE]]
        if not self.entry_references:
            for row in page:
                row.update(entry_reference=None, transaction_id=str(uuid.uuid4()))
        if self._break_next and page:
            self._break_next = False
            del page[0]["transaction_amount"]
        following = offset + PAGE_SIZE
        continuation_key = None
        if following < len(rows):
            continuation_key = base64.urlsafe_b64encode(
                json.dumps({"offset": following, "query": query}).encode()).decode()
        return self._answer(200, {"transactions": page, "continuation_key": continuation_key})

    # controls ---------------------------------------------------------------

    def provider_config(self):
        pem = self.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode()
        return {"environment": "sandbox", "base_url": self.url, "client_id": self.application_id,
                "private_key": pem, "timeout": 2, "retries": 2, "backoff": 0.01}

    def consent(self, consent_url):
        response = requests.get(consent_url, allow_redirects=False, timeout=5)
        assert response.status_code == 302, response.text
        return dict(parse_qsl(urlsplit(response.headers["Location"]).query))

    def account_ids(self):
        return [account.get("iban") or identification_hash for _k, account, identification_hash, _d, _c in ACCOUNTS]

    def posted_ids(self, account_id):
        """Entry references of the booked rows (meaningful while ``entry_references`` is True)."""
        return {r["entry_reference"] for r in self.transactions[self._key_of(account_id)] if r["status"] == "BOOK"}

    def posted_rows(self, account_id):
        return [r for r in self.transactions[self._key_of(account_id)] if r["status"] == "BOOK"]

    def add_transaction(self, account_id, amount, booking_date, pending=False):
        key = self._key_of(account_id)
        currency = next(c for k, _a, _h, _d, c in ACCOUNTS if k == key)
        extra = {"entry_reference": f"P-{uuid.uuid4().hex[:12]}"} if pending else {}
        row = self._row(amount, currency, booking_date, status="PDNG" if pending else "BOOK",
                        counterparty=("Added Counterparty Oy", "FI1410093000123458"),
                        remittance=f"Added {booking_date.isoformat()}", **extra)
        self.transactions[key].append(row)
        return row["entry_reference"]

    def post_pending(self, keep_dates=False):
        """Book the pending rows today, or on their own transaction date with ``keep_dates``."""
        for rows in self.transactions.values():
            for index, row in enumerate(rows):
                if row["status"] == "PDNG":
                    day = date.fromisoformat(row["transaction_date"]) if keep_dates else date.today()
                    booked = dict(row, status="BOOK", entry_reference=self._next_reference(day),
                                  transaction_id=str(uuid.uuid4()), booking_date=day.isoformat(),
                                  value_date=day.isoformat())
                    rows[index] = booked

    def cancel_next_consent(self):
        self.deny_next_consent = True

    def expire_consent(self):
        for session in self.sessions.values():
            if session["status"] == "AUTHORIZED":
                session["status"] = "EXPIRED"

    def expire_access_token(self):
        self.expired_tokens |= self.seen_tokens

    def rate_limit(self, retry_after=0):
        self._rate_limit = retry_after

    def go_down(self):
        self.down = True

    def come_back(self):
        self.down = False

    def break_next_transactions_page(self):
        self._break_next = True

    @property
    def revoked(self):
        session = self.sessions.get(self.current_session)
        return bool(session) and session["status"] == "CLOSED"
