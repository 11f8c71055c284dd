"""Enable Banking (PSD2 account information, Nordics and Europe).

Every call carries a JWT the connector signs itself (RS256) with the
application's private key; the application id is the key id. A user's consent
is a *session*, created from the authorization code the bank returns after
``POST /auth``. A reconnection makes a new session whose account ``uid`` values
are new, so accounts are identified by their IBAN (or Enable Banking's
``identification_hash``) and the tokens map those stable ids to the current
``uid``.

When a user starts the synchronization, the data calls carry the user's
details as PSU headers (``Psu-Ip-Address``, ``Psu-User-Agent`` and those the
bank lists in ``required_psu_headers``): the bank then does not count them
among its few unattended refreshes a day. Scheduled runs send none.
"""
import base64
import dataclasses
import hashlib
import json
import logging
import time
import uuid
from datetime import date, datetime, timedelta, timezone

import requests
from cryptography.exceptions import UnsupportedAlgorithm
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
from .http import HttpClient, HttpResponse, require
from .parsing import parse_amount, parse_bic, parse_currency, parse_date, parse_datetime, with_request_id
from .schema import PENDING, POSTED, Account, ConnectionStart, Institution, Transaction, TransactionPage

_logger = logging.getLogger(__name__)

API_URL = "https://api.enablebanking.com"
#: Header carrying the API's request id (unconfirmed: not documented by Enable Banking).
REQUEST_ID_HEADER = "X-Request-Id"
JWT_TTL = 3600
#: A JWT is signed again when less than this many seconds are left.
JWT_RENEW_MARGIN = 60
#: Consent length asked when the bank does not state its maximum.
DEFAULT_CONSENT_SECONDS = 90 * 86400
MAX_CONSENT_SECONDS = 180 * 86400

#: Booked balance preference (the one compared with the journal), then the available one, shown for information.
BOOKED_TYPES = ("CLBD", "ITBD", "PRCD")
AVAILABLE_TYPES = ("ITAV", "CLAV")
PENDING_STATUSES = frozenset({"PDNG", "HOLD", "SCHD", "OTHR"})
#: Statuses of transactions that never moved money.
VOID_STATUSES = frozenset({"CNCL", "RJCT"})

REAUTH_ERRORS = frozenset({
    "EXPIRED_SESSION", "CLOSED_SESSION", "REVOKED_SESSION", "SESSION_DOES_NOT_EXIST", "WRONG_SESSION_STATUS",
    "ASPSP_ACCOUNT_NOT_ACCESSIBLE", "ACCOUNT_DOES_NOT_EXIST", "WRONG_CREDENTIALS_PROVIDED",
})
CONFIG_ERRORS = frozenset({
    "UNAUTHORIZED_ACCESS", "AUTHORIZATION_NOT_PROVIDED", "ACCESS_DENIED", "UNAUTHORIZED_IP",
    "REDIRECT_URI_NOT_ALLOWED", "NO_ACCOUNTS_ADDED", "INVALID_HOST",
})
UNAVAILABLE_ERRORS = frozenset({"ASPSP_ERROR", "ASPSP_TIMEOUT"})
CODE_ERRORS = frozenset({"EXPIRED_AUTHORIZATION_CODE", "WRONG_AUTHORIZATION_CODE", "ALREADY_AUTHORIZED"})
#: PSU header -> key of ``Provider.psu``; the first two are sent whenever a user is present.
PSU_HEADERS = {
    "Psu-Ip-Address": "ip_address",
    "Psu-User-Agent": "user_agent",
    "Psu-Referer": "referer",
    "Psu-Accept": "accept",
    "Psu-Accept-Charset": "accept_charset",
    "Psu-Accept-Encoding": "accept_encoding",
    "Psu-Accept-Language": "accept_language",
    "Psu-Geo-Location": "geo_location",
}
ALWAYS_SENT_PSU_HEADERS = ("Psu-Ip-Address", "Psu-User-Agent")


class _TokenRefused(InvalidConfiguration):
    """The API refused the application JWT (wrong key, unknown application or expired token)."""


class _PsuHeadersRefused(ProviderError):
    """The bank wants other PSU headers than those sent."""


class _WrongPeriod(ProviderError):
    """The bank refused the requested transaction window."""


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _error_code(payload):
    return payload.get("error") if isinstance(payload, dict) else None


class EnableBankingProvider(Provider):
    """Connector for the Enable Banking API."""

    code = "enable_banking"
    name = "Enable Banking"
    # The application (sandbox or production, chosen in the Control Panel) decides the environment.
    ENVIRONMENTS = {"sandbox": API_URL, "production": API_URL}
    CONFIG_FIELDS = {"client_id": "Application ID", "private_key": "Private key"}
    # Banks answer ASPSP_RATE_LIMIT_EXCEEDED beyond about four calls a day without the user.
    UNATTENDED_REFRESHES_PER_DAY = 4

    def __init__(self, config=None):
        super().__init__(config)
        self._http = None
        self._jwt = None
        self._jwt_expires = 0

    # authentication -------------------------------------------------------

    def _signing_key(self):
        (pem,) = self.require_config("private_key")
        try:
            key = serialization.load_pem_private_key(pem.strip().encode(), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise InvalidConfiguration("The Enable Banking private key is not a valid, unencrypted PEM key.",
                                       credentials_rejected=False) from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise InvalidConfiguration("The Enable Banking private key must be an RSA key.", credentials_rejected=False)
        return key

    def _token(self):
        """The application JWT, signed again shortly before it expires."""
        now = int(time.time())
        if self._jwt and now < self._jwt_expires - JWT_RENEW_MARGIN:
            return self._jwt
        (application_id,) = self.require_config("client_id")
        key = self._signing_key()
        header = {"typ": "JWT", "alg": "RS256", "kid": application_id.strip()}
        claims = {"iss": "enablebanking.com", "aud": "api.enablebanking.com",
                  "iat": now, "exp": now + JWT_TTL, "jti": str(uuid.uuid4())}
        signing_input = ".".join(_b64url(json.dumps(part, separators=(",", ":")).encode())
                                 for part in (header, claims))
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        self._jwt = f"{signing_input}.{_b64url(signature)}"
        self._jwt_expires = now + JWT_TTL
        return self._jwt

    # HTTP -----------------------------------------------------------------

    def _client(self):
        if self._http is None:
            session = requests.Session()
            session.hooks["response"].append(self._stop_on_bank_quota)
            self._http = self.http_client(request_id_header=REQUEST_ID_HEADER,
                                          error_handler=self._raise_error, session=session)
        return self._http

    def _call(self, method, path, psu_headers=None, **kwargs):
        """Send a signed request; a refused JWT that was not new is signed again once.

        When the bank refuses the PSU headers sent (a connection made before the
        bank listed more of them), the call is repeated as an unattended one.
        """
        if psu_headers:
            try:
                return self._signed_call(method, path, psu_headers, **kwargs)
            except _PsuHeadersRefused:
                _logger.info("The bank refused the PSU headers sent; calling again without them.")
        return self._signed_call(method, path, None, **kwargs)

    def _signed_call(self, method, path, psu_headers, **kwargs):
        client = self._client()
        reused = self._jwt is not None
        for attempt in (1, 2):
            headers = dict(psu_headers or {}, Authorization=f"Bearer {self._token()}", Accept="application/json")
            try:
                return client.request(method, path, headers=headers, **kwargs)
            except _TokenRefused:
                if not reused or attempt == 2:
                    raise
                _logger.info("Enable Banking refused the application token; signing a new one.")
                self._jwt = None
        raise AssertionError("unreachable")

    @staticmethod
    def _stop_on_bank_quota(raw, *args, **kwargs):
        """Raise at once on the bank's daily quota: repeating the call cannot succeed before it resets."""
        if raw.status_code != 429:
            return
        try:
            payload = raw.json()
        except ValueError:
            return
        if _error_code(payload) == "ASPSP_RATE_LIMIT_EXCEEDED":
            EnableBankingProvider._raise_error(HttpResponse(
                raw.status_code, raw.headers, payload, raw.headers.get(REQUEST_ID_HEADER)))

    @staticmethod
    def _raise_error(response):
        """Map an Enable Banking error answer to the typed errors."""
        error = _error_code(response.payload)
        request_id = response.request_id
        if error == "ASPSP_RATE_LIMIT_EXCEEDED":
            raise RateLimited(
                "The bank allows only a few automatic refreshes a day; the next synchronization will try again.",
                retry_after=HttpClient.retry_after(response), request_id=request_id)
        if response.status == 429:
            raise RateLimited("Enable Banking limits how often it can be called.",
                              retry_after=HttpClient.retry_after(response), request_id=request_id)
        if error in ("UNAUTHORIZED_ACCESS", "AUTHORIZATION_NOT_PROVIDED") or (
                error is None and response.status == 401):
            raise _TokenRefused(
                "Enable Banking refused the application credentials: check the application ID and private key.",
                request_id=request_id)
        if error in CONFIG_ERRORS:
            raise InvalidConfiguration(
                f"Enable Banking refused the request ({error}): check the application settings.",
                request_id=request_id)
        if error in REAUTH_ERRORS:
            raise ReauthRequired(
                "The consent given at the bank has ended or was withdrawn: reconnect the bank.",
                request_id=request_id)
        if error == "ASPSP_PSU_ACTION_REQUIRED":
            # Confirmed on the bank's authorization page, which Update Credentials opens again.
            raise MFARequired("The bank asks you to confirm your identity on its page.", request_id=request_id,
                              update_credentials=True)
        if error in UNAVAILABLE_ERRORS or response.status >= 500:
            raise InstitutionUnavailable("The bank is temporarily unavailable.", request_id=request_id)
        if error == "PSU_HEADER_NOT_PROVIDED":
            raise _PsuHeadersRefused("The bank asked for other details of the user present.", request_id=request_id)
        if error == "WRONG_TRANSACTIONS_PERIOD":
            raise _WrongPeriod("The bank refused the requested period.", request_id=request_id)
        if error in CODE_ERRORS:
            raise ProviderError("The bank authorization could not be completed: please connect again.",
                                request_id=request_id)
        if error == "WRONG_CONTINUATION_KEY":
            raise ProviderError("The bank's transaction listing changed while it was read; it will be read again.",
                                request_id=request_id)
        if error:
            raise ProviderError(f"Enable Banking refused the request ({error}).", request_id=request_id)

    # institutions and consent ---------------------------------------------

    def _aspsps(self, country=None):
        params = {"country": country.upper()} if country else {}
        response = self._call("GET", "/aspsps", params=params)
        aspsps = require(response.payload, "aspsps", request_id=response.request_id)
        if not isinstance(aspsps, list):
            raise MalformedResponse("The bank list from Enable Banking is not a list.",
                                    request_id=response.request_id)
        return [a for a in aspsps if isinstance(a, dict) and a.get("name") and a.get("country")]

    def search_institutions(self, country=None, text=None):
        """Banks of ``country`` whose name contains ``text``; an id is ``COUNTRY:Name``."""
        text = (text or "").strip().lower()
        return [
            Institution(
                id=f"{aspsp['country']}:{aspsp['name']}",
                name=aspsp["name"],
                country=aspsp["country"],
                logo_url=aspsp.get("logo") or "",
                beta=bool(aspsp.get("beta")),
                bic=parse_bic(aspsp.get("bic")),
                account_types=tuple(psu_type for psu_type in aspsp.get("psu_types") or ()
                                    if psu_type in ("business", "personal")),
            )
            for aspsp in self._aspsps(country)
            if text in aspsp["name"].lower()
        ]

    def _aspsp(self, institution_id):
        country, _sep, name = (institution_id or "").partition(":")
        for aspsp in self._aspsps(country) if name else ():
            if aspsp["name"] == name and aspsp["country"] == country:
                return aspsp
        raise ProviderError("This bank is not offered by Enable Banking any more.")

    def start_connection(self, institution_id, mode="new", tokens=None, redirect_url=None, state=None):
        """Ask Enable Banking for the bank's consent page (the same flow for new, update and renew)."""
        if not redirect_url:
            raise InvalidConfiguration("Enable Banking needs the address to send the user back to.",
                                       credentials_rejected=False)
        aspsp = self._aspsp(institution_id)
        seconds = aspsp.get("maximum_consent_validity") or DEFAULT_CONSENT_SECONDS
        seconds = min(int(seconds), MAX_CONSENT_SECONDS) - 60
        valid_until = (datetime.now(timezone.utc) + timedelta(seconds=seconds)).replace(microsecond=0)
        psu_types = aspsp.get("psu_types") or ["business"]
        body = {
            "access": {"valid_until": valid_until.isoformat()},
            "aspsp": {"name": aspsp["name"], "country": aspsp["country"]},
            "state": state or str(uuid.uuid4()),
            "redirect_url": redirect_url,
            "psu_type": "business" if "business" in psu_types else "personal",
        }
        response = self._call("POST", "/auth", json=body, safe=False)
        url = require(response.payload, "url", request_id=response.request_id)
        return ConnectionStart(redirect_url=url, pending={
            "state": body["state"],
            "authorization_id": response.payload.get("authorization_id"),
            "requested_valid_until": body["access"]["valid_until"],
            "required_psu_headers": [h for h in aspsp.get("required_psu_headers") or [] if isinstance(h, str)],
        })

    def complete_connection(self, institution_id, params, tokens=None):
        """Create the session from the authorization code; accounts keep their ids across reconnections."""
        tokens = tokens or {}
        if params.get("error"):
            raise ProviderError(f"The bank did not grant access ({params['error'][:40]}).")
        if tokens.get("state") and params.get("state") != tokens["state"]:
            raise ProviderError("The bank's answer does not belong to this connection attempt.")
        if not params.get("code"):
            raise ProviderError("The bank sent no authorization back: please connect again.")
        response = self._call("POST", "/sessions", json={"code": params["code"]}, safe=False)
        payload, request_id = response.payload, response.request_id
        session_id = require(payload, "session_id", request_id=request_id)
        accounts = require(payload, "accounts", request_id=request_id)
        if not isinstance(accounts, list):
            raise MalformedResponse("Enable Banking sent an invalid account list.", request_id=request_id)
        valid_until = (payload.get("access") or {}).get("valid_until") or tokens.get("requested_valid_until")
        if valid_until:
            parse_datetime(valid_until, "consent end")
        aspsp = payload.get("aspsp") or {}
        new_tokens = {
            "session_id": session_id,
            "valid_until": valid_until,
            "aspsp": {"name": aspsp.get("name"), "country": aspsp.get("country")},
            "accounts": self._match_accounts(accounts, tokens.get("accounts") or {}, request_id),
            "required_psu_headers": tokens.get("required_psu_headers") or [],
        }
        old_session = tokens.get("session_id")
        if old_session and old_session != session_id:
            self._close_session(old_session)
        return new_tokens

    @staticmethod
    def _match_accounts(accounts, previous, request_id):
        """``{account id: details}``; an account seen under an earlier session keeps its id."""
        matched = {}
        for resource in accounts:
            uid = require(resource, "uid", request_id=request_id)
            account_id = resource.get("account_id") or {}
            other = account_id.get("other") or {}
            iban = (account_id.get("iban") or "").replace(" ", "").upper()
            account_hashes = [h for h in (resource.get("identification_hash"),
                                          *(resource.get("identification_hashes") or ())) if h]
            entry = {
                "uid": uid,
                "iban": iban,
                "number": iban or other.get("identification") or "",
                "hashes": sorted(set(account_hashes)),
                "name": resource.get("details") or resource.get("product") or resource.get("name") or iban or "",
                "holder": resource.get("name") or "",
                "currency": resource.get("currency") or "",
                "bic": parse_bic((resource.get("account_servicer") or {}).get("bic_fi")),
            }
            key = next((
                old_key for old_key, old in previous.items()
                if (iban and old.get("iban") == iban) or set(entry["hashes"]) & set(old.get("hashes") or ())
            ), None)
            matched[key or iban or (account_hashes[0] if account_hashes else "") or entry["number"] or uid] = entry
        return matched

    def _close_session(self, session_id):
        try:
            self._call("DELETE", f"/sessions/{session_id}")
        except ReauthRequired:
            pass  # already closed or expired
        except ProviderError as error:
            _logger.info("Enable Banking did not close a previous session: %s", error.message)

    def consent_expiry(self, tokens):
        """The session's ``valid_until``, as a naive UTC datetime."""
        valid_until = (tokens or {}).get("valid_until")
        return parse_datetime(valid_until, "consent end") if valid_until else None

    def refresh_tokens(self, tokens):
        """Sessions have no token to refresh: the application JWT is signed anew when needed."""
        return tokens

    def revoke(self, tokens):
        """Close the session at Enable Banking; an already ended session counts as closed."""
        session_id = (tokens or {}).get("session_id")
        if session_id:
            try:
                self._call("DELETE", f"/sessions/{session_id}")
            except ReauthRequired:
                pass

    # data -----------------------------------------------------------------

    @staticmethod
    def _accounts(tokens):
        """The session's ``{account id: details}``."""
        if not (tokens or {}).get("session_id"):
            raise ReauthRequired("This connection has no consent at Enable Banking: reconnect the bank.")
        return tokens.get("accounts") or {}

    def list_accounts(self, tokens, balances=True):
        """The accounts shared in the session, with their closing balance when ``balances`` is True."""
        accounts = []
        for account_id, entry in self._accounts(tokens).items():
            balance, balance_date, available, balance_currency = (
                self._balance(entry["uid"], tokens) if balances else (None, None, None, ""))
            currency = entry["currency"] or balance_currency
            if not currency:
                raise MalformedResponse("Enable Banking sent an account without currency.")
            accounts.append(Account(
                id=account_id,
                name=entry["name"],
                currency=parse_currency(currency),
                number=entry["number"],
                balance=balance,
                holder_name=entry["holder"],
                bic=entry.get("bic") or "",
                balance_date=balance_date,
                available_balance=available,
            ))
        return accounts

    def _balance(self, uid, tokens):
        response = self._call("GET", f"/accounts/{uid}/balances", psu_headers=self._psu_headers(tokens))
        balances = require(response.payload, "balances", request_id=response.request_id)
        if not isinstance(balances, list):
            raise MalformedResponse("Enable Banking sent an invalid balance list.", request_id=response.request_id)
        by_type = {b.get("balance_type"): b for b in balances if isinstance(b, dict)}
        booked = next((by_type[t] for t in BOOKED_TYPES if t in by_type), None)
        available = next((by_type[t] for t in AVAILABLE_TYPES if t in by_type), None)
        with with_request_id(response.request_id):
            booked_amount, currency = self._balance_amount(booked)
            available_amount, available_currency = self._balance_amount(available)
            reference = booked and booked.get("reference_date")
            return (booked_amount, parse_date(reference, "balance date") if reference else None,
                    available_amount, currency or available_currency)

    @staticmethod
    def _balance_amount(balance):
        if not balance:
            return None, ""
        amount = require(balance, "balance_amount")
        return parse_amount(amount.get("amount"), "balance"), parse_currency(amount.get("currency"))

    def list_transactions(self, tokens, account_id, date_from, cursor=None, unattended=False):
        """One page of transactions from ``date_from``; the cursor carries the API's ``continuation_key``.

        When the bank refuses the period, the listing falls back to
        ``strategy=longest``; the last page's ``history_start`` then says from
        which day the bank gave transactions.
        """
        entry = self._accounts(tokens).get(account_id)
        if not entry:
            raise ReauthRequired("This account is no longer part of the bank connection: reconnect the bank.")
        state = json.loads(cursor) if cursor else {"strategy": "default", "seen": {}, "oldest": None}
        if date_from > date.today():
            return TransactionPage([], None)
        params = {"date_from": date_from.isoformat()}
        if state.get("continuation_key"):
            params["continuation_key"] = state["continuation_key"]
        path = f"/accounts/{entry['uid']}/transactions"
        psu_headers = {} if unattended else self._psu_headers(tokens)
        try:
            response = self._fetch(path, params, state["strategy"], psu_headers)
        except _WrongPeriod:
            if cursor or state["strategy"] == "longest":
                raise
            state["strategy"] = "longest"
            response = self._fetch(path, params, state["strategy"], psu_headers)
        payload, request_id = response.payload, response.request_id
        rows = require(payload, "transactions", request_id=request_id)
        if not isinstance(rows, list):
            raise MalformedResponse("Enable Banking sent an invalid transaction list.", request_id=request_id)
        transactions = []
        with with_request_id(request_id):
            for raw in rows:
                transaction = self._transaction(raw, state["seen"])
                if transaction and transaction.booking_date >= date_from:
                    transactions.append(transaction)
        if state["strategy"] == "longest":
            days = [t.booking_date.isoformat() for t in transactions] + [state.get("oldest") or "9999-12-31"]
            state["oldest"] = min(days)
        next_key = payload.get("continuation_key")
        if next_key and next_key == state.get("continuation_key"):
            raise MalformedResponse("Enable Banking repeated the same page of transactions.", request_id=request_id)
        next_cursor = json.dumps(dict(state, continuation_key=next_key)) if next_key else None
        history_start = None
        if not next_cursor and state["strategy"] == "longest" and state["oldest"] < "9999":
            history_start = date.fromisoformat(state["oldest"])
        return TransactionPage(transactions, next_cursor, history_start=history_start)

    def _fetch(self, path, params, strategy, psu_headers):
        if strategy != "default":
            params = dict(params, strategy=strategy)
        return self._call("GET", path, psu_headers=psu_headers, params=params)

    def _psu_headers(self, tokens):
        """The PSU headers of the user present: the two always sent and those the bank requires; none unattended."""
        if not self.psu:
            return {}
        required = (tokens or {}).get("required_psu_headers") or ()
        wanted = set(ALWAYS_SENT_PSU_HEADERS) | {name.title() for name in required}
        return {name: str(self.psu[key]) for name, key in PSU_HEADERS.items()
                if name.title() in wanted and self.psu.get(key)}

    def _transaction(self, raw, seen):
        """A ``Transaction`` from the API's dict, or None for a cancelled or rejected one."""
        if not isinstance(raw, dict):
            raise MalformedResponse("Enable Banking sent an invalid transaction.")
        status = raw.get("status") or ("BOOK" if raw.get("booking_date") else "PDNG")
        if status in VOID_STATUSES:
            return None
        posted = status not in PENDING_STATUSES
        money = require(raw, "transaction_amount")
        amount = parse_amount(money.get("amount") if isinstance(money, dict) else None)
        currency = parse_currency(money.get("currency"))
        indicator = raw.get("credit_debit_indicator")
        if indicator == "DBIT":
            amount = -abs(amount)
        elif indicator == "CRDT":
            amount = abs(amount)
        dates = [raw.get(k) for k in ("booking_date", "value_date", "transaction_date")]
        if posted:
            day = next((d for d in dates if d), None)
            if not day:
                raise MalformedResponse("Enable Banking sent a booked transaction without date.")
            booking_date = parse_date(day, "booking date")
        else:
            day = raw.get("booking_date") or raw.get("transaction_date") or raw.get("value_date")
            booking_date = parse_date(day, "transaction date") if day else date.today()
        side = "creditor" if indicator == "DBIT" else "debtor"
        party = raw.get(side) or {}
        party_account = raw.get(f"{side}_account") or {}
        lines = raw.get("remittance_information") or []
        label = " ".join(str(line) for line in lines if line) if isinstance(lines, list) else str(lines)
        label = label.strip() or raw.get("reference_number") or (raw.get("bank_transaction_code") or {}).get(
            "description") or raw.get("note") or ""
        foreign_amount, foreign_currency = None, ""
        instructed = (raw.get("exchange_rate") or {}).get("instructed_amount") or {}
        if instructed.get("amount") is not None and instructed.get("currency") not in (None, currency):
            foreign_currency = parse_currency(instructed["currency"])
            foreign_amount = abs(parse_amount(instructed["amount"], "foreign amount")).copy_sign(amount)
        after = raw.get("balance_after_transaction")
        transaction = Transaction(
            id="",
            booking_date=booking_date,
            amount=amount,
            currency=currency,
            status=POSTED if posted else PENDING,
            value_date=parse_date(raw["value_date"], "value date") if raw.get("value_date") else None,
            label=label,
            counterparty_name=party.get("name") or "",
            counterparty_account=party_account.get("iban") or (party_account.get("other") or {}).get(
                "identification") or "",
            foreign_amount=foreign_amount,
            foreign_currency=foreign_currency,
            balance_after=parse_amount(after.get("amount"), "balance after transaction")
            if posted and isinstance(after, dict) and after.get("amount") is not None else None,
            raw=raw,
        )
        return dataclasses.replace(transaction, id=self._transaction_id(raw, transaction, seen))

    @staticmethod
    def _transaction_id(raw, transaction, seen):
        """The bank's ``entry_reference``, else a digest of the content and its occurrence count.

        ``transaction_id`` is not used: Enable Banking warns it may change between calls.
        """
        if raw.get("entry_reference"):
            return str(raw["entry_reference"])
        content = json.dumps([
            transaction.status, transaction.booking_date.isoformat(), str(transaction.amount), transaction.currency,
            raw.get("value_date"), raw.get("transaction_date"), transaction.label, transaction.counterparty_name,
            transaction.counterparty_account, raw.get("reference_number"),
        ])
        digest = hashlib.sha256(content.encode()).hexdigest()[:24]
        seen[digest] = seen.get(digest, 0) + 1
        return f"h{digest}-{seen[digest]}"
