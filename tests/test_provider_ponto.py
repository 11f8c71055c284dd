"""The Ponto connector against a fake Ponto API (no database, no Odoo model)."""
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from fakes.ponto import FakePonto
from provider_flow import all_transactions, connect
from odoo.addons.account_online_synchronization.providers.errors import (
    InstitutionUnavailable,
    InvalidConfiguration,
    MalformedResponse,
    ProviderError,
    RateLimited,
    ReauthRequired,
)
from odoo.addons.account_online_synchronization.providers.ponto import PontoProvider

CALLBACK = "https://odoo.example.com/online_sync/callback?link=7"
TODAY = date.today()


@pytest.fixture
def fake():
    with FakePonto() as server:
        yield server


@pytest.fixture
def provider(fake):
    return PontoProvider(fake.provider_config())


@pytest.fixture
def tokens(fake, provider):
    start = provider.start_connection(fake.institution_id, "new", None, CALLBACK, "st-1")
    assert start.redirect_url is None
    return provider.complete_connection(fake.institution_id, {}, start.pending)


@pytest.fixture
def connect_provider(fake):
    return PontoProvider(fake.provider_config(ponto_connect=True))


@pytest.fixture
def connect_tokens(fake, connect_provider):
    return connect(fake, connect_provider, state="st-2", callback=CALLBACK)




def posted_ids(fake, account_id, date_from):
    return {t["id"] for t in fake.posted[account_id] if t["attributes"]["executionDate"][:10] >= date_from.isoformat()}


# settings and credentials ---------------------------------------------------------


def test_missing_setting_is_invalid_configuration(fake):
    config = fake.provider_config()
    del config["client_secret"]
    with pytest.raises(InvalidConfiguration, match="Client secret"):
        PontoProvider(config).start_connection(fake.institution_id, "new", None, CALLBACK, "s")
    connect = fake.provider_config(ponto_connect=True)
    del connect["private_key"]
    with pytest.raises(InvalidConfiguration, match="Private key"):
        PontoProvider(connect).start_connection(fake.institution_id, "new", None, CALLBACK, "s")


def test_wrong_secret_is_invalid_configuration(fake):
    provider = PontoProvider(dict(fake.provider_config(), client_secret="not-the-secret"))
    with pytest.raises(InvalidConfiguration) as error:
        provider.complete_connection(fake.institution_id, {}, {})
    assert error.value.request_id
    assert "not-the-secret" not in error.value.message


def test_environments_and_modes():
    custom = PontoProvider({"environment": "production", "client_id": "a", "client_secret": "b"})
    assert custom.base_url == "https://api.myponto.com"
    assert not custom.ponto_connect
    connect = PontoProvider({"environment": "production", "client_id": "a", "client_secret": "b",
                             "certificate": "PEM", "private_key": "KEY"})
    assert connect.base_url == "https://api.ibanity.com/ponto-connect"
    assert connect.authorization_url == "https://authorization.myponto.com/oauth2/auth"


def test_ponto_connect_sends_the_client_certificate_from_files(fake):
    config = fake.provider_config(ponto_connect=True)
    provider = PontoProvider(config)
    certificate_path, key_path = provider._client().cert
    with open(certificate_path) as certificate, open(key_path) as key:
        assert (certificate.read(), key.read()) == (config["certificate"], config["private_key"])
    assert PontoProvider(fake.provider_config())._client().cert is None


# institutions and consent --------------------------------------------------------------


def test_search_institutions_by_country_and_text(provider):
    belgian = provider.search_institutions("be")
    assert {inst.country for inst in belgian} == {"BE"}
    assert "Old Savings Bank" not in {inst.name for inst in belgian}, "deprecated banks are hidden"
    assert len(belgian) == 6
    kbc, = provider.search_institutions("BE", "kbc")
    assert kbc.name == "KBC Sandbox"
    assert kbc.logo_url.startswith("https://") and not kbc.beta
    argenta, = provider.search_institutions("BE", "argenta")
    assert argenta.beta
    assert len(provider.search_institutions()) == 11, "every page of the list is read"
    assert provider.search_institutions("NL", "kbc") == []


def test_custom_integration_connects_without_consent_page(fake, provider, tokens):
    assert tokens["access_token"] and "refresh_token" not in tokens
    assert provider.consent_expiry(tokens) == fake.authorization_end
    assert [account.id for account in provider.list_accounts(tokens)] == fake.account_ids()


def test_ponto_connect_consent_round_trip(fake, connect_provider):
    start = connect_provider.start_connection(fake.institution_id, "new", None, CALLBACK, "anti-csrf-42")
    assert start.redirect_url.startswith(f"{fake.url}/oauth2/auth?")
    query = parse_qs(urlsplit(start.redirect_url).query)
    assert query["redirect_uri"] == [CALLBACK] and query["code_challenge_method"] == ["S256"]
    assert "offline_access" in query["scope"][0]
    assert start.pending["code_verifier"] not in start.redirect_url
    params = fake.consent(start.redirect_url)
    assert params["state"] == "anti-csrf-42" and params["code"]
    tokens = connect_provider.complete_connection(fake.institution_id, params, start.pending)
    assert tokens["access_token"] and tokens["refresh_token"]
    assert "code_verifier" not in tokens
    assert connect_provider.consent_expiry(tokens) == fake.authorization_end
    assert [account.id for account in connect_provider.list_accounts(tokens)] == fake.account_ids()
    # An authorization code serves once.
    with pytest.raises(ReauthRequired):
        connect_provider.complete_connection(fake.institution_id, params, start.pending)


def test_consent_refused_by_the_user(fake, connect_provider):
    start = connect_provider.start_connection(fake.institution_id, "new", None, CALLBACK, "s")
    with pytest.raises(ProviderError, match="consent was not given"):
        connect_provider.complete_connection(fake.institution_id, {"error": "access_denied", "state": "s"},
                                             start.pending)


# accounts and transactions ---------------------------------------------------------------


def test_list_accounts(fake, provider, tokens):
    current, usd = provider.list_accounts(tokens)
    assert (current.id, current.currency, current.number) == (fake.account_ids()[0], "EUR", "BE68539007547034")
    assert current.name == "Compte courant" and current.holder_name == "Example SRL"
    expected = sum((t["attributes"]["amount"] for t in fake.posted[current.id]), Decimal("10000"))
    assert isinstance(current.balance, Decimal) and current.balance == expected
    assert usd.currency == "USD"


def test_all_transactions_over_several_pages(fake, provider, tokens):
    for account_id in fake.account_ids():
        transactions, pages = all_transactions(provider, tokens, account_id, TODAY - timedelta(days=365))
        posted = [t.id for t in transactions if t.is_posted]
        assert len(posted) == len(set(posted)) == 40
        assert set(posted) == set(fake.posted_ids(account_id))
        assert pages >= 5, "the fake serves ten transactions a page"
    assert any("page[after]" in request.query for request in fake.requests)


def test_known_transaction_is_mapped(fake, provider, tokens):
    account_id = fake.account_ids()[0]
    booked_on = TODAY - timedelta(days=3)
    transaction_id = fake.add_transaction(account_id, Decimal("-45.30"), booked_on)
    transactions, _pages = all_transactions(provider, tokens, account_id, TODAY - timedelta(days=10))
    transaction, = [t for t in transactions if t.id == transaction_id]
    source = next(t for t in fake.posted[account_id] if t["id"] == transaction_id)["attributes"]
    assert transaction.amount == Decimal("-45.30") and transaction.currency == "EUR"
    assert transaction.booking_date == booked_on
    assert transaction.value_date == date.fromisoformat(source["valueDate"][:10])
    assert transaction.label == source["remittanceInformation"]
    assert transaction.counterparty_name == (source["counterpartName"] or "")
    assert transaction.counterparty_account == (source["counterpartReference"] or "")
    assert transaction.payload["id"] == transaction_id and transaction.payload["attributes"]["amount"] == "-45.3"
    history, _pages = all_transactions(provider, tokens, account_id, TODAY - timedelta(days=120))
    # A seeded payment received from Acme (the one added above may have drawn the same counterparty).
    credit = next(t for t in history
                  if t.is_posted and t.id != transaction_id and t.counterparty_name == "Acme Trading SA")
    assert credit.amount > 0 and credit.counterparty_account == "BE71096123456769"


def test_booking_date_is_the_banks_calendar_day(fake, provider, tokens):
    account_id = fake.account_ids()[0]
    transaction_id = fake.add_transaction(account_id, Decimal("12.00"), TODAY - timedelta(days=2))
    source = next(t for t in fake.posted[account_id] if t["id"] == transaction_id)["attributes"]
    # Midnight (winter) or 1 a.m. (summer) in Brussels, sent as the evening before in UTC.
    source["executionDate"] = f"{TODAY - timedelta(days=3)}T23:00:00.000Z"
    transactions, _pages = all_transactions(provider, tokens, account_id, TODAY - timedelta(days=5))
    transaction, = [t for t in transactions if t.id == transaction_id]
    assert transaction.booking_date == TODAY - timedelta(days=2)


def test_pending_transactions_are_marked_pending(fake, provider, tokens):
    account_id = fake.account_ids()[0]
    transactions, _pages = all_transactions(provider, tokens, account_id, TODAY - timedelta(days=5))
    pending = [t for t in transactions if not t.is_posted]
    assert {t.id for t in pending} == {t["id"] for t in fake.pending[account_id]}
    assert all(t.status == "pending" for t in pending)
    assert not {t.id for t in pending} & set(fake.posted_ids(account_id))


def test_date_from_is_respected(fake, provider, tokens):
    account_id = fake.account_ids()[1]
    date_from = TODAY - timedelta(days=30)
    transactions, pages = all_transactions(provider, tokens, account_id, date_from)
    assert all(t.booking_date >= date_from for t in transactions)
    assert {t.id for t in transactions if t.is_posted} == posted_ids(fake, account_id, date_from)
    _all, all_pages = all_transactions(provider, tokens, account_id, TODAY - timedelta(days=365))
    assert pages < all_pages, "reading stops at the first older transaction"


def test_booked_pending_transaction_gets_a_stable_new_id(fake, provider, tokens):
    account_id = fake.account_ids()[0]
    date_from = TODAY - timedelta(days=120)
    before, _pages = all_transactions(provider, tokens, account_id, date_from)
    before_posted = {t.id for t in before if t.is_posted}
    pending_ids = {t.id for t in before if not t.is_posted}
    fake.post_pending()
    after, _pages = all_transactions(provider, tokens, account_id, date_from)
    after_posted = {t.id for t in after if t.is_posted}
    assert before_posted < after_posted
    new = after_posted - before_posted
    assert len(new) == 2 and not new & pending_ids
    assert not [t for t in after if not t.is_posted]
    again, _pages = all_transactions(provider, tokens, account_id, date_from)
    assert {t.id for t in again} == after_posted


# tokens --------------------------------------------------------------------------------------


def test_refresh_keeps_valid_tokens(provider, tokens):
    assert provider.refresh_tokens(tokens) is tokens


def test_custom_integration_token_refresh(fake, provider, tokens):
    fake.expire_access_token()
    fresh = provider.refresh_tokens(tokens)
    assert fresh["access_token"] != tokens["access_token"]
    assert len(provider.list_accounts(fresh)) == 2
    # Reads with a stale token still work: a custom integration gets a new token on its own.
    fake.expire_access_token()
    assert len(PontoProvider(fake.provider_config()).list_accounts(fresh)) == 2


def test_ponto_connect_refresh_rotates_the_refresh_token(fake, connect_provider, connect_tokens):
    fake.expire_access_token()
    fresh = connect_provider.refresh_tokens(connect_tokens)
    assert fresh["access_token"] != connect_tokens["access_token"]
    assert fresh["refresh_token"] != connect_tokens["refresh_token"]
    assert len(connect_provider.list_accounts(fresh)) == 2
    # The old refresh token was consumed: only the rotated one, persisted, works.
    with pytest.raises(ReauthRequired):
        connect_provider.refresh_tokens(dict(connect_tokens, expires_at="2000-01-01T00:00:00"))
    assert connect_provider.refresh_tokens(dict(fresh, expires_at="2000-01-01T00:00:00"))["access_token"]


def test_refresh_when_the_stored_expiry_passed(fake, connect_provider, connect_tokens):
    stale = dict(connect_tokens, expires_at=(datetime.utcnow() - timedelta(minutes=1)).isoformat())
    fresh = connect_provider.refresh_tokens(stale)
    assert datetime.fromisoformat(fresh["expires_at"]) > datetime.utcnow() + timedelta(minutes=25)


def test_consent_expiry(fake, provider, tokens):
    assert provider.consent_expiry(tokens) == fake.authorization_end
    assert provider.consent_expiry({}) is None


# errors ----------------------------------------------------------------------------------------


def test_expired_consent_requires_reauthorization(fake, provider, tokens):
    fake.expire_consent()
    with pytest.raises(ReauthRequired):
        provider.list_transactions(tokens, fake.account_ids()[0], TODAY - timedelta(days=10))
    with pytest.raises(ReauthRequired):
        provider.list_accounts(tokens)
    assert provider.consent_expiry(provider.refresh_tokens(tokens)) < datetime.utcnow()


def test_rate_limit(fake, provider, tokens):
    fake.rate_limit(retry_after=0)
    with pytest.raises(RateLimited) as error:
        provider.list_transactions(tokens, fake.account_ids()[0], TODAY - timedelta(days=10))
    assert error.value.request_id == fake.last_request_id
    no_retry = PontoProvider(dict(fake.provider_config(), retries=0))
    fake.rate_limit(retry_after=120)
    with pytest.raises(RateLimited) as error:
        no_retry.list_accounts(tokens)
    assert error.value.retry_after == 120


def test_institution_down(fake, provider, tokens):
    fake.go_down()
    with pytest.raises(InstitutionUnavailable) as error:
        provider.list_transactions(tokens, fake.account_ids()[0], TODAY - timedelta(days=10))
    assert error.value.request_id == fake.last_request_id
    fake.come_back()
    assert provider.list_transactions(tokens, fake.account_ids()[0], TODAY - timedelta(days=10)).transactions


def test_transient_error_is_retried_on_reads(fake, provider, tokens):
    account_id = fake.account_ids()[0]
    fake.fail_next(503, {"errors": [{"code": "serviceUnavailable", "detail": "Try again."}]},
                   path=f"/accounts/{account_id}/transactions$")
    page = provider.list_transactions(tokens, account_id, TODAY - timedelta(days=365))
    assert len(page.transactions) == 10
    assert len([r for r in fake.requests if r.path == f"/accounts/{account_id}/transactions"]) == 2


def test_malformed_page(fake, provider, tokens):
    fake.break_next_transactions_page()
    with pytest.raises(MalformedResponse) as error:
        provider.list_transactions(tokens, fake.account_ids()[0], TODAY - timedelta(days=10))
    assert error.value.request_id


@pytest.mark.parametrize("status, code, expected", [
    (403, "forbidden", ReauthRequired),
    (404, "resourceNotFound", ProviderError),
    (400, "invalidParameter", ProviderError),
    (500, "internalServerError", InstitutionUnavailable),
])
def test_error_mapping_keeps_the_request_id(fake, provider, tokens, status, code, expected):
    body = {"errors": [{"code": code, "detail": "Refused.", "meta": {"requestId": "req-from-body"}}]}
    fake.fail_next(status, body, count=3, path="/accounts$")
    with pytest.raises(expected) as error:
        provider.list_accounts(tokens)
    assert type(error.value) is expected
    assert error.value.request_id == "req-from-body"


def test_connect_mode_token_refused_on_read_is_renewed_in_place(fake, connect_provider, connect_tokens):
    handed = []
    connect_provider.on_tokens = handed.append
    spent = connect_tokens["refresh_token"]
    fake.expire_access_token()
    assert len(connect_provider.list_accounts(connect_tokens)) == 2
    assert connect_tokens["refresh_token"] != spent, "the caller's tokens now hold the rotated refresh token"
    assert handed[-1] == connect_tokens
    fake.expire_access_token()
    assert len(connect_provider.list_accounts(connect_tokens)) == 2, "the rotated one renews again"


# revoke and reconnect -----------------------------------------------------------------------


def test_revoke(fake, connect_provider, connect_tokens):
    connect_provider.revoke(connect_tokens)
    assert fake.revoked
    with pytest.raises(ReauthRequired):
        connect_provider.refresh_tokens(connect_tokens)


@pytest.mark.parametrize("mode", ["renew", "update"])
def test_renew_keeps_the_accounts(fake, connect_provider, connect_tokens, mode):
    account_ids = [account.id for account in connect_provider.list_accounts(connect_tokens)]
    fake.expire_consent()
    fake.expire_access_token()
    start = connect_provider.start_connection(fake.institution_id, mode, connect_tokens, CALLBACK, "st-renew")
    assert start.redirect_url.startswith(f"{fake.url}/reauthorize/")
    params = fake.consent(start.redirect_url)
    assert params["state"] == "st-renew" and params["link"] == "7"
    tokens = connect_provider.complete_connection(fake.institution_id, params, dict(connect_tokens, **start.pending))
    # The two accounts are at two banks whose authorizations ended together: each is renewed on its own page.
    assert connect_provider.renewals_remaining(tokens) == 1
    start = connect_provider.start_connection(fake.institution_id, mode, tokens, CALLBACK, "st-renew-2")
    params = fake.consent(start.redirect_url)
    tokens = connect_provider.complete_connection(fake.institution_id, params, dict(tokens, **start.pending))
    assert connect_provider.renewals_remaining(tokens) == 0
    assert [account.id for account in connect_provider.list_accounts(tokens)] == account_ids
    assert connect_provider.consent_expiry(tokens) > datetime.utcnow() + timedelta(days=80)
    transactions, _pages = all_transactions(connect_provider, tokens, account_ids[0], TODAY - timedelta(days=120))
    assert {t.id for t in transactions if t.is_posted} == set(fake.posted_ids(account_ids[0]))


def test_renew_after_the_application_was_revoked_asks_a_new_consent(fake, connect_provider, connect_tokens):
    connect_provider.revoke(connect_tokens)
    start = connect_provider.start_connection(fake.institution_id, "renew", connect_tokens, CALLBACK, "st-3")
    assert start.redirect_url.startswith(f"{fake.url}/oauth2/auth?")
    params = fake.consent(start.redirect_url)
    tokens = connect_provider.complete_connection(fake.institution_id, params, dict(connect_tokens, **start.pending))
    assert [account.id for account in connect_provider.list_accounts(tokens)] == fake.account_ids()


def test_custom_integration_renew(fake, provider, tokens):
    fake.expire_consent()
    start = provider.start_connection(fake.institution_id, "renew", tokens, CALLBACK, "st-4")
    params = fake.consent(start.redirect_url)
    assert params["state"] == "st-4"
    renewed = provider.complete_connection(fake.institution_id, params, dict(tokens, **start.pending))
    assert provider.renewals_remaining(renewed) == 1, "the second bank's authorization ended too"
    start = provider.start_connection(fake.institution_id, "renew", renewed, CALLBACK, "st-5")
    renewed = provider.complete_connection(fake.institution_id, fake.consent(start.redirect_url),
                                           dict(renewed, **start.pending))
    assert provider.renewals_remaining(renewed) == 0
    assert [account.id for account in provider.list_accounts(renewed)] == fake.account_ids()


@pytest.mark.parametrize("fault", [429, 503, "timeout"])
def test_rotated_tokens_are_handed_over_before_the_next_call(fake, connect_provider, connect_tokens, fault):
    handed = []
    connect_provider.on_tokens = handed.append
    fake.fail_next(fault, {"errors": [{"code": "serviceUnavailable", "detail": "Try again."}]}, count=3,
                   path="/accounts$")
    with pytest.raises(ProviderError):
        connect_provider.refresh_tokens(dict(connect_tokens, expires_at="2000-01-01T00:00:00"))
    rotated = handed[-1]
    assert rotated["refresh_token"] != connect_tokens["refresh_token"]
    assert rotated["refresh_token"] in fake.refresh_tokens, "the only refresh token Ponto still accepts"
    assert connect_provider.refresh_tokens(dict(rotated, expires_at="2000-01-01T00:00:00"))["access_token"]


def test_documented_page_limit_and_unknown_routes(fake, provider, tokens):
    with pytest.raises(ProviderError, match="invalidParameter"):
        provider._read(tokens, "/accounts", {"page[limit]": 101})
    with pytest.raises(ProviderError) as error:
        provider._read(tokens, "/no-such-route")
    assert error.value.request_id == fake.last_request_id, "a JSON:API error from Ponto, with its request id"
