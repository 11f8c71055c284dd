"""The Plaid connector against the fake Plaid API."""
import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from fakes.plaid import CLIENT_ID, SECRET, FakePlaid
from provider_flow import all_transactions, connect

from odoo.addons.account_online_synchronization.providers.errors import (
    InstitutionUnavailable,
    InvalidConfiguration,
    MalformedResponse,
    MFARequired,
    ProviderError,
    RateLimited,
    ReauthRequired,
)
from odoo.addons.account_online_synchronization.providers.plaid import PlaidProvider

CALLBACK = "https://odoo.example.com/online_sync/callback"


@pytest.fixture
def fake():
    with FakePlaid() as server:
        yield server


@pytest.fixture
def provider(fake):
    return PlaidProvider(fake.provider_config())



@pytest.fixture
def tokens(fake, provider):
    return connect(fake, provider)




def requests_to(fake, path):
    return [request for request in fake.requests if request.path == path]


def error_answer(error_type, error_code, status=400):
    return {"error_type": error_type, "error_code": error_code, "error_message": "...",
            "display_message": None, "request_id": "ReqFromPlaid42", "causes": [], "status": status}


# configuration -----------------------------------------------------------------


def test_environments_and_settings():
    assert PlaidProvider.ENVIRONMENTS == {"sandbox": "https://sandbox.plaid.com",
                                          "production": "https://production.plaid.com"}
    assert set(PlaidProvider.CONFIG_FIELDS) == {"client_id", "client_secret"}
    assert PlaidProvider({"environment": "production"}).base_url == "https://production.plaid.com"


def test_wrong_secret_is_a_configuration_error(fake):
    provider = PlaidProvider(dict(fake.provider_config(), client_secret="not-the-secret"))
    with pytest.raises(InvalidConfiguration) as error:
        provider.search_institutions("US", "platypus")
    assert error.value.request_id
    assert "not-the-secret" not in error.value.message


def test_missing_setting_is_a_configuration_error(fake):
    config = fake.provider_config()
    del config["client_secret"]
    with pytest.raises(InvalidConfiguration, match="Secret"):
        PlaidProvider(config).search_institutions("US", "platypus")
    assert not fake.requests


def test_credentials_travel_in_plaid_headers(fake, provider):
    provider.search_institutions("US", "tartan")
    headers = fake.requests[-1].headers
    assert headers["PLAID-CLIENT-ID"] == CLIENT_ID
    assert headers["PLAID-SECRET"] == SECRET
    assert headers["Plaid-Version"] == "2020-09-14"


# institutions ------------------------------------------------------------------


def test_search_institutions_by_country_and_text(fake, provider):
    found = provider.search_institutions("us", "platypus")
    assert {inst.id for inst in found} == {"ins_127287", "ins_109508"}
    assert all(inst.country == "US" and not inst.beta for inst in found)
    assert all(inst.logo_url.startswith("data:image/png;base64,") for inst in found)
    body = json.loads(fake.requests[-1].body)
    assert body["products"] == ["transactions"]
    assert [inst.id for inst in provider.search_institutions("CA", "tartan")] == ["ins_43"]


def test_list_institutions_of_a_country_without_text(provider):
    assert {inst.id for inst in provider.search_institutions("US")} == {
        "ins_127287", "ins_109508", "ins_109509", "ins_109511"}


# consent -----------------------------------------------------------------------


def test_consent_goes_through_hosted_link_and_back_with_state(fake, provider):
    start = provider.start_connection(fake.institution_id, redirect_url=CALLBACK, state="xyz")
    assert start.redirect_url.startswith(fake.url + "/hl/")
    assert start.pending["link_token"].startswith("link-")
    body = json.loads(requests_to(fake, "/link/token/create")[-1].body)
    assert body["products"] == ["transactions"]
    assert body["transactions"] == {"days_requested": 730}
    completion = urlsplit(body["hosted_link"]["completion_redirect_uri"])
    assert completion.path == urlsplit(CALLBACK).path and parse_qs(completion.query) == {"state": ["xyz"]}

    params = fake.consent(start.redirect_url)
    assert params == {"state": "xyz"}
    tokens = provider.complete_connection(fake.institution_id, params, start.pending)
    assert tokens["access_token"].startswith("access-sandbox-")
    assert tokens["item_id"] in fake.items
    assert tokens["institution_id"] == fake.institution_id
    assert "link_token" not in tokens
    json.dumps(tokens)
    assert provider.consent_expiry(tokens) == datetime.combine(date.today() + timedelta(days=365), time.min)


def test_unfinished_consent_fails(fake, provider):
    start = provider.start_connection(fake.institution_id, redirect_url=CALLBACK, state="xyz")
    with pytest.raises(ProviderError, match="not finished"):
        provider.complete_connection(fake.institution_id, {"state": "xyz"}, start.pending)


def test_public_token_exchange_is_not_retried(fake, provider):
    start = provider.start_connection(fake.institution_id, redirect_url=CALLBACK, state="s")
    params = fake.consent(start.redirect_url)
    fake.fail_next(500, error_answer("API_ERROR", "INTERNAL_SERVER_ERROR", 500), path="/item/public_token/exchange")
    with pytest.raises(InstitutionUnavailable):
        provider.complete_connection(fake.institution_id, params, start.pending)
    assert len(requests_to(fake, "/item/public_token/exchange")) == 1


def test_consent_expiry_without_oauth_consent(provider):
    assert provider.consent_expiry({"access_token": "access-sandbox-x", "consent_expires_at": None}) is None


# accounts and transactions ----------------------------------------------------------


def test_list_accounts(fake, provider, tokens):
    accounts = provider.list_accounts(tokens)
    assert [account.id for account in accounts] == fake.account_ids()
    checking, cad = accounts
    assert (checking.name, checking.currency, checking.number) == ("Business Checking", "USD", "0042")
    assert cad.currency == "CAD"
    posted = sum(-row["amount"] for row in fake.transactions[checking.id] if not row["pending"])
    assert checking.balance == Decimal("12500.00") + posted
    assert isinstance(checking.balance, Decimal)


def test_all_transactions_over_several_pages(fake, provider, tokens):
    account_id = fake.account_ids()[0]
    transactions, pages = all_transactions(provider, tokens, account_id, date.today() - timedelta(days=120))
    assert pages >= 4
    ids = [t.id for t in transactions]
    assert len(ids) == len(set(ids))
    assert {t.id for t in transactions if t.is_posted} == set(fake.posted_ids(account_id))
    pending = [t for t in transactions if not t.is_posted]
    assert len(pending) == 2 and all(t.status == "pending" for t in pending)
    assert all(isinstance(t.amount, Decimal) and t.currency == "USD" for t in transactions)


def test_known_transactions_are_mapped(fake, provider, tokens):
    account_id = fake.account_ids()[0]
    transactions, _pages = all_transactions(provider, tokens, account_id, date.today() - timedelta(days=120))
    by_label = {t.label: t for t in transactions}
    credit = by_label["ACH CREDIT ACME CORP INV 2024-117 PPD ID 1234567890"]
    assert credit.amount == Decimal("2500.00")  # Plaid sends -2500: money in
    assert credit.booking_date == date.today() - timedelta(days=10)
    assert credit.currency == "USD" and credit.is_posted
    assert credit.counterparty_name == "ACME CORP"
    assert credit.raw["payment_meta"]["ppd_id"] == "1234567890"
    json.dumps(credit.raw)
    debit = next(t for t in transactions if t.raw["merchant_name"] == "Office Depot" and t.is_posted)
    assert debit.amount < 0 and debit.amount == -Decimal(str(debit.raw["amount"]))
    assert debit.counterparty_name == "Office Depot"


def test_date_from_is_respected(fake, provider, tokens):
    account_id = fake.account_ids()[1]
    date_from = date.today() - timedelta(days=50)
    transactions, _pages = all_transactions(provider, tokens, account_id, date_from)
    assert transactions and all(t.booking_date >= date_from for t in transactions)
    expected = {row["transaction_id"] for row in fake.transactions[account_id]
                if not row["pending"] and row["date"] >= date_from.isoformat()}
    assert {t.id for t in transactions if t.is_posted} == expected
    body = json.loads(requests_to(fake, "/transactions/get")[-1].body)
    assert body["start_date"] == date_from.isoformat()
    assert body["options"]["account_ids"] == [account_id]


def test_posted_pending_transaction_gets_its_own_stable_id(fake, provider, tokens):
    account_id = fake.account_ids()[0]
    date_from = date.today() - timedelta(days=120)
    before, _pages = all_transactions(provider, tokens, account_id, date_from)
    posted_before = {t.id: t for t in before if t.is_posted}
    pending_ids = {t.id for t in before if not t.is_posted}
    fake.post_pending()
    new_id = fake.add_transaction(account_id, Decimal("75.25"), date.today())
    after, _pages = all_transactions(provider, tokens, account_id, date_from)
    posted_after = {t.id: t for t in after if t.is_posted}
    assert all(posted_after[tid] == posted_before[tid] for tid in posted_before)
    new = {tid: t for tid, t in posted_after.items() if tid not in posted_before}
    assert {t.raw["pending_transaction_id"] for t in new.values() if t.id != new_id} == pending_ids
    assert not pending_ids & set(posted_after)
    assert new[new_id].amount == Decimal("75.25")
    again, _pages = all_transactions(provider, tokens, account_id, date_from)
    assert {t.id for t in again if t.is_posted} == set(posted_after)


# tokens --------------------------------------------------------------------------


def test_refresh_keeps_tokens_while_nothing_changed(provider, tokens):
    assert provider.refresh_tokens(tokens) is tokens


def test_refresh_picks_up_a_new_consent_expiry(fake, provider, tokens):
    fake.expire_access_token()
    refreshed = provider.refresh_tokens(tokens)
    assert refreshed != tokens and refreshed["access_token"] == tokens["access_token"]
    expiry = provider.consent_expiry(refreshed)
    assert timedelta(days=6) < expiry - datetime.utcnow() <= timedelta(days=7)
    assert provider.refresh_tokens(refreshed) is refreshed
    assert provider.list_accounts(refreshed)


# errors --------------------------------------------------------------------------


def test_expired_consent_needs_reauthentication(fake, provider, tokens):
    fake.expire_consent()
    with pytest.raises(ReauthRequired) as error:
        provider.list_transactions(tokens, fake.account_ids()[0], date.today() - timedelta(days=30))
    assert error.value.request_id
    assert tokens["access_token"] not in error.value.message
    with pytest.raises(ReauthRequired):
        provider.list_accounts(tokens)


def test_rate_limit(fake, provider, tokens):
    fake.rate_limit()
    with pytest.raises(RateLimited) as error:
        provider.list_accounts(tokens)
    assert error.value.retry_after == 60
    assert error.value.request_id
    assert provider.list_accounts(tokens)


def test_bank_down_then_back(fake, provider, tokens):
    fake.go_down()
    with pytest.raises(InstitutionUnavailable) as error:
        provider.list_transactions(tokens, fake.account_ids()[0], date.today() - timedelta(days=30))
    assert error.value.request_id
    fake.come_back()
    assert provider.list_transactions(tokens, fake.account_ids()[0], date.today() - timedelta(days=30))


def test_transient_server_error_is_retried_on_reads(fake, provider, tokens):
    fake.fail_next(500, error_answer("API_ERROR", "INTERNAL_SERVER_ERROR", 500), path="/transactions/get")
    fake.fail_next(503, "Service Unavailable", path="/transactions/get")
    page = provider.list_transactions(tokens, fake.account_ids()[0], date.today() - timedelta(days=30))
    assert page.transactions
    assert len(requests_to(fake, "/transactions/get")) == 3


def test_malformed_page(fake, provider, tokens):
    fake.break_next_transactions_page()
    with pytest.raises(MalformedResponse) as error:
        provider.list_transactions(tokens, fake.account_ids()[0], date.today() - timedelta(days=30))
    assert error.value.request_id


@pytest.mark.parametrize("error_type, error_code, expected", [
    ("ITEM_ERROR", "ITEM_LOCKED", ReauthRequired),
    ("ITEM_ERROR", "PASSWORD_RESET_REQUIRED", ReauthRequired),
    ("OAUTH_ERROR", "OAUTH_CONSENT_EXPIRED", ReauthRequired),
    ("ITEM_ERROR", "INVALID_MFA", MFARequired),
    ("INSTITUTION_ERROR", "INSTITUTION_NOT_RESPONDING", InstitutionUnavailable),
    ("INVALID_INPUT", "UNAUTHORIZED_ENVIRONMENT", InvalidConfiguration),
    ("ITEM_ERROR", "PRODUCT_NOT_READY", ProviderError),
    ("INVALID_REQUEST", "INVALID_FIELD", ProviderError),
])
def test_documented_errors_are_typed(fake, provider, tokens, error_type, error_code, expected):
    fake.fail_next(400, error_answer(error_type, error_code), path="/accounts/get")
    with pytest.raises(ProviderError) as error:
        provider.list_accounts(tokens)
    assert type(error.value) is expected
    assert error.value.request_id == "ReqFromPlaid42"


# revoke and reconnect ----------------------------------------------------------------


def test_revoke_removes_the_item(fake, provider, tokens):
    provider.revoke(tokens)
    assert fake.revoked
    with pytest.raises(ReauthRequired):
        provider.list_accounts(tokens)


@pytest.mark.parametrize("mode", ["update", "renew"])
def test_reconnect_keeps_the_item_and_its_accounts(fake, provider, tokens, mode):
    account_ids = [account.id for account in provider.list_accounts(tokens)]
    fake.expire_consent()
    with pytest.raises(ReauthRequired):
        provider.list_accounts(tokens)
    renewed = connect(fake, provider, mode=mode, tokens=tokens, state="anti-csrf-2")
    body = json.loads(requests_to(fake, "/link/token/create")[-1].body)
    assert body["access_token"] == tokens["access_token"] and "products" not in body
    assert renewed["access_token"] == tokens["access_token"]
    assert renewed["item_id"] == tokens["item_id"]
    assert [account.id for account in provider.list_accounts(renewed)] == account_ids
    transactions, _pages = all_transactions(provider, renewed, account_ids[0], date.today() - timedelta(days=120))
    assert {t.id for t in transactions if t.is_posted} == set(fake.posted_ids(account_ids[0]))
