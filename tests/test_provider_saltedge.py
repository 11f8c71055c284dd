"""The Salt Edge connector against a fake Salt Edge API (no Odoo models, no database)."""
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
from fakes.saltedge import FakeSaltEdge
from provider_flow import connect

from odoo.addons.account_online_synchronization.providers.errors import (
    InstitutionUnavailable,
    InvalidConfiguration,
    MalformedResponse,
    MFARequired,
    ProviderError,
    RateLimited,
    ReauthRequired,
)
from odoo.addons.account_online_synchronization.providers.saltedge import SaltEdgeProvider, utcnow

REDIRECT_URL = "https://odoo.example.test/online_sync/callback"


@pytest.fixture
def fake():
    with FakeSaltEdge() as server:
        yield server


@pytest.fixture
def provider(fake):
    return SaltEdgeProvider(fake.provider_config())



@pytest.fixture
def tokens(fake, provider):
    return connect(fake, provider)


def all_transactions(provider, tokens, account_id, date_from):
    transactions, cursor = [], None
    while True:
        page = provider.list_transactions(tokens, account_id, date_from, cursor=cursor)
        transactions.extend(page.transactions)
        if not page.next_cursor:
            return transactions
        assert page.next_cursor != cursor
        cursor = page.next_cursor


def posted_ids(provider, tokens, account_id, date_from=None):
    date_from = date_from or date.today() - timedelta(days=365)
    return [t.id for t in all_transactions(provider, tokens, account_id, date_from) if t.is_posted]


# configuration --------------------------------------------------------------------------------


def test_declares_the_settings_salt_edge_names():
    assert SaltEdgeProvider.CONFIG_FIELDS["client_id"] == "App ID"
    assert SaltEdgeProvider.CONFIG_FIELDS["client_secret"] == "Secret"
    assert SaltEdgeProvider.ENVIRONMENTS["production"] == "https://www.saltedge.com/api/v5"
    assert SaltEdgeProvider({"environment": "sandbox"}).base_url == "https://www.saltedge.com/api/v5"


@pytest.mark.parametrize("key", ["client_id", "client_secret"])
def test_missing_setting_is_a_configuration_error(fake, key):
    config = dict(fake.provider_config(), **{key: ""})
    with pytest.raises(InvalidConfiguration, match="missing"):
        SaltEdgeProvider(config).search_institutions("XF")
    assert not fake.requests


def test_wrong_secret_is_a_configuration_error_without_the_secret(fake):
    config = dict(fake.provider_config(), client_secret="not-the-secret")
    with pytest.raises(InvalidConfiguration) as error:
        SaltEdgeProvider(config).search_institutions("XF")
    assert "ApiKeyNotFound" in error.value.message
    assert "not-the-secret" not in error.value.message
    assert error.value.request_id == fake.last_request_id


def test_unsigned_or_wrongly_signed_requests_are_configuration_errors(fake):
    unsigned = dict(fake.provider_config(), private_key="")
    with pytest.raises(InvalidConfiguration, match="MissingExpiresAt"):
        SaltEdgeProvider(unsigned).search_institutions("XF")
    other_key = FakeSaltEdge().private_key_pem
    with pytest.raises(InvalidConfiguration, match="SignatureNotMatch"):
        SaltEdgeProvider(dict(fake.provider_config(), private_key=other_key)).search_institutions("XF")
    with pytest.raises(InvalidConfiguration, match="PEM"):
        SaltEdgeProvider(dict(fake.provider_config(), private_key="garbage")).search_institutions("XF")


def test_signature_is_optional_for_applications_that_do_not_sign():
    with FakeSaltEdge(require_signature=False) as fake:
        config = dict(fake.provider_config(), private_key="")
        assert SaltEdgeProvider(config).search_institutions("XF")
        assert "Signature" not in fake.requests[-1].headers


# institutions ----------------------------------------------------------------------------------


def test_search_institutions_by_country_and_text(provider, fake):
    banks = provider.search_institutions("xf")
    codes = [bank.id for bank in banks]
    assert codes == ["fakebank_simple_xf", "fakebank_interactive_xf", "fake_oauth_client_xf"]
    # the provider list came in pages of two
    assert len([r for r in fake.requests if r.path.endswith("/providers")]) == 2
    simple = banks[0]
    assert (simple.name, simple.country, simple.max_history_days) == ("Fakebank Simple", "XF", 365)
    assert simple.logo_url.endswith("fakebank_simple_xf.svg")
    assert simple.unattended_refresh and not simple.beta
    assert not banks[1].unattended_refresh  # asks the user for a code at every refresh
    assert [bank.id for bank in provider.search_institutions("BE", "kbc")] == ["kbc_business_be"]
    assert [bank.id for bank in provider.search_institutions("XF", "OAUTH")] == ["fake_oauth_client_xf"]


def test_fake_banks_are_hidden_in_production(fake):
    provider = SaltEdgeProvider(dict(fake.provider_config(), environment="production"))
    assert provider.search_institutions("XF") == []
    assert len(provider.search_institutions()) == 3


# consent ---------------------------------------------------------------------------------------


def test_consent_flow_returns_the_connection_tokens(fake, provider):
    start = provider.start_connection(fake.institution_id, "new", None, REDIRECT_URL, "csrf-42")
    assert start.redirect_url.startswith(fake.url + "/connect?token=")
    customer_id = start.pending["customer_id"]
    assert customer_id in fake.customers
    params = fake.consent(start.redirect_url)
    assert params["state"] == "csrf-42"
    connection_id = params["connection_id"]
    tokens = provider.complete_connection(fake.institution_id, params, dict(start.pending))
    assert tokens["connection_id"] == connection_id
    assert tokens["customer_id"] == customer_id
    assert tokens["provider_code"] == "fakebank_simple_xf"
    expiry = provider.consent_expiry(tokens)
    assert timedelta(days=89) < expiry - utcnow() <= timedelta(days=90)
    assert provider.consent_expiry({}) is None


def test_connect_session_asks_for_history_and_a_return_with_the_connection(fake, provider):
    provider.start_connection(fake.institution_id, "new", None, REDIRECT_URL + "?db=prod", "s1")
    data = [r for r in fake.requests if r.path.endswith("/connect_sessions/create")][-1].json()["data"]
    assert data["provider_code"] == "fakebank_simple_xf"
    assert data["return_connection_id"] is True
    assert data["consent"]["from_date"] == (date.today() - timedelta(days=365)).isoformat()
    assert dict(parse_qsl(urlsplit(data["attempt"]["return_to"]).query)) == {"db": "prod", "state": "s1"}


def test_a_connection_of_another_customer_is_refused(fake, provider, tokens):
    start = provider.start_connection(fake.institution_id, "new", None, REDIRECT_URL, "s2")
    with pytest.raises(ProviderError, match="does not belong"):
        provider.complete_connection(fake.institution_id, {"connection_id": tokens["connection_id"],
                                                           "state": "s2"}, dict(start.pending))


def test_user_cancelling_a_first_connection_is_not_a_withdrawn_consent(fake, provider):
    fake.cancel_next_consent()
    start = provider.start_connection(fake.institution_id, "new", None, REDIRECT_URL, "csrf-cancel")
    params = fake.consent(start.redirect_url)
    assert params["error_class"] and "connection_id" not in params
    with pytest.raises(ProviderError, match="not given") as error:
        provider.complete_connection(fake.institution_id, params, start.pending)
    assert "withdrawn" not in error.value.message


def test_user_cancelling_a_renewal_leaves_the_connection_unchanged(fake, provider, tokens):
    fake.cancel_next_consent()
    start = provider.start_connection(fake.institution_id, "renew", tokens, REDIRECT_URL, "csrf-cancel")
    with pytest.raises(ProviderError, match="not renewed"):
        provider.complete_connection(fake.institution_id, fake.consent(start.redirect_url),
                                     dict(tokens, **start.pending))
    assert provider.list_accounts(tokens)


@pytest.mark.parametrize("mode", ["update", "renew"])
def test_a_removed_connection_is_replaced_by_a_new_one(fake, provider, tokens, mode):
    old_accounts = {a.number: a.id for a in provider.list_accounts(tokens)}
    fake.remove_connection()
    with pytest.raises(ReauthRequired):
        provider.list_accounts(tokens)
    renewed = connect(fake, provider, mode, tokens, state="csrf-new")
    assert renewed["connection_id"] != tokens["connection_id"]
    assert renewed["customer_id"] == tokens["customer_id"], "the customer is kept"
    assert any(r.path.endswith("/connect_sessions/reconnect") for r in fake.requests)
    assert any(r.path.endswith("/connect_sessions/create") for r in fake.requests)
    accounts = provider.list_accounts(renewed)
    assert {a.number for a in accounts} == set(old_accounts), "the same bank accounts, under new ids"
    assert posted_ids(provider, renewed, accounts[0].id) == fake.posted_ids(accounts[0].id)


def test_history_start_when_the_bank_gives_less_than_asked(fake, provider):
    fake.limit_history(20)
    tokens = connect(fake, provider)
    account_id = fake.account_ids()[0]
    page = provider.list_transactions(tokens, account_id, date.today() - timedelta(days=60))
    assert page.history_start == date.today() - timedelta(days=20)
    assert provider.list_transactions(tokens, account_id, date.today() - timedelta(days=60),
                                      cursor=page.next_cursor).history_start is None


def test_unknown_route_gets_salt_edge_404(fake, provider):
    with pytest.raises(ProviderError) as error:
        provider._call("GET", "no_such_route")
    assert error.value.error_class == "RouteNotFound"


@pytest.mark.parametrize("mode", ["update", "renew"])
def test_update_and_renew_keep_the_connection_and_its_accounts(fake, provider, tokens, mode):
    accounts = [a.id for a in provider.list_accounts(tokens)]
    seen = posted_ids(provider, tokens, accounts[0])
    fake.expire_consent()
    renewed = connect(fake, provider, mode, tokens, state="csrf-renew")
    assert renewed["connection_id"] == tokens["connection_id"]
    assert renewed["customer_id"] == tokens["customer_id"]
    assert provider.consent_expiry(renewed) > utcnow() + timedelta(days=89)
    assert [a.id for a in provider.list_accounts(renewed)] == accounts
    assert posted_ids(provider, renewed, accounts[0]) == seen
    assert any(r.path.endswith("/connect_sessions/reconnect") for r in fake.requests)


# accounts and transactions -----------------------------------------------------------------------


def test_list_accounts(provider, tokens, fake):
    accounts = provider.list_accounts(tokens)
    assert [a.id for a in accounts] == fake.account_ids()
    eur, usd = accounts
    assert (eur.name, eur.currency, eur.number, eur.holder_name) == (
        "Business current account", "EUR", "BE68539007547034", "Example SRL")
    assert usd.currency == "USD"
    assert isinstance(eur.balance, Decimal)
    assert eur.balance == Decimal(str(fake.accounts[eur.id]["balance"]))


def test_all_posted_transactions_over_several_pages(provider, tokens, fake):
    for account_id in fake.account_ids():
        ids = posted_ids(provider, tokens, account_id)
        assert len(ids) == len(set(ids))
        assert sorted(ids) == sorted(fake.posted_ids(account_id))
    assert len([r for r in fake.requests if r.path.endswith("/transactions")]) > 2


def test_known_transaction_is_mapped(provider, tokens, fake):
    account_id = fake.account_ids()[0]
    transactions = all_transactions(provider, tokens, account_id, date.today() - timedelta(days=365))
    known = next(t for t in transactions if t.id == fake.known_transaction_id)
    assert known.amount == Decimal("-45.30")  # money out
    assert known.currency == "EUR"
    assert known.value_date == date.today() - timedelta(days=30)
    assert known.booking_date == date.today() - timedelta(days=29)
    assert known.label == "SEPA transfer Bureau Supplies NV Order 5531"
    assert known.counterparty_name == "Bureau Supplies NV"
    assert known.counterparty_account == "NL91ABNA0417164300"
    assert known.is_posted and known.payload["extra"]["information"] == "Order 5531"
    income = next(t for t in transactions if t.amount > 0 and t.counterparty_account)
    assert income.counterparty_account == income.payload["extra"]["payer"]  # money in: the payer
    foreign = next(t for t in transactions if t.foreign_currency)
    assert (foreign.amount, foreign.foreign_amount, foreign.foreign_currency) == (
        Decimal("-85.10"), Decimal("-72.45"), "GBP")


def test_pending_transactions_are_marked_pending(provider, tokens, fake):
    account_id = fake.account_ids()[0]
    transactions = all_transactions(provider, tokens, account_id, date.today() - timedelta(days=365))
    pending = [t for t in transactions if not t.is_posted]
    assert sorted(t.id for t in pending) == sorted(row["id"] for row in fake.pending[account_id])
    assert len(pending) == 2


def test_date_from_is_respected(provider, tokens, fake):
    account_id = fake.account_ids()[1]
    date_from = date.today() - timedelta(days=40)
    transactions = all_transactions(provider, tokens, account_id, date_from)
    assert transactions and all(t.booking_date >= date_from for t in transactions)
    expected = [row["id"] for row in fake.transactions[account_id]
                if date.fromisoformat(row["extra"]["posting_date"]) >= date_from]
    assert sorted(t.id for t in transactions if t.is_posted) == sorted(expected)


def test_posting_pending_keeps_every_id_seen(provider, tokens, fake):
    account_id = fake.account_ids()[0]
    before = posted_ids(provider, tokens, account_id)
    new_id = fake.add_transaction(account_id, Decimal("150.00"), date.today())
    fake.post_pending()
    after = posted_ids(provider, tokens, account_id)
    assert after[:len(before)] == before
    assert new_id in after
    assert len(after) == len(before) + 3  # the new one and the two pending now booked
    assert posted_ids(provider, tokens, account_id) == after  # stable from run to run
    assert not [t for t in all_transactions(provider, tokens, account_id, date.today()) if not t.is_posted]


# refresh and consent -----------------------------------------------------------------------------------


def test_refresh_is_asked_when_the_data_is_due_and_remembered(provider, tokens, fake):
    assert provider.refresh_tokens(tokens) == tokens  # refreshed at connection time
    assert fake.refresh_count == 0
    fake.expire_access_token()
    refreshed = provider.refresh_tokens(tokens)
    assert fake.refresh_count == 1
    assert refreshed["connection_id"] == tokens["connection_id"]
    assert datetime.fromisoformat(refreshed["next_refresh_possible_at"]) > utcnow()
    assert provider.refresh_tokens(refreshed) == refreshed
    assert fake.refresh_count == 1


def test_refresh_refused_as_too_early_is_not_an_error(provider, tokens, fake):
    fake.expire_access_token()
    body = {"error": {"class": "ConnectionCannotBeRefreshed", "message": "Too early.",
                      "next_refresh_possible_at": "2999-01-01T00:00:00Z"}, "request": {}}
    fake.fail_next(406, body=body, path="/refresh$")
    assert provider.refresh_tokens(tokens) == tokens  # the stored data can still be read
    assert provider.list_transactions(tokens, fake.account_ids()[0], date.today())


def test_expired_consent_asks_to_reconnect(provider, tokens, fake):
    account_id = fake.account_ids()[0]
    fake.expire_consent()
    with pytest.raises(ReauthRequired) as error:
        provider.list_transactions(tokens, account_id, date.today() - timedelta(days=30))
    assert error.value.request_id == fake.last_request_id
    with pytest.raises(ReauthRequired):
        provider.list_accounts(tokens)
    fake.expire_access_token()
    with pytest.raises(ReauthRequired):
        provider.refresh_tokens(tokens)


def test_interactive_bank_asking_for_a_code(provider, tokens, fake):
    connection = fake.connections[tokens["connection_id"]]
    fake._attempt(connection, "InteractiveAdapterTimeout", "Interactive step timed out.")
    with pytest.raises(MFARequired) as caught:
        provider.list_transactions(tokens, fake.account_ids()[0], date.today(), unattended=True)
    assert caught.value.update_credentials, "the code is given in Salt Edge Connect, not by a synchronization"


def test_rate_limit(provider, tokens, fake):
    fake.rate_limit(retry_after=1)
    with pytest.raises(RateLimited) as error:
        provider.list_transactions(tokens, fake.account_ids()[0], date.today())
    assert error.value.retry_after == 1
    assert error.value.request_id == fake.last_request_id
    assert "RateLimitExceeded" in error.value.message
    assert provider.list_transactions(tokens, fake.account_ids()[0], date.today())


def test_bank_down_then_back(provider, tokens, fake):
    fake.go_down()
    with pytest.raises(InstitutionUnavailable) as error:
        provider.list_transactions(tokens, fake.account_ids()[0], date.today())
    assert error.value.request_id == fake.last_request_id
    fake.come_back()
    assert provider.list_transactions(tokens, fake.account_ids()[0], date.today())


def test_transient_errors_are_retried_on_reads(provider, tokens, fake):
    body = {"error": {"class": "InternalServerError", "message": "Internal error"}, "request": {}}
    fake.fail_next(503, body=body, count=2, path="/transactions$")
    ids = posted_ids(provider, tokens, fake.account_ids()[0])
    assert sorted(ids) == sorted(fake.posted_ids(fake.account_ids()[0]))


def test_server_errors_that_persist_are_reported(provider, tokens, fake):
    body = {"error": {"class": "InternalServerError", "message": "Internal error"}, "request": {}}
    fake.fail_next(500, body=body, headers={"X-Request-Id": "req-500"}, count=3, path="/accounts$")
    with pytest.raises(InstitutionUnavailable) as error:
        provider.list_accounts(tokens)
    assert error.value.request_id == "req-500"


def test_malformed_page(provider, tokens, fake):
    fake.break_next_transactions_page()
    with pytest.raises(MalformedResponse) as error:
        provider.list_transactions(tokens, fake.account_ids()[0], date.today() - timedelta(days=365))
    assert error.value.request_id == fake.last_request_id


def test_unknown_connection_asks_to_reconnect(provider, fake):
    with pytest.raises(ReauthRequired) as error:
        provider.list_accounts({"customer_id": "1", "connection_id": "999"})
    assert "ConnectionNotFound" in error.value.message


def test_revoke_removes_the_connection(provider, tokens, fake):
    provider.revoke(tokens)
    assert fake.revoked
    assert fake.removed_customers == [tokens["customer_id"]], "the customer Odoo created is removed too"
    with pytest.raises(ReauthRequired):
        provider.list_accounts(tokens)
    provider.revoke(tokens)  # already gone: nothing to do


@pytest.mark.parametrize("error_class, rejected", [
    ("ApiKeyNotFound", True), ("SignatureNotMatch", True), ("ProviderDisabled", False), ("ClientPending", False),
])
def test_only_refused_credentials_count_as_such(fake, provider, error_class, rejected):
    fake.fail_next(401 if rejected else 406, {"error": {"class": error_class, "message": "Refused."}},
                   path="/providers")
    with pytest.raises(InvalidConfiguration) as caught:
        provider.search_institutions("XF")
    assert caught.value.credentials_rejected is rejected
