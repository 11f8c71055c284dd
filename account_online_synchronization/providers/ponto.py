"""Ponto (Isabel Group, Ibanity platform): Belgian, Dutch and French bank accounts under PSD2.

Two ways in, chosen by the settings:

* **custom integration** (default, no certificate): the organisation creates
  a client id and secret in its Ponto dashboard and shares its accounts with
  that integration there; the connector only uses the client-credentials
  grant on ``api.myponto.com``. Starting a new connection needs no page.
* **Ponto Connect** (a certificate and its private key are configured): every
  call uses the client certificate on ``api.ibanity.com/ponto-connect`` and
  each organisation gives consent on Ponto's authorization page (OAuth2
  authorization code with PKCE); its refresh token rotates on every use.

Renewing or updating a connection sends the user to Ponto's reauthorization
page for the account whose bank authorization ends first; Ponto keeps the same
organisation, so account and transaction ids stay the same. Ponto refreshes
its data from the banks itself four times a day; the connector reads what it
holds. Transactions come newest first with a cursor on the transaction id;
pending ones come from a separate list and get a new id once booked.
"""
import base64
import hashlib
import os
import secrets
import tempfile
import weakref
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from .base import Provider
from .errors import (
    InstitutionUnavailable,
    InvalidConfiguration,
    MalformedResponse,
    ProviderError,
    RateLimited,
    ReauthRequired,
)
from .http import HttpClient, require
from .parsing import parse_amount, parse_bic, parse_currency, parse_date, parse_datetime
from .schema import PENDING, POSTED, Account, ConnectionStart, Institution, Transaction, TransactionPage

CUSTOM_INTEGRATION_URL = "https://api.myponto.com"
PONTO_CONNECT_URL = "https://api.ibanity.com/ponto-connect"
AUTHORIZATION_URL = "https://authorization.myponto.com/oauth2/auth"
REQUEST_ID_HEADER = "ibanity-request-id"
SCOPE = "ai offline_access"
PAGE_LIMIT = 100
#: An access token is renewed when it has less than this left.
TOKEN_MARGIN = timedelta(minutes=2)
#: Ponto sends booking dates as UTC midnights of the banks' calendar days.
BANK_TIMEZONE = ZoneInfo("Europe/Brussels")
POSTED_LIST = "transactions"
PENDING_LIST = "pending-transactions"
OAUTH_CONFIGURATION_ERRORS = frozenset({"invalid_client", "unauthorized_client", "invalid_scope", "invalid_request"})


class _AccessTokenRejected(ProviderError):
    """Ponto answered 401 to a data call: the access token is no longer valid."""


def _remove_files(paths):
    for path in paths:
        try:
            os.remove(path)
        except OSError:
            pass


def _json_safe(value):
    """The payload with its ``Decimal`` numbers as strings, ready to be stored as JSON."""
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def _mapping(value, key):
    """``value[key]`` when both are dicts, else an empty dict (tolerant reading of optional blocks)."""
    item = value.get(key) if isinstance(value, dict) else None
    return item if isinstance(item, dict) else {}


def _with_query(url, **params):
    """``url`` with ``params`` added to its query string."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _now():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _bank_date(value, what):
    """The banks' calendar date of a Ponto UTC timestamp (a plain date is kept as it is)."""
    if isinstance(value, str) and len(value) == 10:
        return parse_date(value, what)
    moment = parse_datetime(value, what)
    return moment.replace(tzinfo=timezone.utc).astimezone(BANK_TIMEZONE).date()


class PontoProvider(Provider):
    """Ponto through a custom integration or a Ponto Connect application."""

    code = "ponto"
    name = "Ponto"
    # Sandbox and live are told apart by the credentials, not by the host.
    ENVIRONMENTS = {"sandbox": CUSTOM_INTEGRATION_URL, "production": CUSTOM_INTEGRATION_URL}
    CONFIG_FIELDS = {
        "client_id": "Client ID",
        "client_secret": "Client secret",
        "certificate": "Certificate (Ponto Connect only)",
        "private_key": "Private key (Ponto Connect only)",
    }

    def __init__(self, config=None):
        super().__init__(config)
        self._cert_files = None
        self._client_token = None

    # settings ----------------------------------------------------------------

    @property
    def ponto_connect(self):
        """True for a Ponto Connect application, False for a custom integration."""
        return bool(self.config.get("certificate"))

    @property
    def base_url(self):
        if self.ponto_connect and not self.config.get("base_url"):
            return PONTO_CONNECT_URL
        return super().base_url

    @property
    def authorization_url(self):
        """Ponto's consent page; an overridden base URL serves it too."""
        return f"{self.base_url}/oauth2/auth" if self.config.get("base_url") else AUTHORIZATION_URL

    def _require_credentials(self):
        """The application's settings: client id and secret, and for Ponto Connect the certificate and key."""
        keys = ("client_id", "client_secret") + (("certificate", "private_key") if self.ponto_connect else ())
        return self.require_config(*keys)

    def _client(self):
        return self.http_client(request_id_header=REQUEST_ID_HEADER, cert=self._certificate_files(),
                                error_handler=self._handle_error)

    def _certificate_files(self):
        """Paths of the client certificate and key (``requests`` reads them from files), or None."""
        if not self.ponto_connect:
            return None
        if self._cert_files is None:
            paths = []
            for pem in self.require_config("certificate", "private_key"):
                handle, path = tempfile.mkstemp(prefix="ponto-", suffix=".pem")
                with os.fdopen(handle, "w") as file:
                    file.write(pem)
                paths.append(path)
            weakref.finalize(self, _remove_files, paths)
            self._cert_files = tuple(paths)
        return self._cert_files

    # errors ------------------------------------------------------------------

    def _handle_error(self, response):
        """Raise the typed error of a Ponto error answer (JSON:API ``errors`` or OAuth2 ``error``)."""
        payload = response.payload if isinstance(response.payload, dict) else {}
        errors = payload.get("errors") if isinstance(payload.get("errors"), list) else []
        first = errors[0] if errors and isinstance(errors[0], dict) else {}
        request_id = response.request_id or _mapping(first, "meta").get("requestId")
        code = str(first.get("code") or payload.get("error") or "")
        status = response.status
        if code in OAUTH_CONFIGURATION_ERRORS:
            raise InvalidConfiguration(
                "Ponto refused the application's credentials: check the client ID, secret and certificate.",
                request_id=request_id, credentials_rejected=code in ("invalid_client", "unauthorized_client"),
            )
        if code == "invalid_grant":
            raise ReauthRequired("Ponto no longer accepts this connection: connect the bank again.",
                                 request_id=request_id)
        if status == 429:
            raise RateLimited("Ponto limits how often it can be called.",
                              retry_after=HttpClient.retry_after(response), request_id=request_id)
        if status == 401:
            raise _AccessTokenRejected("Ponto refused the access token of this connection.", request_id=request_id)
        if "authoriz" in code.lower() or status == 403:
            raise ReauthRequired("Ponto no longer has access to this bank account: renew the authorization.",
                                 request_id=request_id)
        if status == 404:
            raise ProviderError("Ponto does not know this account any more; it may no longer be shared.",
                                request_id=request_id)
        if status >= 500:
            raise InstitutionUnavailable("Ponto is temporarily unavailable.", request_id=request_id)
        raise ProviderError(f"Ponto refused the request ({code or f'HTTP {status}'}).", request_id=request_id)

    # tokens ------------------------------------------------------------------

    def _token(self, safe, **form):
        """Call the OAuth2 token endpoint; return the access token, its expiry and any refresh token."""
        client_id, client_secret = self.require_config("client_id", "client_secret")
        response = self._client().post("/oauth2/token", data=form, auth=(client_id, client_secret),
                                       headers={"Accept": "application/json"}, safe=safe)
        payload = response.payload
        access_token = require(payload, "access_token", request_id=response.request_id)
        try:
            lifetime = int(payload.get("expires_in") or 0)
        except (TypeError, ValueError):
            raise MalformedResponse("Ponto sent an invalid token lifetime.", request_id=response.request_id) from None
        tokens = {"access_token": access_token,
                  "expires_at": (_now() + timedelta(seconds=lifetime)).isoformat(timespec="seconds")}
        if payload.get("refresh_token"):
            tokens["refresh_token"] = payload["refresh_token"]
        return tokens

    def _renew_access(self, tokens):
        """A new access token: refresh grant (Ponto Connect, rotating) or client credentials."""
        if not self.ponto_connect:
            if self._client_token is None or self._expiring(self._client_token):
                self._client_token = self._token(True, grant_type="client_credentials")
            return dict(self._client_token)
        refresh_token = tokens.get("refresh_token")
        if not refresh_token:
            raise ReauthRequired("This connection has no Ponto authorization: connect the bank again.")
        client_id, = self.require_config("client_id")
        renewed = self._token(False, grant_type="refresh_token", refresh_token=refresh_token, client_id=client_id)
        renewed.setdefault("refresh_token", refresh_token)
        return renewed

    @staticmethod
    def _expiring(tokens):
        expires_at = tokens.get("expires_at")
        return not tokens.get("access_token") or not expires_at or \
            datetime.fromisoformat(expires_at) - TOKEN_MARGIN <= _now()

    def refresh_tokens(self, tokens):
        """Renew the access token when it expires soon or Ponto rejects it; record the consent end."""
        fresh = dict(tokens)
        if self._expiring(fresh):
            fresh.update(self._renew_access(fresh))
            self.tokens_issued(fresh)
        try:
            accounts = self._accounts(fresh, renew=False)
        except _AccessTokenRejected:
            self._client_token = None
            fresh.update(self._renew_access(fresh))
            self.tokens_issued(fresh)
            accounts = self._accounts(fresh, renew=False)
        fresh["consent_expires_at"] = self._consent_end(accounts)
        return tokens if fresh == tokens else fresh

    def consent_expiry(self, tokens):
        """When the first bank authorization of the connection is expected to end."""
        value = (tokens or {}).get("consent_expires_at")
        return datetime.fromisoformat(value) if value else None

    # JSON:API reads ----------------------------------------------------------

    def _get(self, tokens, path, params=None):
        headers = {"Accept": "application/json", "Authorization": f"Bearer {tokens.get('access_token') or ''}"}
        return self._client().get(path, params=params, headers=headers)

    def _read(self, tokens, path, params=None, renew=True):
        """GET with the connection's token.

        With ``renew``, a refused token is renewed once (a Ponto Connect
        one in ``tokens`` itself, handed to ``tokens_issued``); otherwise the
        refusal raises ``_AccessTokenRejected``.
        """
        if not tokens or not (tokens.get("access_token") or tokens.get("refresh_token")):
            raise ReauthRequired("This connection has no Ponto authorization: connect the bank again.")
        if not self.ponto_connect and self._expiring(tokens):
            tokens = self._renew_access(tokens)
        try:
            return self._get(tokens, path, params)
        except _AccessTokenRejected:
            if not renew:
                raise
            if not self.ponto_connect:
                self._client_token = None
                return self._get(self._renew_access(tokens), path, params)
        # The caller's tokens are renewed in place: its next calls must not send the spent refresh token.
        tokens.update(self._renew_access(tokens))
        self.tokens_issued(tokens)
        return self._get(tokens, path, params)

    @staticmethod
    def _data(response):
        data = require(response.payload, "data", request_id=response.request_id)
        if not isinstance(data, list):
            raise MalformedResponse("Ponto sent an invalid list of resources.", request_id=response.request_id)
        for item in data:
            require(item, "id", request_id=response.request_id)
            require(item, "attributes", request_id=response.request_id)
        return data

    @staticmethod
    def _has_next(response):
        links = response.payload.get("links")
        return isinstance(links, dict) and bool(links.get("next"))

    def _accounts(self, tokens, renew=True):
        """Every account resource shared with the application, following the pages."""
        accounts, params = [], {"page[limit]": PAGE_LIMIT}
        while True:
            response = self._read(tokens, "/accounts", params, renew=renew)
            data = self._data(response)
            accounts += data
            if not data or not self._has_next(response):
                return accounts
            params = {"page[limit]": PAGE_LIMIT, "page[after]": data[-1]["id"]}

    @staticmethod
    def _consent_end(accounts):
        ends = [parse_datetime(account["attributes"]["authorizationExpirationExpectedAt"], "authorization end")
                for account in accounts if account["attributes"].get("authorizationExpirationExpectedAt")]
        return min(ends).isoformat(timespec="seconds") if ends else None

    @staticmethod
    def _check_authorization(account, request_id=None):
        """Raise ``ReauthRequired`` when Ponto's last refresh failed because the bank authorization ended."""
        attributes = account["attributes"]
        sync = _mapping(_mapping(_mapping(account, "meta"), "latestSynchronization"), "attributes")
        if sync.get("status") == "error" and PontoProvider._authorization_ended(account):
            raise ReauthRequired(
                f"The bank authorization of {attributes.get('reference') or 'an account'} in Ponto has ended: "
                "renew it to synchronize again.",
                request_id=request_id,
            )

    @staticmethod
    def _authorization_ended(account):
        """True when the account's bank authorization has passed its end or Ponto's refresh says it is invalid."""
        sync = _mapping(_mapping(_mapping(account, "meta"), "latestSynchronization"), "attributes")
        codes = [str(error.get("code") or "") for error in sync.get("errors") or [] if isinstance(error, dict)]
        expected_end = account["attributes"].get("authorizationExpirationExpectedAt")
        ended = bool(expected_end) and parse_datetime(expected_end, "authorization end") <= _now()
        return ended or sync.get("status") == "error" and any("authoriz" in code.lower() for code in codes)

    # institutions and consent ------------------------------------------------

    def search_institutions(self, country=None, text=None):
        """Ponto's financial institutions, filtered on country code and name."""
        country, text = (country or "").upper(), (text or "").lower()
        client, params, found = self._client(), {"page[limit]": PAGE_LIMIT}, []
        while True:
            response = client.get("/financial-institutions", params=params, headers={"Accept": "application/json"})
            data = self._data(response)
            for item in data:
                attributes = item["attributes"]
                name = attributes.get("name") or ""
                if attributes.get("deprecated") or country and attributes.get("country") != country \
                        or text not in name.lower():
                    continue
                found.append(Institution(
                    id=item["id"], name=name, country=attributes.get("country") or "",
                    logo_url=attributes.get("logoUrl") or "", beta=attributes.get("status") == "beta",
                    bic=parse_bic(attributes.get("bic")),
                ))
            if not data or not self._has_next(response):
                return found
            params = {"page[limit]": PAGE_LIMIT, "page[after]": data[-1]["id"]}

    def start_connection(self, institution_id, mode="new", tokens=None, redirect_url=None, state=None):
        """Renewals go to Ponto's reauthorization page; new Ponto Connect consents to its authorization page.

        A new custom-integration connection needs no page: its accounts are
        shared with the integration in the Ponto dashboard.
        """
        self._require_credentials()
        return_url = _with_query(redirect_url, state=state) if redirect_url and state else redirect_url
        if mode != "new" and tokens and return_url:
            try:
                fresh = self.refresh_tokens(tokens)
            except ReauthRequired:
                fresh = None  # the organisation withdrew the application: ask for a new consent
            if fresh:
                try:
                    return ConnectionStart(redirect_url=self._reauthorization(fresh, return_url), pending=fresh)
                except (InvalidConfiguration, ReauthRequired, RateLimited, InstitutionUnavailable):
                    raise
                except ProviderError:
                    if self.ponto_connect:
                        raise
                    # A custom integration may not offer reauthorization requests:
                    # the authorization is then renewed in the Ponto dashboard.
                    return ConnectionStart(pending=fresh)
        if not self.ponto_connect:
            return ConnectionStart()
        if not redirect_url:
            raise InvalidConfiguration("Ponto needs a return address to send the user back after consent.",
                                       credentials_rejected=False)
        client_id, = self.require_config("client_id")
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        url = _with_query(self.authorization_url, response_type="code", client_id=client_id,
                          redirect_uri=redirect_url, scope=SCOPE, state=state or "",
                          code_challenge=challenge, code_challenge_method="S256")
        return ConnectionStart(redirect_url=url, pending={"code_verifier": verifier, "redirect_uri": redirect_url})

    def _reauthorization(self, tokens, return_url):
        """Ask Ponto for the reauthorization page of the account whose authorization ends first."""
        accounts = self._accounts(tokens)
        if not accounts:
            raise ProviderError("No bank account is shared with this application in Ponto.")
        account = min(accounts, key=lambda item: item["attributes"].get("authorizationExpirationExpectedAt") or "~")
        body = {"data": {"type": "reauthorizationRequest", "attributes": {"redirectUri": return_url}}}
        response = self._client().post(
            f"/accounts/{account['id']}/reauthorization-requests", json=body, safe=False,
            headers={"Accept": "application/json", "Authorization": f"Bearer {tokens.get('access_token') or ''}"},
        )
        data = require(response.payload, "data", request_id=response.request_id)
        links = data.get("links") if isinstance(data, dict) and isinstance(data.get("links"), dict) \
            else response.payload.get("links") or {}
        redirect = links.get("redirect") if isinstance(links, dict) else None
        if not redirect:
            raise MalformedResponse("Ponto's answer lacks the reauthorization page.", request_id=response.request_id)
        return redirect

    def complete_connection(self, institution_id, params, tokens=None):
        """Exchange the authorization code, or renew the token after a reauthorization; return the tokens."""
        tokens, params = dict(tokens or {}), params or {}
        if params.get("error"):
            raise ProviderError(f"The consent was not given in Ponto ({str(params['error'])[:40]}).")
        if tokens.get("code_verifier"):
            if not params.get("code"):
                raise ProviderError("Ponto sent no authorization code back.")
            client_id, = self.require_config("client_id")
            fresh = self._token(False, grant_type="authorization_code", code=params["code"],
                                redirect_uri=tokens.get("redirect_uri") or "", client_id=client_id,
                                code_verifier=tokens["code_verifier"])
        elif self.ponto_connect and not tokens.get("access_token") and not tokens.get("refresh_token"):
            raise ProviderError("The consent at Ponto was not started.")
        else:
            fresh = self._renew_access(tokens)
        self.tokens_issued(fresh)
        accounts = self._accounts(fresh)
        if not accounts:
            raise ProviderError("No bank account is shared with this application in Ponto.")
        fresh["consent_expires_at"] = self._consent_end(accounts)
        fresh["authorizations_ended"] = len({
            _mapping(_mapping(_mapping(account, "relationships"), "financialInstitution"), "data").get("id")
            or account["id"] for account in accounts if self._authorization_ended(account)
        })
        return fresh

    def renewals_remaining(self, tokens):
        """Banks of the connection whose authorization has ended too: each is renewed on its own page."""
        return int((tokens or {}).get("authorizations_ended") or 0)

    def revoke(self, tokens):
        """Revoke the connection's refresh token (Ponto Connect) or access token at Ponto."""
        token = (tokens or {}).get("refresh_token") or (tokens or {}).get("access_token")
        if not token:
            return
        client_id, client_secret = self.require_config("client_id", "client_secret")
        self._client().post("/oauth2/revoke", data={"token": token}, auth=(client_id, client_secret),
                            safe=False, expect_json=False)

    # data --------------------------------------------------------------------

    def list_accounts(self, tokens, balances=True):
        """The accounts shared with the application, with their current balance."""
        accounts = []
        for item in self._accounts(tokens):
            self._check_authorization(item)
            attributes = item["attributes"]
            balance = attributes.get("currentBalance")
            available = attributes.get("availableBalance")
            balance_date = attributes.get("currentBalanceReferenceDate")
            accounts.append(Account(
                id=item["id"],
                name=attributes.get("description") or attributes.get("product") or attributes.get("reference") or "",
                currency=parse_currency(attributes.get("currency")),
                number=attributes.get("reference") or "",
                # A card's reference is its masked number.
                number_masked=attributes.get("referenceType") != "IBAN",
                balance=None if balance is None else parse_amount(balance, "balance"),
                holder_name=attributes.get("holderName") or "",
                balance_date=_bank_date(balance_date, "balance date") if balance_date else None,
                available_balance=None if available is None else parse_amount(available, "available balance"),
            ))
        return accounts

    def list_transactions(self, tokens, account_id, date_from, cursor=None, unattended=False):
        """One page of booked, then pending, transactions from ``date_from``.

        The cursor is ``<list>:<id of the last transaction read>``; Ponto lists
        newest first, so reading stops at the first transaction before ``date_from``.
        """
        if cursor:
            kind, _sep, after = cursor.partition(":")
            if kind not in (POSTED_LIST, PENDING_LIST):
                raise ProviderError("The synchronization position is not a Ponto one.")
        else:
            kind, after = POSTED_LIST, ""
            response = self._read(tokens, f"/accounts/{account_id}")
            self._check_authorization(require(response.payload, "data", request_id=response.request_id),
                                      response.request_id)
        params = {"page[limit]": PAGE_LIMIT}
        if after:
            params["page[after]"] = after
        response = self._read(tokens, f"/accounts/{account_id}/{kind}", params)
        data = self._data(response)
        status = POSTED if kind == POSTED_LIST else PENDING
        transactions = [self._transaction(item, status, response.request_id) for item in data]
        kept = [transaction for transaction in transactions if transaction.booking_date >= date_from]
        if data and self._has_next(response) and len(kept) == len(transactions):
            next_cursor = f"{kind}:{data[-1]['id']}"
        else:
            next_cursor = f"{PENDING_LIST}:" if kind == POSTED_LIST else None
        return TransactionPage(kept, next_cursor)

    @staticmethod
    def _transaction(item, status, request_id):
        attributes = item["attributes"]
        try:
            booked_on = attributes.get("executionDate") or (status == PENDING and attributes.get("valueDate"))
            amount = attributes.get("amount")
            return Transaction(
                id=str(item["id"]),
                booking_date=_bank_date(booked_on, "booking date"),
                value_date=_bank_date(attributes["valueDate"], "value date") if attributes.get("valueDate") else None,
                amount=parse_amount(amount),
                currency=parse_currency(attributes.get("currency")),
                status=status,
                label=attributes.get("remittanceInformation") or attributes.get("description") or "",
                counterparty_name=attributes.get("counterpartName") or "",
                counterparty_account=attributes.get("counterpartReference") or "",
                raw=_json_safe(item),
            )
        except MalformedResponse as error:
            raise MalformedResponse(f"Transaction {str(item['id'])[:40]}: {error.message}",
                                    request_id=request_id) from None
