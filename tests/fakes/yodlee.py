"""A local stand-in for the Envestnet | Yodlee API v1.1 and its FastLink application.

Built against Yodlee's published references, as stored in August 2026:

* the API v1.1 error-code page (developer.yodlee.com/resources/yodlee/error-codes):
  the ``errorCode``/``errorMessage``/``referenceCode`` body, 401 ``Y007``
  (authorization header missing), 401 ``Y008`` "Invalid token in
  authorization header" for an invalid *or expired* token ("regenerate the
  access token"), 400 ``Y800`` (invalid value), ``Y801`` (invalid length),
  ``Y804`` (``top`` outside 1-500);
* Yodlee's v1.1 Swagger description (as vendored in github.com/propertechnologies/yodlee-go,
  ``swagger.yaml``): ``/auth/token``, ``/user/register``, ``/providers``,
  ``/providerAccounts``, ``/accounts``, ``/transactions`` and their fields;
* the client-credential authorization and FastLink 4 pages of
  developer.envestnet.com (``loginName`` header, ``Api-Version: 1.1``,
  FastLink's ``flow`` ``add``/``edit``/``refresh``).

It serves the endpoints the Yodlee connector uses with Yodlee's JSON formats:
client-credential tokens (``POST /auth/token`` with ``Api-Version: 1.1``,
``loginName`` header and form-encoded ``clientId``/``secret``; 30-minute bearer
tokens), user registration, providers, providerAccounts, accounts, consents and
transactions paged with ``skip``/``top`` (served at most ``PAGE_SIZE`` at a
time, with a ``Link`` header to the next page), errors as ``YodleeError``
bodies (``errorCode``, ``errorMessage``, ``referenceCode``). FastLink runs in
redirect mode at ``/fastlink``: it reads ``accessToken`` and ``extraParams``
and sends the user to the ``callback`` URL with the linked providerAccount.

Data is seeded from a fixed seed, relative to today: one Open Banking bank
("Dag Open Banking", GB) with a GBP and a EUR account, 40 posted and 2 pending
transactions each over the last 100 days. A providerAccount deleted at Yodlee
(``remove_provider_account``) takes its accounts with it: linking the bank
again gives new account and transaction ids.

Guessed, not confirmed by a primary source: the answer to an unknown route
(404 with a Yodlee error body, code ``Y404``); ``Y016`` for a missing
``Api-Version`` header; ``Y020``/``Y023`` (reported by third parties for an
invalid or expired token; the fake answers the documented ``Y008`` unless
``token_error_code`` says otherwise); the 429 answer with ``Retry-After``;
``Y800`` "Invalid value for providerAccountId" for a deleted providerAccount;
FastLink's redirect-mode ``callback`` parameters.
"""
import itertools
import random
import secrets
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from .server import FakeAggregator, FakeBankControls, route

CLIENT_ID = "fakeYodleeClientId0123456789"
SECRET = "fakeYodleeSecret9876543210"
ADMIN_LOGIN = "0d1f2e3c-aaaa-bbbb-cccc-000000000000_ADMIN"
TOKEN_LIFETIME = 1800
PAGE_SIZE = 10
CONSENT_DAYS = 90
#: Requests refused after ``rate_limit()``: one call with the client's two retries.
RATE_LIMITED_REQUESTS = 3
DATA_PATHS = ("/accounts", "/transactions", "/providerAccounts", "/consents")

PROVIDERS = (
    {"id": 16441, "name": "Dag Site", "countryISOCode": "US", "status": "Supported", "authType": "CREDENTIALS",
     "isAutoRefreshEnabled": True, "days": 365},
    {"id": 16442, "name": "Dag Site Multilevel", "countryISOCode": "US", "status": "Beta",
     "authType": "MFA_CREDENTIALS", "isAutoRefreshEnabled": False, "days": 90},
    {"id": 20440, "name": "Dag Open Banking", "countryISOCode": "GB", "status": "Supported", "authType": "OAUTH",
     "isAutoRefreshEnabled": True, "isConsentRequired": True, "days": 730},
)

#: (merchant, original description, base type, low, high)
MERCHANTS = (
    ("Acme Corp", "FASTER PAYMENT ACME CORP INV {ref}", "CREDIT", 300, 2400),
    ("Office Depot", "CARD PAYMENT OFFICE DEPOT #{ref} LONDON", "DEBIT", 10, 450),
    ("British Gas", "DIRECT DEBIT BRITISH GAS {ref}", "DEBIT", 60, 380),
    ("Globex Ltd", "BACS CREDIT GLOBEX LTD REF {ref}", "CREDIT", 500, 2600),
    ("City Parking", "CARD PAYMENT CITY PARKING", "DEBIT", 3, 40),
    ("Initech Properties", "STANDING ORDER INITECH RENT {ref}", "DEBIT", 900, 1800),
)

ACCOUNTS = (
    # id, name, number, currency, type, opening balance
    (30001001, "BUSINESS CURRENT ACCOUNT", "xxxx4321", "GBP", "CHECKING", Decimal("10450.75")),
    (30001002, "EURO CURRENCY ACCOUNT", "xxxx8765", "EUR", "CHECKING", Decimal("3200.00")),
)


def _now():
    return datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)


def _stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _reference():
    return f"p{int(time.time() * 1000)}{secrets.token_hex(4)}"


def yodlee_error(status, code, message, headers=None):
    """A Yodlee error answer."""
    body = {"errorMessage": message, "referenceCode": _reference()}
    if code:
        body = {"errorCode": code, **body}
    return status, body, headers or {}


class FakeYodlee(FakeAggregator, FakeBankControls):
    """Yodlee API v1.1 and FastLink, with the controls the flow tests use."""

    provider_code = "yodlee"
    institution_id = "20440"

    def __init__(self):
        super().__init__()
        self.users = {}  # login name -> user dict
        self.tokens = {}  # access token -> {"login": ..., "expires": datetime}
        self.provider_accounts = {}  # id -> state dict
        self.accounts = {}  # id -> account state dict
        self.transactions = {}  # account id -> list of transaction dicts
        self.consent_expired = False
        self.down = False
        self._revoked = False
        self._rate_limited = 0
        self._retry_after = 0
        self._break_next = False
        self._ids = itertools.count(34567000)
        self._provider_account_ids = itertools.count(10512343)
        #: The code answered for an invalid or expired token (documented: Y008).
        self.token_error_code = "Y008"
        self.security_code_required = False
        self._seed()

    # seed ----------------------------------------------------------------------

    def _seed(self):
        rng = random.Random(20440)
        today = date.today()
        for account_id, name, number, currency, kind, opening in ACCOUNTS:
            self.accounts[account_id] = {
                "id": account_id, "name": name, "number": number, "currency": currency, "type": kind,
                "opening": opening, "providerAccountId": None,
            }
            rows = self.transactions[account_id] = []
            for index in range(40):
                merchant, text, base_type, low, high = rng.choice(MERCHANTS)
                amount = Decimal(rng.randint(low * 100, high * 100)) / 100
                posted = today - timedelta(days=2 + index * 98 // 40)
                rows.append(self._row(account_id, amount, base_type, posted - timedelta(days=rng.choice((0, 1))),
                                      posted, merchant, text.format(ref=rng.randint(100, 9999))))
            for days in (0, 1):
                merchant, text, base_type, low, high = MERCHANTS[1]
                amount = Decimal(rng.randint(low * 100, high * 100)) / 100
                rows.append(self._row(account_id, amount, "DEBIT", today - timedelta(days=days), None,
                                      merchant, text.format(ref=rng.randint(100, 9999))))
        self.known_transaction = self._row(
            ACCOUNTS[0][0], Decimal("1250.00"), "CREDIT", today - timedelta(days=11), today - timedelta(days=10),
            "Acme Corp", "FASTER PAYMENT ACME CORP INV 2024-117",
        )
        self.transactions[ACCOUNTS[0][0]].append(self.known_transaction)

    def _row(self, account_id, amount, base_type, transaction_date, post_date, merchant, description):
        """A Yodlee bank transaction; ``post_date`` None makes it pending."""
        currency = self.accounts[account_id]["currency"]
        created = _stamp(datetime.combine(post_date or transaction_date, datetime.min.time()) + timedelta(hours=6))
        row = {
            "CONTAINER": "bank",
            "id": next(self._ids),
            "accountId": account_id,
            "amount": {"amount": float(amount), "currency": currency},
            "baseType": base_type,
            "status": "POSTED" if post_date else "PENDING",
            "date": (post_date or transaction_date).isoformat(),
            "transactionDate": transaction_date.isoformat(),
            "description": {"original": description, "simple": merchant},
            "merchant": {"id": merchant.lower().replace(" ", ""), "name": merchant, "source": "YODLEE",
                         "categoryLabel": ["Business Income" if base_type == "CREDIT" else "Expenses"]},
            "category": "Deposits" if base_type == "CREDIT" else "Other Expenses",
            "categoryType": "INCOME" if base_type == "CREDIT" else "EXPENSE",
            "categorySource": "SYSTEM",
            "type": "DEPOSIT" if base_type == "CREDIT" else "PAYMENT",
            "isManual": False,
            "sourceType": "AGGREGATED",
            "createdDate": created,
            "lastUpdated": created,
        }
        if post_date:
            row["postDate"] = post_date.isoformat()
        return row

    # FakeBankControls ------------------------------------------------------------

    def provider_config(self):
        return {
            "environment": "sandbox", "base_url": self.url,
            "client_id": CLIENT_ID, "client_secret": SECRET, "admin_login": ADMIN_LOGIN,
            "timeout": 2, "retries": 2, "backoff": 0.01,
        }

    def consent(self, consent_url):
        response = requests.get(consent_url, allow_redirects=False, timeout=5)
        if response.status_code != 302:
            raise AssertionError(f"FastLink answered {response.status_code}: {response.text[:200]}")
        return {key: values[0] for key, values in parse_qs(urlsplit(response.headers["Location"]).query).items()}

    def account_ids(self):
        return [str(account_id) for account_id in self.accounts]

    def posted_ids(self, account_id):
        return [f"bank:{row['id']}" for row in self.transactions[int(account_id)] if row["status"] == "POSTED"]

    def pending_ids(self, account_id):
        return [f"bank:{row['id']}" for row in self.transactions[int(account_id)] if row["status"] == "PENDING"]

    def add_transaction(self, account_id, amount, booking_date, pending=False):
        row = self._row(int(account_id), abs(amount), "CREDIT" if amount >= 0 else "DEBIT", booking_date,
                        None if pending else booking_date, "Manual Entry", f"TRANSFER {abs(amount)}")
        self.transactions[int(account_id)].append(row)
        return f"bank:{row['id']}"

    def post_pending(self, keep_dates=False):
        """Yodlee deletes the pending row and aggregates a posted one with a new id, posted today or,
        with ``keep_dates``, on its own transaction date (a bank booking late under the original date)."""
        today = date.today()
        for account_id, rows in self.transactions.items():
            for row in [row for row in rows if row["status"] == "PENDING"]:
                rows.remove(row)
                transaction_date = date.fromisoformat(row["transactionDate"])
                rows.append(self._row(
                    account_id, Decimal(str(row["amount"]["amount"])), row["baseType"],
                    transaction_date, transaction_date if keep_dates else today,
                    row["merchant"]["name"], row["description"]["original"],
                ))

    def expire_consent(self):
        self.consent_expired = True

    def expire_access_token(self):
        for entry in self.tokens.values():
            entry["expires"] = _now() - timedelta(seconds=1)

    def rate_limit(self, retry_after=0):
        self._rate_limited = RATE_LIMITED_REQUESTS
        self._retry_after = retry_after

    def go_down(self):
        self.down = True

    def come_back(self):
        self.down = False

    def break_next_transactions_page(self):
        self._break_next = True

    def invalidate_tokens(self):
        """Yodlee no longer accepts the access tokens it issued, before their stated expiry."""
        self.tokens.clear()

    def remove_provider_account(self):
        """The bank's providerAccount is deleted at Yodlee (by the user, support or an expired consent)."""
        self.provider_accounts.clear()

    def remove_user(self, login):
        """The Yodlee user is deleted at Yodlee, with its providerAccounts and tokens."""
        self.users.pop(login, None)
        for state in [s for s in self.provider_accounts.values() if s["login"] == login]:
            del self.provider_accounts[state["id"]]
        for token in [t for t, entry in self.tokens.items() if entry["login"] == login]:
            del self.tokens[token]

    def require_security_code(self):
        """The bank asks for a one-time code, which only FastLink's update flow takes."""
        self.security_code_required = True

    def not_found(self, request):
        return yodlee_error(404, "Y404", "Resource not found")

    @property
    def revoked(self):
        return self._revoked

    # helpers -------------------------------------------------------------------

    def _check_token(self, request, admin=None):
        """(login name, None) for a valid bearer token, else (None, error answer).

        ``admin`` True/False restricts the call to the admin or to a user.
        """
        if request.headers.get("Api-Version") != "1.1":
            return None, yodlee_error(401, "Y016", "Api-Version header missing")
        authorization = request.headers.get("Authorization") or ""
        if not authorization:
            return None, yodlee_error(401, "Y007", "Authorization header missing")
        entry = self.tokens.get(authorization.removeprefix("Bearer ").strip())
        if not authorization.startswith("Bearer ") or not entry or entry["expires"] <= _now():
            return None, yodlee_error(401, self.token_error_code, "Invalid token in authorization header")
        if admin is not None and (entry["login"] == ADMIN_LOGIN) != admin:
            return None, yodlee_error(401, "Y015", "Unauthorized User")
        return entry["login"], None

    def _data_guard(self, request):
        """The rate-limit answer while ``rate_limit()`` is in force."""
        if self._rate_limited and request.path.startswith(DATA_PATHS):
            self._rate_limited -= 1
            return yodlee_error(429, None, "Too Many Requests", {"Retry-After": str(self._retry_after)})
        return None

    def _owned(self, login, provider_account_id):
        state = self.provider_accounts.get(int(provider_account_id)) if str(provider_account_id).isdigit() else None
        return state if state and state["login"] == login else None

    def _provider_account_json(self, state):
        if self.consent_expired:
            status, additional, eligibility = "FAILED", "CONSENT_EXPIRED", "DISALLOW_UPDATE"
        elif self.security_code_required:
            status, additional, eligibility = "USER_INPUT_REQUIRED", "ADDL_AUTHENTICATION_REQUIRED", \
                "ALLOW_UPDATE_WITH_CREDENTIALS"
        elif self.down:
            status, additional, eligibility = "FAILED", "SITE_UNAVAILABLE", "ALLOW_UPDATE"
        else:
            status, additional, eligibility = "SUCCESS", "AVAILABLE_DATA_RETRIEVED", "ALLOW_UPDATE"
        now = _now()
        return {
            "id": state["id"], "providerId": state["providerId"], "aggregationSource": "USER", "isManual": False,
            "authType": "OAUTH", "consentId": state["consentId"], "status": status,
            "requestId": state["requestId"], "createdDate": state["created"], "lastUpdated": _stamp(now),
            "dataset": [{
                "name": "BASIC_AGG_DATA", "additionalStatus": additional, "updateEligibility": eligibility,
                "lastUpdated": _stamp(now), "lastUpdateAttempt": _stamp(now),
                "nextUpdateScheduled": _stamp(now + timedelta(days=1)),
            }],
        }

    def _account_json(self, account):
        rows = self.transactions[account["id"]]
        balance = account["opening"] + sum(
            (Decimal(str(row["amount"]["amount"])) * (1 if row["baseType"] == "CREDIT" else -1)
             for row in rows if row["status"] == "POSTED"), Decimal(0))
        money = {"amount": float(balance), "currency": account["currency"]}
        provider = PROVIDERS[2]
        return {
            "CONTAINER": "bank", "id": account["id"], "providerAccountId": account["providerAccountId"],
            "providerId": str(provider["id"]), "providerName": provider["name"], "accountName": account["name"],
            "accountNumber": account["number"], "accountType": account["type"], "accountStatus": "ACTIVE",
            "isAsset": True, "aggregationSource": "USER", "balance": money, "currentBalance": money,
            "availableBalance": money, "displayedName": "EXAMPLE LTD",
            "createdDate": "2024-05-01T09:20:11Z", "lastUpdated": _stamp(_now()),
        }

    def _provider_json(self, provider):
        return {
            "id": provider["id"], "name": provider["name"], "countryISOCode": provider["countryISOCode"],
            "status": provider["status"], "authType": provider["authType"],
            "isAutoRefreshEnabled": provider["isAutoRefreshEnabled"],
            "isConsentRequired": provider.get("isConsentRequired", False),
            "logo": f"https://yodlee-1.hs.llnwd.net/v1/LOGO/LOGO_{provider['id']}_1_2.PNG",
            "favicon": f"https://yodlee-1.hs.llnwd.net/v1/FAVICON/FAV_{provider['id']}.PNG",
            "loginUrl": "https://bank.example.test/login", "baseUrl": "https://bank.example.test/",
            "languageISOCode": "EN", "primaryLanguageISOCode": "EN", "lastModified": "2024-05-01T00:00:00Z",
            "dataset": [{"name": "BASIC_AGG_DATA", "attribute": [
                {"name": "BASIC_ACCOUNT_INFO", "container": ["bank"]},
                {"name": "TRANSACTIONS", "container": ["bank"],
                 "containerAttributes": {"BANK": {"numberOfTransactionDays": provider["days"]}}},
            ]}],
        }

    # auth and users --------------------------------------------------------------

    @route("POST", "/auth/token")
    def auth_token(self, request):
        if request.headers.get("Api-Version") != "1.1":
            return yodlee_error(401, "Y016", "Api-Version header missing")
        login = request.headers.get("loginName")
        if not login:
            return yodlee_error(401, "Y016", "loginName header missing")
        if not (request.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
            return yodlee_error(400, "Y806", "Invalid input")
        form = request.form()
        if not form.get("clientId") or not form.get("secret"):
            return yodlee_error(400, "Y303", "clientId or secret is missing")
        if form["clientId"] != CLIENT_ID or form["secret"] != SECRET:
            return yodlee_error(400, "Y301", "Invalid clientId or secret")
        if login != ADMIN_LOGIN and login not in self.users:
            return yodlee_error(400, "Y305", "Access token can be issued only for pre-registered users")
        token = secrets.token_urlsafe(21)
        issued = _now()
        self.tokens[token] = {"login": login, "expires": issued + timedelta(seconds=TOKEN_LIFETIME)}
        return 201, {"token": {"accessToken": token, "issuedAt": _stamp(issued), "expiresIn": TOKEN_LIFETIME}}

    @route("DELETE", "/auth/token")
    def delete_token(self, request):
        login, error = self._check_token(request)
        if error:
            return error
        self.tokens.pop(request.headers["Authorization"].removeprefix("Bearer ").strip(), None)
        return 204, None

    @route("POST", "/user/register")
    def register(self, request):
        _login, error = self._check_token(request, admin=True)
        if error:
            return error
        login = ((request.json().get("user") or {}).get("loginName")) or ""
        if not 3 <= len(login) <= 150:
            return yodlee_error(400, "Y801", "Invalid length for loginName")
        if " " in login:
            return yodlee_error(400, "Y800", "Invalid value for loginName")
        if login in self.users:
            return yodlee_error(400, "Y400", "LoginName already taken")
        self.users[login] = {"id": len(self.users) + 1001, "loginName": login, "roleType": "INDIVIDUAL",
                             "preferences": {"currency": "USD", "locale": "en_US"}}
        return 200, {"user": self.users[login]}

    @route("DELETE", "/user/unregister")
    def unregister(self, request):
        login, error = self._check_token(request, admin=False)
        if error:
            return error
        self.remove_user(login)
        return 204, None

    # FastLink ----------------------------------------------------------------------

    @route("GET", "/fastlink")
    def fastlink(self, request):
        """FastLink in redirect mode: the user links the bank, then goes to ``callback``."""
        entry = self.tokens.get((request.arg("accessToken") or "").removeprefix("Bearer ").strip())
        if not entry or entry["expires"] <= _now() or entry["login"] == ADMIN_LOGIN:
            return 401, "FastLink: the session is invalid or has expired."
        login = entry["login"]
        extra = {key: values[0] for key, values in parse_qs(request.arg("extraParams") or "").items()}
        callback = extra.get("callback")
        if not callback or not extra.get("configName"):
            return 400, "FastLink: configName and callback are required."
        flow = extra.get("flow", "add")
        if flow == "add":
            provider_id = int(extra.get("providerId") or 0)
            if provider_id not in {p["id"] for p in PROVIDERS}:
                return 400, "FastLink: unknown providerId."
            state = next((s for s in self.provider_accounts.values()
                          if s["login"] == login and s["providerId"] == provider_id), None)
            if not state:
                state = {"id": next(self._provider_account_ids), "login": login, "providerId": provider_id,
                         "created": _stamp(_now()), "consentId": next(self._ids)}
                self.provider_accounts[state["id"]] = state
                self._attach_accounts(state["id"])
        elif flow in ("edit", "refresh"):
            state = self._owned(login, extra.get("providerAccountId"))
            if not state:
                return 400, "FastLink: unknown providerAccountId."
        else:
            return 400, "FastLink: unknown flow."
        self.consent_expired = False
        self.security_code_required = False
        state["consentExpires"] = _now() + timedelta(days=CONSENT_DAYS)
        state["requestId"] = secrets.token_urlsafe(18)
        separator = "&" if urlsplit(callback).query else "?"
        location = callback + separator + urlencode({
            "status": "SUCCESS", "providerAccountId": state["id"], "providerId": state["providerId"],
            "requestId": state["requestId"],
        })
        return 302, "", {"Location": location}

    def _attach_accounts(self, provider_account_id):
        """Aggregate the bank's accounts under a new providerAccount: after a deleted one, as new records."""
        for old_id in list(self.accounts):
            account = self.accounts[old_id]
            if account["providerAccountId"] is None:
                account["providerAccountId"] = provider_account_id
                continue
            new_id = next(self._ids)
            self.accounts[new_id] = dict(self.accounts.pop(old_id), id=new_id, providerAccountId=provider_account_id)
            self.transactions[new_id] = [dict(row, id=next(self._ids), accountId=new_id)
                                         for row in self.transactions.pop(old_id)]

    # institutions ------------------------------------------------------------------

    @route("GET", "/providers")
    def providers(self, request):
        _login, error = self._check_token(request)
        if error:
            return error
        top, skip = request.arg("top", "500"), request.arg("skip", "0")
        if not top.isdigit() or not 1 <= int(top) <= 500:
            return yodlee_error(400, "Y804", "Permitted values of top between 1 - 500")
        if not skip.isdigit():
            return yodlee_error(400, "Y800", "Invalid value for skip")
        name = request.arg("name")
        if name is not None and not name:
            return yodlee_error(400, "Y801", "Invalid length for a site search. "
                                             "The search string must have atleast 1 character")
        rows = [p for p in PROVIDERS if not name or name.lower() in p["name"].lower()]
        if not name:
            rows = rows[int(skip):int(skip) + int(top)]
        return 200, {"provider": [self._provider_json(p) for p in rows]} if rows else {}

    # provider accounts, consents, accounts ------------------------------------------

    @route("GET", r"/providerAccounts/(?P<provider_account_id>[^/]+)")
    def provider_account(self, request, provider_account_id):
        login, error = self._check_token(request, admin=False)
        if error or (error := self._data_guard(request)):
            return error
        state = self._owned(login, provider_account_id)
        if not state:
            return yodlee_error(400, "Y800", "Invalid value for providerAccountId")
        return 200, {"providerAccount": [self._provider_account_json(state)]}

    @route("GET", "/providerAccounts")
    def provider_accounts_list(self, request):
        login, error = self._check_token(request, admin=False)
        if error or (error := self._data_guard(request)):
            return error
        wanted = set(filter(None, (request.arg("providerIds") or "").split(",")))
        rows = [self._provider_account_json(s) for s in self.provider_accounts.values()
                if s["login"] == login and (not wanted or str(s["providerId"]) in wanted)]
        return 200, {"providerAccount": rows} if rows else {}

    @route("DELETE", r"/providerAccounts/(?P<provider_account_id>[^/]+)")
    def delete_provider_account(self, request, provider_account_id):
        login, error = self._check_token(request, admin=False)
        if error:
            return error
        state = self._owned(login, provider_account_id)
        if not state:
            return yodlee_error(400, "Y800", "Invalid value for providerAccountId")
        del self.provider_accounts[state["id"]]
        self._revoked = True
        return 204, None

    @route("GET", "/consents")
    def consents(self, request):
        login, error = self._check_token(request, admin=False)
        if error or (error := self._data_guard(request)):
            return error
        wanted = set(filter(None, (request.arg("providerAccountIds") or "").split(",")))
        rows = []
        for state in self.provider_accounts.values():
            if state["login"] != login or (wanted and str(state["id"]) not in wanted):
                continue
            expires = state["consentExpires"]
            rows.append({
                "consentId": state["consentId"], "providerAccountId": state["id"], "providerId": state["providerId"],
                "consentStatus": "EXPIRED" if self.consent_expired else "ACTIVE",
                "dataAccessFrequency": "RECURRING", "title": "Data we need",
                "startDateTime": _stamp(expires - timedelta(days=CONSENT_DAYS)),
                "startDate": (expires - timedelta(days=CONSENT_DAYS)).date().isoformat(),
                "expirationDateTime": _stamp(expires), "expirationDate": expires.date().isoformat(),
            })
        return 200, {"consent": rows} if rows else {}

    @route("GET", "/accounts")
    def accounts_list(self, request):
        login, error = self._check_token(request, admin=False)
        if error or (error := self._data_guard(request)):
            return error
        provider_account_id = request.arg("providerAccountId")
        if provider_account_id and not self._owned(login, provider_account_id):
            return yodlee_error(400, "Y800", "Invalid value for providerAccountId")
        owned = {s["id"] for s in self.provider_accounts.values() if s["login"] == login}
        rows = [self._account_json(a) for a in self.accounts.values()
                if a["providerAccountId"] in owned
                and (not provider_account_id or str(a["providerAccountId"]) == provider_account_id)]
        return 200, {"account": rows} if rows else {}

    # transactions --------------------------------------------------------------------

    @route("GET", "/transactions")
    def transactions_list(self, request):
        login, error = self._check_token(request, admin=False)
        if error or (error := self._data_guard(request)):
            return error
        try:
            date_to = date.fromisoformat(request.arg("toDate") or date.today().isoformat())
        except ValueError:
            return yodlee_error(400, "Y800", "Invalid value for toDate")
        try:
            date_from = date.fromisoformat(request.arg("fromDate") or (date_to - timedelta(days=30)).isoformat())
        except ValueError:
            return yodlee_error(400, "Y800", "Invalid value for fromDate")
        if date_from > date_to:
            return yodlee_error(400, "Y809", "Invalid date range")
        top, skip = request.arg("top", "500"), request.arg("skip", "0")
        if not top.isdigit() or not 1 <= int(top) <= 500:
            return yodlee_error(400, "Y804", "Permitted values of top between 1 - 500")
        if not skip.isdigit():
            return yodlee_error(400, "Y800", "Invalid value for skip")
        account_ids = [int(a) for a in (request.arg("accountId") or "").split(",") if a.isdigit()]
        owned = {s["id"] for s in self.provider_accounts.values() if s["login"] == login}
        rows = [
            row for account_id in account_ids or list(self.accounts)
            if account_id in self.accounts and self.accounts[account_id]["providerAccountId"] in owned
            for row in self.transactions[account_id]
            if date_from.isoformat() <= row["date"] <= date_to.isoformat()
        ]
        rows.sort(key=lambda row: (row["date"], row["id"]), reverse=True)
        start, size = int(skip), min(int(top), PAGE_SIZE)
        page = [dict(row) for row in rows[start:start + size]]
        if self._break_next and page:
            self._break_next = False
            del page[0]["amount"]
        headers = {}
        if start + size < len(rows):
            query = {key: values[0] for key, values in request.query.items()}
            query.update(skip=start + size, top=size)
            headers["Link"] = f'<{self.url}/transactions?{urlencode(query)}>; rel="next"'
        return 200, ({"transaction": page} if page else {}), headers
