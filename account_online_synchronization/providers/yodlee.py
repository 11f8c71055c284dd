"""Envestnet | Yodlee (API v1.1) connector.

Model: one Yodlee *user* (``loginName``) per connection, holding one
*providerAccount* (the login or Open Banking consent at one bank), which holds
the *accounts*. Access tokens come from ``POST /auth/token`` with the client
credentials and a login name: the admin login for administrative calls
(institutions, user registration), the connection's user for its data. They
last about 30 minutes and have no refresh token: a new one is simply asked for.

The user links the bank in FastLink, Yodlee's hosted linking application,
opened in redirect mode: its launch fields go in the URL and its ``callback``
parameter brings the user back to Odoo's return URL (with Odoo's ``state``
appended, as FastLink has no state parameter of its own).

Yodlee reports connection problems (wrong credentials, expired consent, bank
down) in the providerAccount's status rather than as HTTP errors: it is read
before fetching data, so that stale data is not taken for fresh.
"""
import json
import re
import secrets
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import urlencode, urlsplit, urlunsplit

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

API_HEADERS = {"Api-Version": "1.1"}
#: Largest page Yodlee serves (``top`` is 1-500).
PAGE_SIZE = 500
#: Rows read again at the start of the next page, so that rows moving up
#: (a pending transaction deleted meanwhile) are not skipped.
MAX_OVERLAP = 10
#: An access token this close to its end is replaced.
TOKEN_MARGIN = timedelta(minutes=5)
#: Pages of institutions read at most when listing without a search text.
MAX_INSTITUTION_PAGES = 40
#: Waiting time when Yodlee reports its daily refresh threshold reached.
DAILY_THRESHOLD_WAIT = 24 * 3600
CONTAINERS = ("bank", "creditCard")
POSTED_STATUSES = {"POSTED", "CLEARED"}
FASTLINK_FLOWS = {"update": "edit", "renew": "refresh"}

#: FastLink 4 hosts; production ones are issued per customer (``fastlink_url``).
FASTLINK_URLS = {
    "sandbox": "https://fl4.sandbox.yodlee.com/authenticate/restserver/fastlink",
}

#: providerAccount ``additionalStatus`` values and what they mean for us.
REAUTH_STATUSES = {
    "INCORRECT_CREDENTIALS", "CREDENTIALS_UPDATE_NEEDED", "ACCOUNT_LOCKED", "USER_ACTION_NEEDED_AT_SITE",
    "NEW_AUTHENTICATION_REQUIRED", "SITE_SESSION_INVALIDATED", "INVALID_ADDL_INFO_PROVIDED",
    "CONSENT_EXPIRED", "CONSENT_REVOKED", "CONSENT_REQUIRED",
}
MFA_STATUSES = {"ADDL_AUTHENTICATION_REQUIRED"}
DOWN_STATUSES = {
    "SITE_UNAVAILABLE", "SITE_BLOCKING_ERROR", "UNEXPECTED_SITE_ERROR", "TECH_ERROR", "REQUEST_TIME_OUT",
    "DATA_RETRIEVAL_FAILED", "SITE_DOWN_FOR_MAINTENANCE",
}
UNSUPPORTED_STATUSES = {"SITE_NOT_SUPPORTED", "DATASET_NOT_SUPPORTED", "BETA_SITE_DEV_IN_PROGRESS"}

#: Error codes of the application's own credentials or set-up.
CONFIG_CODES = {"Y301", "Y303", "Y016", "Y019", "Y027", "Y901", "Y007"}
#: Of those, the codes saying that Yodlee refuses the application's credentials.
CREDENTIAL_CODES = {"Y301", "Y303", "Y019"}
#: Error codes about the login name a token was asked for.
USER_CODES = {"Y305", "Y004", "Y015", "Y800", "Y801"}
#: Error codes of an access token that is invalid or expired: a new token is asked for (Y008 is the
#: documented one; Y020 and Y023 are answered by some environments).
TOKEN_CODES = {"Y008", "Y020", "Y023"}


class _TokenRejected(ProviderError):
    """The access token is invalid or expired: ask for a new one."""


class _UserRejected(ProviderError):
    """Yodlee refuses a token for this login name."""


class _ProviderAccountGone(ReauthRequired):
    """The connection's providerAccount no longer exists at Yodlee: only a new one can be linked."""


class _UserGone(ReauthRequired):
    """The connection's Yodlee user no longer exists: a new user must be registered."""


def _utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _json_safe(value):
    """The aggregator's payload with JSON numbers back as floats, to be stored as JSON."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value


class YodleeProvider(Provider):
    """Envestnet | Yodlee API v1.1 with client-credential tokens and FastLink 4.

    Optional settings besides ``CONFIG_FIELDS``: ``fastlink_url`` (the
    customer's FastLink 4 URL; by default the sandbox one, or
    ``<base_url>/fastlink`` when the base URL is overridden),
    ``fastlink_config_name`` (the FastLink configuration, ``Aggregation`` by
    default) and ``user_login`` (sandbox only: one of its preset users, as the
    sandbox refuses user registration).
    """

    code = "yodlee"
    name = "Yodlee"
    ENVIRONMENTS = {
        "sandbox": "https://sandbox.api.yodlee.com/ysl",
        "development": "https://development.api.yodlee.com/ysl",
        "production": "https://production.api.yodlee.com/ysl",
    }
    CONFIG_FIELDS = {
        "client_id": "Client ID",
        "client_secret": "Secret",
        "admin_login": "Admin Login Name",
    }

    def __init__(self, config=None):
        super().__init__(config)
        self._http = None
        self._auth_http = None
        self._tokens = {}  # login name -> (access token, naive UTC expiry)
        self._rejected = set()

    # institutions and consent -------------------------------------------------

    def search_institutions(self, country=None, text=None):
        """Yodlee providers (banks) matching a text, filtered on their country."""
        if text:
            rows = self._providers({"name": text})
        else:
            rows, skip = [], 0
            for _page in range(MAX_INSTITUTION_PAGES):
                page = self._providers({"priority": "cobrand", "skip": skip, "top": PAGE_SIZE})
                rows += page
                if len(page) < PAGE_SIZE:
                    break
                skip += PAGE_SIZE
        institutions = [self._institution(row) for row in rows]
        if country:
            institutions = [inst for inst in institutions if inst.country == country.upper()]
        return institutions

    def start_connection(self, institution_id, mode="new", tokens=None, redirect_url=None, state=None):
        """Open FastLink on the bank (``new``), or on the connection to update or renew."""
        if not redirect_url:
            raise ProviderError("Yodlee FastLink needs a return address to send the user back.")
        if mode not in ("new", *FASTLINK_FLOWS):
            raise ProviderError(f"Unknown connection mode {mode!r}.")
        fastlink_url = self._fastlink_url()
        tokens = dict(tokens or {})
        extra = {"configName": self.config.get("fastlink_config_name") or "Aggregation"}
        login_name, pending = self._fastlink_target(institution_id, mode, tokens, extra)
        extra["callback"] = self._with_query(redirect_url, {"state": state} if state else {})
        # A FastLink session gets a token of its own: the stored one may have been revoked since.
        token = self._access_token(login_name)
        query = urlencode({"accessToken": f"Bearer {token}", "extraParams": urlencode(extra)})
        return ConnectionStart(redirect_url=f"{fastlink_url}?{query}", pending=pending)

    def _fastlink_target(self, institution_id, mode, tokens, extra):
        """The user FastLink runs for and what to keep until the callback; fills FastLink's flow in ``extra``.

        An update or renewal whose providerAccount (or user) was deleted at
        Yodlee links the bank again: the Odoo connection stays the same.
        """
        if mode != "new" and tokens.get("login_name"):
            login_name = tokens["login_name"]
            try:
                self._provider_account(tokens)
                extra.update(flow=FASTLINK_FLOWS[mode], providerAccountId=self._provider_account_id(tokens))
                return login_name, {}
            except _ProviderAccountGone:
                extra.update(flow="add", providerId=institution_id)
                return login_name, {}
            except _UserGone:
                pass
        login_name, registered = self._new_user()
        extra.update(flow="add", providerId=institution_id)
        return login_name, {"login_name": login_name, "user_registered": registered}

    def complete_connection(self, institution_id, params, tokens=None):
        """Check the providerAccount FastLink created or updated; return the connection's tokens."""
        tokens = dict(tokens or {})
        self._login_name(tokens)
        provider_account_id = params.get("providerAccountId") or tokens.get("provider_account_id")
        if not provider_account_id:
            provider_account_id = self._latest_provider_account(tokens, institution_id)
        if not str(provider_account_id).isdigit():
            raise ProviderError("Yodlee returned an invalid connection reference.")
        tokens["provider_account_id"] = str(provider_account_id)
        provider_account = self._provider_account(tokens)
        if str(provider_account.get("providerId")) != str(institution_id):
            raise ProviderError("The bank linked in Yodlee FastLink is not the bank chosen in Odoo.")
        self._check_status(provider_account)
        token, expires_at = self._access_token_entry(tokens["login_name"])
        tokens.update(
            provider_id=str(institution_id),
            access_token=token,
            access_token_expires_at=expires_at.isoformat(),
            consent_expires_at=self._consent_expiry(tokens, provider_account),
        )
        return tokens

    def consent_expiry(self, tokens):
        """The Open Banking consent's end; None for credential-based connections."""
        value = (tokens or {}).get("consent_expires_at")
        return parse_datetime(value) if value else None

    def refresh_tokens(self, tokens):
        """Replace the user access token when it is about to expire."""
        if not tokens or not tokens.get("login_name"):
            return tokens
        expires = tokens.get("access_token_expires_at")
        if tokens.get("access_token") and expires and parse_datetime(expires) > _utcnow() + TOKEN_MARGIN:
            return tokens
        token, expires_at = self._new_token(tokens["login_name"])
        return dict(tokens, access_token=token, access_token_expires_at=expires_at.isoformat())

    def revoke(self, tokens):
        """Delete the providerAccount at Yodlee, and the Yodlee user when Odoo registered it."""
        tokens = tokens or {}
        if not tokens.get("login_name"):
            return
        paths = []
        if tokens.get("provider_account_id"):
            paths.append(f"/providerAccounts/{self._provider_account_id(tokens)}")
        if tokens.get("user_registered"):
            paths.append("/user/unregister")
        for path in paths:
            try:
                self._call("DELETE", path, tokens, expect_json=False)
            except ReauthRequired:
                pass  # Already gone at Yodlee.

    # data -----------------------------------------------------------------

    def list_accounts(self, tokens, balances=True):
        """The bank and card accounts of the connection."""
        self._check_status(self._provider_account(tokens))
        params = {"providerAccountId": self._provider_account_id(tokens)}
        response = self._call("GET", "/accounts", tokens, params=params)
        rows = self._rows(response, "account")
        return [
            self._account(row, response.request_id) for row in rows
            if row.get("CONTAINER") in CONTAINERS and row.get("accountStatus") != "DELETED"
        ]

    def list_transactions(self, tokens, account_id, date_from, cursor=None, unattended=False):
        """One page of an account's posted and pending transactions booked from ``date_from``.

        Yodlee pages with ``skip``/``top``; the cursor keeps the offset, the
        fixed end date of the window and the ids read at the end of the page
        before, which the next page reads again to catch rows that moved.
        """
        if cursor:
            skip, date_to, seen = self._parse_cursor(cursor)
        else:
            self._check_status(self._provider_account(tokens))
            skip, date_to, seen = 0, max(date.today() + timedelta(days=1), date_from), set()
        response = self._call("GET", "/transactions", tokens, params={
            "accountId": account_id,
            "fromDate": date_from.isoformat(),
            "toDate": date_to.isoformat(),
            "skip": skip,
            "top": PAGE_SIZE,
        })
        rows = self._rows(response, "transaction")
        keys = [self._transaction_key(row, response.request_id) for row in rows]
        transactions = []
        for key, row in zip(keys, rows):
            if key in seen:
                continue
            transaction = self._transaction(key, row, response.request_id)
            if transaction and transaction.booking_date >= date_from:
                transactions.append(transaction)
        next_cursor = None
        if rows and (len(rows) >= PAGE_SIZE or self._has_next_link(response)):
            overlap = min(MAX_OVERLAP, len(rows) // 3)
            next_cursor = json.dumps({
                "skip": skip + len(rows) - overlap,
                "to": date_to.isoformat(),
                "seen": keys[len(rows) - 2 * overlap:] if overlap else [],
            })
        return TransactionPage(transactions, next_cursor)

    # mapping --------------------------------------------------------------

    def _institution(self, row):
        history = None
        for dataset in row.get("dataset") or []:
            for attribute in dataset.get("attribute") or []:
                days = ((attribute.get("containerAttributes") or {}).get("BANK") or {}).get("numberOfTransactionDays")
                if attribute.get("name") == "TRANSACTIONS" and isinstance(days, int):
                    history = days
        return Institution(
            id=str(require(row, "id")),
            name=require(row, "name"),
            country=(row.get("countryISOCode") or "").upper(),
            logo_url=row.get("logo") or row.get("favicon") or "",
            beta=row.get("status") == "Beta",
            max_history_days=history,
            unattended_refresh=row.get("isAutoRefreshEnabled") is not False,
        )

    def _account(self, row, request_id):
        money = next(
            (row[key] for key in ("currentBalance", "balance", "availableBalance", "runningBalance")
             if isinstance(row.get(key), dict) and row[key].get("currency")),
            None,
        )
        if money is None:
            raise MalformedResponse("Yodlee sent an account without balance currency.", request_id=request_id)
        balance = None
        if money.get("amount") is not None:
            balance = parse_amount(money["amount"], "balance")
            if row.get("isAsset") is False:
                balance = -balance
        return Account(
            id=str(require(row, "id", request_id=request_id)),
            name=row.get("accountName") or row.get("nickname") or row.get("providerName") or "",
            currency=parse_currency(money["currency"]),
            number=row.get("accountNumber") or "",
            number_masked=True,  # e.g. "xxxx4321": the full number needs an entitlement this connector does not ask
            balance=balance,
            holder_name=row.get("displayedName") or "",
        )

    @staticmethod
    def _transaction_key(row, request_id):
        if not isinstance(row, dict):
            raise MalformedResponse("Yodlee sent an invalid transaction.", request_id=request_id)
        return f"{require(row, 'CONTAINER', request_id=request_id)}:{require(row, 'id', request_id=request_id)}"

    @staticmethod
    def _transaction(key, row, request_id):
        """The normalized transaction, or None for scheduled or failed ones."""
        status = row.get("status")
        if status not in POSTED_STATUSES and status != "PENDING":
            return None
        money = require(row, "amount", request_id=request_id)
        amount = abs(parse_amount(require(money, "amount", request_id=request_id)))
        base_type = row.get("baseType")
        if base_type not in ("CREDIT", "DEBIT"):
            raise MalformedResponse("Yodlee sent a transaction without credit/debit indicator.", request_id=request_id)
        description = row.get("description") or {}
        merchant = row.get("merchant") or {}
        return Transaction(
            id=key,
            booking_date=parse_date(row.get("postDate") or row.get("date") or row.get("transactionDate"),
                                    "booking date"),
            amount=amount if base_type == "CREDIT" else -amount,
            currency=parse_currency(money.get("currency")),
            status=POSTED if status in POSTED_STATUSES else PENDING,
            label=description.get("original") or description.get("simple") or description.get("consumer") or "",
            counterparty_name=merchant.get("name") or description.get("simple") or "",
            raw=_json_safe(row),
        )

    # connection status ----------------------------------------------------

    def _provider_account(self, tokens):
        response = self._call("GET", f"/providerAccounts/{self._provider_account_id(tokens)}", tokens)
        rows = self._rows(response, "providerAccount")
        if not rows:
            raise _ProviderAccountGone("The bank connection no longer exists at Yodlee: reconnect the bank.",
                                       request_id=response.request_id)
        return rows[0]

    def _latest_provider_account(self, tokens, institution_id):
        response = self._call("GET", "/providerAccounts", tokens, params={"providerIds": institution_id})
        rows = [
            row for row in self._rows(response, "providerAccount")
            if str(row.get("providerId")) == str(institution_id)
        ]
        if not rows:
            raise ProviderError("The bank was not linked in Yodlee FastLink: start the connection again.")
        return max(rows, key=lambda row: (row.get("createdDate") or "", row.get("id") or 0))["id"]

    @staticmethod
    def _check_status(provider_account):
        """Raise the typed error matching a providerAccount that cannot give fresh data."""
        request_id = provider_account.get("requestId")
        statuses = {dataset.get("additionalStatus") for dataset in provider_account.get("dataset") or []}
        if statuses & REAUTH_STATUSES:
            raise ReauthRequired("The bank asks you to log in or renew your consent through Yodlee again.",
                                 request_id=request_id)
        if statuses & MFA_STATUSES or provider_account.get("status") == "USER_INPUT_REQUIRED":
            # Only FastLink's update flow takes the code: a synchronization cannot.
            raise MFARequired("The bank asks for a security code through Yodlee.", request_id=request_id,
                              update_credentials=True)
        if statuses & DOWN_STATUSES:
            raise InstitutionUnavailable("The bank cannot be reached by Yodlee at the moment.", request_id=request_id)
        if statuses & UNSUPPORTED_STATUSES:
            raise ProviderError("Yodlee does not support this bank's data at the moment.", request_id=request_id)
        if provider_account.get("status") == "FAILED":
            raise ProviderError("Yodlee could not refresh this bank connection.", request_id=request_id)

    def _consent_expiry(self, tokens, provider_account):
        """The Open Banking consent's end as an ISO string, or None."""
        if not provider_account.get("consentId"):
            return None
        response = self._call("GET", "/consents", tokens, params={"providerAccountIds": tokens["provider_account_id"]})
        for consent in self._rows(response, "consent"):
            if str(consent.get("providerAccountId")) != tokens["provider_account_id"]:
                continue
            if consent.get("consentStatus") in ("EXPIRED", "REVOKED", "CONSENT_REPEALED"):
                raise ReauthRequired("The bank consent given through Yodlee is no longer valid.",
                                     request_id=response.request_id)
            value = consent.get("expirationDateTime") or consent.get("expirationDate")
            return parse_datetime(value, "consent expiry").isoformat() if value else None
        return None

    # users and tokens ------------------------------------------------------

    def _new_user(self):
        """A Yodlee user for a new connection: (login name, whether Odoo registered it)."""
        if self.config.get("user_login"):
            # The sandbox forbids registration: it comes with preset users.
            return self.config["user_login"], False
        login_name = f"odoo{secrets.token_hex(10)}"
        self._call("POST", "/user/register", None, safe=False, json={"user": {"loginName": login_name}})
        return login_name, True

    @staticmethod
    def _login_name(tokens):
        return Provider.required_token(tokens, "login_name", "This connection has no Yodlee user: reconnect the bank.")

    @staticmethod
    def _provider_account_id(tokens):
        provider_account_id = str((tokens or {}).get("provider_account_id") or "")
        if not provider_account_id.isdigit():
            raise _ProviderAccountGone("This connection has no bank linked at Yodlee: reconnect the bank.")
        return provider_account_id

    def _access_token(self, login_name, tokens=None):
        return self._access_token_entry(login_name, tokens)[0]

    def _access_token_entry(self, login_name, tokens=None):
        """A valid (token, expiry) for ``login_name``: cached, stored in ``tokens``, or new."""
        now = _utcnow()
        cached = self._tokens.get(login_name)
        if cached and cached[1] > now + TOKEN_MARGIN:
            return cached
        stored = (tokens or {}).get("access_token")
        expires = (tokens or {}).get("access_token_expires_at")
        if stored and expires and stored not in self._rejected:
            expires_at = parse_datetime(expires)
            if expires_at > now + TOKEN_MARGIN:
                self._tokens[login_name] = (stored, expires_at)
                return self._tokens[login_name]
        self._tokens[login_name] = self._new_token(login_name)
        if tokens and login_name == tokens.get("login_name"):
            token, expires_at = self._tokens[login_name]
            self.tokens_issued(dict(tokens, access_token=token, access_token_expires_at=expires_at.isoformat()))
        return self._tokens[login_name]

    def _new_token(self, login_name):
        client_id, secret = self.require_config("client_id", "client_secret")
        admin = login_name == self.config.get("admin_login")
        try:
            response = self._auth_client().post(
                "/auth/token", safe=True,
                headers=dict(API_HEADERS, loginName=login_name),
                data={"clientId": client_id, "secret": secret},
            )
        except _UserRejected as error:
            if admin:
                raise InvalidConfiguration("Yodlee does not accept the admin login name of the settings.",
                                           request_id=error.request_id) from None
            raise _UserGone("The Yodlee user of this connection no longer exists: reconnect the bank.",
                            request_id=error.request_id) from None
        token = require(response.payload, "token", "accessToken", request_id=response.request_id)
        lifetime = (response.payload["token"].get("expiresIn")) or 1800
        if not isinstance(token, str) or not isinstance(lifetime, (int, Decimal)):
            raise MalformedResponse("Yodlee sent an invalid access token.", request_id=response.request_id)
        return token, _utcnow() + timedelta(seconds=int(lifetime))

    # HTTP -------------------------------------------------------------------

    def _client(self):
        if self._http is None:
            self._http = self.http_client(error_handler=self._handle_error)
        return self._http

    def _auth_client(self):
        if self._auth_http is None:
            self._auth_http = self.http_client(error_handler=self._handle_auth_error)
        return self._auth_http

    def _call(self, method, path, tokens, **kwargs):
        """Call the API as the connection's user (``tokens``) or, without tokens, as the admin.

        A token Yodlee rejects as invalid or expired is replaced once.
        """
        if tokens is None:
            (login_name,) = self.require_config("admin_login")
        else:
            login_name = self._login_name(tokens)
        for attempt in (1, 2):
            token = self._access_token(login_name, tokens)
            headers = dict(API_HEADERS, Authorization=f"Bearer {token}")
            try:
                return self._client().request(method, path, headers=headers, **kwargs)
            except _TokenRejected as error:
                self._rejected.add(token)
                self._tokens.pop(login_name, None)
                if attempt == 2:
                    raise ProviderError("Yodlee refused a new access token.", request_id=error.request_id) from None
        raise AssertionError("unreachable")

    def _handle_error(self, response):
        """Raise the typed error of a Yodlee error answer (``errorCode``, ``referenceCode``)."""
        payload = response.payload if isinstance(response.payload, dict) else {}
        code = str(payload.get("errorCode") or "")
        message = str(payload.get("errorMessage") or "")
        request_id = payload.get("referenceCode") or response.request_id
        if response.status == 429 or "threshold" in message.lower():
            retry_after = HttpClient.retry_after(response)
            if retry_after is None and response.status != 429:
                retry_after = DAILY_THRESHOLD_WAIT
            raise RateLimited("Yodlee limits how often this bank can be refreshed.",
                              retry_after=retry_after, request_id=request_id)
        if code in TOKEN_CODES:
            raise _TokenRejected("Yodlee refused the access token.", request_id=request_id)
        if code in CONFIG_CODES:
            raise InvalidConfiguration(f"Yodlee refused the application credentials or settings ({code}).",
                                       request_id=request_id, credentials_rejected=code in CREDENTIAL_CODES)
        if code in ("Y003", "Y005"):
            raise ProviderError("The Yodlee user of this connection is locked: contact Yodlee support.",
                                request_id=request_id)
        if code == "Y807" or (code == "Y800" and "providerAccountId" in message):
            raise _ProviderAccountGone("The bank connection no longer exists at Yodlee: reconnect the bank.",
                                       request_id=request_id)
        if code == "Y868":
            raise InstitutionUnavailable("Yodlee is moving this bank to Open Banking: try again later.",
                                         request_id=request_id)
        if response.status >= 500:
            raise InstitutionUnavailable(f"Yodlee is temporarily unavailable (HTTP {response.status}).",
                                         request_id=request_id)
        if response.status == 401:
            # Only the token endpoint judges the application's credentials; a data call refuses its token.
            raise _TokenRejected(f"Yodlee refused the access token ({code or 'HTTP 401'}).", request_id=request_id)
        raise ProviderError(f"Yodlee refused the request ({code or f'HTTP {response.status}'}).",
                            request_id=request_id)

    def _handle_auth_error(self, response):
        """Errors of ``POST /auth/token``: a refused login name is told apart; a 401 is the credentials'."""
        payload = response.payload if isinstance(response.payload, dict) else {}
        request_id = payload.get("referenceCode") or response.request_id
        if str(payload.get("errorCode") or "") in USER_CODES:
            raise _UserRejected("Yodlee refused the login name.", request_id=request_id)
        if response.status == 401 and str(payload.get("errorCode") or "") not in TOKEN_CODES:
            raise InvalidConfiguration("Yodlee refused the application credentials.", request_id=request_id)
        self._handle_error(response)

    def _providers(self, params):
        return self._rows(self._call("GET", "/providers", None, params=params), "provider")

    @staticmethod
    def _rows(response, key):
        """The list under ``key``; Yodlee answers ``{}`` when there is nothing."""
        payload = response.payload
        if payload is None or payload == {}:
            return []
        rows = payload.get(key) if isinstance(payload, dict) else None
        if not isinstance(rows, list):
            raise MalformedResponse(f"Yodlee sent an invalid {key} list.", request_id=response.request_id)
        if not all(isinstance(row, dict) for row in rows):
            raise MalformedResponse(f"Yodlee sent an invalid {key} list.", request_id=response.request_id)
        return rows

    @staticmethod
    def _has_next_link(response):
        return bool(re.search(r'rel="?next"?', response.headers.get("Link") or ""))

    @staticmethod
    def _parse_cursor(cursor):
        try:
            data = json.loads(cursor)
            return int(data["skip"]), date.fromisoformat(data["to"]), set(data["seen"])
        except (ValueError, KeyError, TypeError):
            raise ProviderError("The synchronization resumed from an invalid Yodlee page reference.") from None

    def _fastlink_url(self):
        url = self.config.get("fastlink_url")
        if not url and self.config.get("base_url"):
            url = f"{self.base_url}/fastlink"
        url = url or FASTLINK_URLS.get(self.config.get("environment") or "sandbox")
        if not url:
            raise InvalidConfiguration("Yodlee settings are incomplete: FastLink URL missing.",
                                       credentials_rejected=False)
        return url

    @staticmethod
    def _with_query(url, params):
        parts = urlsplit(url)
        query = "&".join(filter(None, [parts.query, urlencode(params)]))
        return urlunsplit(parts._replace(query=query))
