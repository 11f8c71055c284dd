"""The Yodlee connector against a local fake of the Yodlee API v1.1 and FastLink."""
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from fakes.yodlee import ADMIN_LOGIN, SECRET, FakeYodlee
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
from odoo.addons.account_online_synchronization.providers.yodlee import YodleeProvider

CALLBACK = "https://odoo.example.test/online_sync/callback"
STATE = "csrf-5f2a9c"
LONG_AGO = date.today() - timedelta(days=365)


@pytest.fixture
def fake():
    with FakeYodlee() as server:
        yield server


@pytest.fixture
def config(fake):
    return dict(fake.provider_config(), max_wait=0.05)


@pytest.fixture
def provider(config):
    return YodleeProvider(config)


@pytest.fixture
def tokens(fake, provider):
    return connect(fake, provider)



def fetch_all(provider, tokens, account_id, date_from=LONG_AGO):
    """Every transaction over all pages, and the number of pages."""
    transactions, cursor, pages = [], None, 0
    while True:
        page = provider.list_transactions(tokens, account_id, date_from, cursor=cursor)
        transactions += page.transactions
        pages += 1
        if not page.next_cursor:
            return transactions, pages
        cursor = page.next_cursor


def requests_to(fake, path):
    return [r for r in fake.requests if r.path == path]


# configuration --------------------------------------------------------------------


def test_wrong_secret_is_invalid_configuration(fake, config):
    provider = YodleeProvider(dict(config, client_secret="not-the-secret"))
    with pytest.raises(InvalidConfiguration) as caught:
        provider.search_institutions(text="dag")
    assert caught.value.request_id, "Yodlee's referenceCode is kept for support"
    assert "not-the-secret" not in caught.value.message and SECRET not in caught.value.message
    assert caught.value.credentials_rejected, "a security event: Yodlee refused the application's secret"


def test_unknown_admin_login_is_invalid_configuration(config):
    with pytest.raises(InvalidConfiguration):
        YodleeProvider(dict(config, admin_login="nobody_ADMIN")).search_institutions(text="dag")


def test_missing_setting_is_invalid_configuration(config):
    with pytest.raises(InvalidConfiguration, match="Client ID"):
        YodleeProvider(dict(config, client_id="")).search_institutions(text="dag")
    with pytest.raises(InvalidConfiguration, match="Admin Login Name") as caught:
        YodleeProvider(dict(config, admin_login=None)).search_institutions(text="dag")
    assert not caught.value.credentials_rejected, "a missing setting is no rejected credential"


def test_environments_point_at_yodlee_hosts():
    assert YodleeProvider({"environment": "sandbox"}).base_url == "https://sandbox.api.yodlee.com/ysl"
    assert YodleeProvider({"environment": "production"}).base_url.startswith("https://")


def test_production_needs_the_customer_fastlink_url():
    provider = YodleeProvider({"environment": "production", "client_id": "id", "client_secret": "s",
                               "admin_login": "admin"})
    with pytest.raises(InvalidConfiguration, match="FastLink"):
        provider.start_connection("16441", "new", None, CALLBACK, STATE)


# institutions ---------------------------------------------------------------------


def test_search_institutions_by_text_and_country(provider):
    all_dag = provider.search_institutions(text="dag")
    assert {inst.id for inst in all_dag} == {"16441", "16442", "20440"}
    british = provider.search_institutions(country="gb", text="DAG")
    assert [(inst.id, inst.name, inst.country) for inst in british] == [("20440", "Dag Open Banking", "GB")]
    assert british[0].logo_url.startswith("https://") and british[0].max_history_days == 730
    multilevel = next(inst for inst in all_dag if inst.id == "16442")
    assert multilevel.beta and not multilevel.unattended_refresh
    assert provider.search_institutions(text="no such bank") == []
    assert len(provider.search_institutions(country="US")) == 2


# consent --------------------------------------------------------------------------


def test_connection_opens_fastlink_and_returns_tokens(fake, provider):
    start = provider.start_connection(fake.institution_id, "new", None, CALLBACK, STATE)
    assert start.redirect_url.startswith(f"{fake.url}/fastlink?")
    extra = parse_qs(parse_qs(urlsplit(start.redirect_url).query)["extraParams"][0])
    assert extra["flow"] == ["add"] and extra["providerId"] == [fake.institution_id]
    assert start.pending["login_name"] in fake.users, "a Yodlee user is registered for the connection"

    params = fake.consent(start.redirect_url)
    assert params["state"] == STATE and params["providerAccountId"]
    tokens = provider.complete_connection(fake.institution_id, params, dict(start.pending))
    assert tokens["provider_account_id"] == params["providerAccountId"]
    assert tokens["login_name"] == start.pending["login_name"]
    json.dumps(tokens)


def test_completion_without_provider_account_in_callback_finds_it(fake, provider):
    start = provider.start_connection(fake.institution_id, "new", None, CALLBACK, STATE)
    params = fake.consent(start.redirect_url)
    tokens = provider.complete_connection(fake.institution_id, {"state": params["state"]}, dict(start.pending))
    assert tokens["provider_account_id"] == params["providerAccountId"]


def test_sandbox_preset_user_is_used_instead_of_registering(fake, config):
    fake.users["sbMem5f1a2b3c4d5e1"] = {"id": 1, "loginName": "sbMem5f1a2b3c4d5e1"}
    provider = YodleeProvider(dict(config, user_login="sbMem5f1a2b3c4d5e1"))
    tokens = connect(fake, provider)
    assert tokens["login_name"] == "sbMem5f1a2b3c4d5e1" and not tokens["user_registered"]
    assert not requests_to(fake, "/user/register")
    provider.revoke(tokens)
    assert fake.revoked and "sbMem5f1a2b3c4d5e1" in fake.users, "a preset user is never deleted"


def test_consent_expiry_comes_from_the_open_banking_consent(provider, tokens):
    expiry = provider.consent_expiry(tokens)
    assert expiry.tzinfo is None
    assert abs(expiry - (datetime.utcnow() + timedelta(days=90))) < timedelta(minutes=5)
    assert provider.consent_expiry({"login_name": "x"}) is None


def test_update_and_renew_keep_the_connection_and_its_accounts(fake, provider, tokens):
    account_ids = [account.id for account in provider.list_accounts(tokens)]
    start = provider.start_connection(fake.institution_id, "update", tokens, CALLBACK, STATE)
    extra = parse_qs(parse_qs(urlsplit(start.redirect_url).query)["extraParams"][0])
    assert extra["flow"] == ["edit"] and extra["providerAccountId"] == [tokens["provider_account_id"]]
    updated = connect(fake, provider, "update", tokens)
    assert updated["provider_account_id"] == tokens["provider_account_id"]

    fake.expire_consent()
    with pytest.raises(ReauthRequired):
        provider.list_accounts(updated)
    renewed = connect(fake, provider, "renew", updated)
    assert renewed["login_name"] == tokens["login_name"]
    assert [account.id for account in provider.list_accounts(renewed)] == account_ids
    assert provider.consent_expiry(renewed) >= provider.consent_expiry(tokens)


# accounts and transactions ---------------------------------------------------------


def test_list_accounts(fake, provider, tokens):
    accounts = provider.list_accounts(tokens)
    assert [account.id for account in accounts] == fake.account_ids()
    current, euro = accounts
    assert (current.name, current.currency, current.number) == ("BUSINESS CURRENT ACCOUNT", "GBP", "xxxx4321")
    assert euro.currency == "EUR" and euro.holder_name == "EXAMPLE LTD"
    assert isinstance(current.balance, Decimal) and current.balance == Decimal(
        str(fake._account_json(fake.accounts[int(current.id)])["currentBalance"]["amount"]))


def test_all_transactions_over_several_pages(fake, provider, tokens):
    account_id = fake.account_ids()[0]
    transactions, pages = fetch_all(provider, tokens, account_id)
    assert pages > 3
    ids = [t.id for t in transactions]
    assert len(ids) == len(set(ids)), "no transaction is returned twice"
    assert {t.id for t in transactions if t.is_posted} == set(fake.posted_ids(account_id))
    assert {t.id for t in transactions if not t.is_posted} == set(fake.pending_ids(account_id))
    json.dumps([t.payload for t in transactions])


def test_known_transaction_is_mapped(fake, provider, tokens):
    transactions, _pages = fetch_all(provider, tokens, fake.account_ids()[0])
    known = next(t for t in transactions if t.id == f"bank:{fake.known_transaction['id']}")
    assert known.amount == Decimal("1250.00") and known.currency == "GBP"
    assert known.booking_date == date.today() - timedelta(days=10), "the posting date, not the transaction date"
    assert known.label == "FASTER PAYMENT ACME CORP INV 2024-117"
    assert known.counterparty_name == "Acme Corp"
    debits = [t for t in transactions if t.payload["baseType"] == "DEBIT"]
    assert debits and all(t.amount < 0 for t in debits), "money out is negative"


def test_transactions_before_date_from_are_left_out(fake, provider, tokens):
    account_id = fake.account_ids()[1]
    date_from = date.today() - timedelta(days=30)
    transactions, _pages = fetch_all(provider, tokens, account_id, date_from)
    assert transactions and all(t.booking_date >= date_from for t in transactions)
    expected = {f"bank:{row['id']}" for row in fake.transactions[int(account_id)]
                if row["status"] == "POSTED" and row["date"] >= date_from.isoformat()}
    assert {t.id for t in transactions if t.is_posted} == expected


def test_posting_a_pending_transaction_gives_a_new_stable_id(fake, provider, tokens):
    account_id = fake.account_ids()[0]
    before, _pages = fetch_all(provider, tokens, account_id)
    pending = {t.id for t in before if not t.is_posted}
    fake.post_pending()
    after, _pages = fetch_all(provider, tokens, account_id)
    posted_before = {t.id for t in before if t.is_posted}
    posted_after = {t.id for t in after if t.is_posted}
    assert posted_before < posted_after, "nothing already seen changes id"
    assert len(posted_after - posted_before) == len(pending)
    assert not {t.id for t in after} & pending
    again, _pages = fetch_all(provider, tokens, account_id)
    assert {t.id for t in again} == {t.id for t in after}


def test_new_bank_transaction_appears_with_its_sign(fake, provider, tokens):
    account_id = fake.account_ids()[1]
    income = fake.add_transaction(account_id, Decimal("75.20"), date.today() - timedelta(days=1))
    expense = fake.add_transaction(account_id, Decimal("-19.99"), date.today() - timedelta(days=1))
    transactions = {t.id: t for t in fetch_all(provider, tokens, account_id)[0]}
    assert transactions[income].amount == Decimal("75.20") and transactions[income].is_posted
    assert transactions[expense].amount == Decimal("-19.99") and transactions[expense].currency == "EUR"


def test_rows_moving_between_pages_are_not_lost(fake, provider, tokens):
    account_id = fake.account_ids()[0]
    first = provider.list_transactions(tokens, account_id, LONG_AGO)
    rows = fake.transactions[int(account_id)]
    for row in [row for row in rows if row["status"] == "PENDING"]:
        rows.remove(row)  # the bank drops its pending rows while we page
    seen, cursor = list(first.transactions), first.next_cursor
    while cursor:
        page = provider.list_transactions(tokens, account_id, LONG_AGO, cursor=cursor)
        seen += page.transactions
        cursor = page.next_cursor
    assert {t.id for t in seen if t.is_posted} == set(fake.posted_ids(account_id))
    assert len(seen) == len({t.id for t in seen})


# tokens ---------------------------------------------------------------------------


def test_expiring_access_token_is_refreshed_and_the_new_one_kept(fake, config, provider, tokens):
    assert provider.refresh_tokens(tokens) == tokens, "a valid token is kept"
    stale = dict(tokens, access_token_expires_at=(datetime.utcnow() - timedelta(minutes=1)).isoformat())
    fake.expire_access_token()
    fresh = provider.refresh_tokens(stale)
    assert fresh["access_token"] != tokens["access_token"]
    assert datetime.fromisoformat(fresh["access_token_expires_at"]) > datetime.utcnow() + timedelta(minutes=25)
    issued = len(requests_to(fake, "/auth/token"))
    assert provider.refresh_tokens(fresh) == fresh
    assert YodleeProvider(config).list_accounts(fresh)
    assert len(requests_to(fake, "/auth/token")) == issued, "the refreshed token is used as stored"


@pytest.mark.parametrize("code", ["Y008", "Y020", "Y023"])
def test_token_revoked_at_yodlee_is_replaced_during_a_call(fake, config, tokens, code):
    fake.token_error_code = code
    fake.invalidate_tokens()
    issued = len(requests_to(fake, "/auth/token"))
    provider = YodleeProvider(config)
    handed = []
    provider.on_tokens = handed.append
    assert len(provider.list_accounts(tokens)) == 2
    assert len(requests_to(fake, "/auth/token")) == issued + 1
    assert handed and handed[-1]["access_token"] in fake.tokens, "the new token is handed over to be kept"
    assert handed[-1]["access_token"] != tokens["access_token"]


def test_a_token_refused_twice_is_not_a_settings_error(fake, config, tokens):
    fake.fail_next(401, {"errorCode": "Y008", "errorMessage": "Invalid token in authorization header"},
                   count=2, path="^/accounts$")
    with pytest.raises(ProviderError) as caught:
        YodleeProvider(config).list_accounts(tokens)
    assert not isinstance(caught.value, InvalidConfiguration)
    assert caught.value.transient


# errors ---------------------------------------------------------------------------


def test_expired_consent_requires_reauthentication(fake, provider, tokens):
    fake.expire_consent()
    with pytest.raises(ReauthRequired) as caught:
        provider.list_transactions(tokens, fake.account_ids()[0], LONG_AGO)
    assert caught.value.request_id


def test_security_code_request_is_mfa_required(fake, provider, tokens):
    fake.fail_next(200, {"providerAccount": [{
        "id": int(tokens["provider_account_id"]), "providerId": 20440, "status": "USER_INPUT_REQUIRED",
        "requestId": "REQ-1",
        "dataset": [{"name": "BASIC_AGG_DATA", "additionalStatus": "ADDL_AUTHENTICATION_REQUIRED"}],
    }]}, path="/providerAccounts/")
    with pytest.raises(MFARequired) as caught:
        provider.list_transactions(tokens, fake.account_ids()[0], LONG_AGO, unattended=True)
    assert caught.value.request_id == "REQ-1"


def test_rate_limit_gives_retry_after(fake, provider, tokens):
    fake.rate_limit(retry_after=1)
    with pytest.raises(RateLimited) as caught:
        provider.list_transactions(tokens, fake.account_ids()[0], LONG_AGO)
    assert caught.value.retry_after == 1
    assert caught.value.request_id


def test_bank_down_is_institution_unavailable(fake, provider, tokens):
    fake.go_down()
    with pytest.raises(InstitutionUnavailable):
        provider.list_accounts(tokens)
    with pytest.raises(InstitutionUnavailable):
        provider.list_transactions(tokens, fake.account_ids()[0], LONG_AGO)
    fake.come_back()
    assert len(provider.list_accounts(tokens)) == 2


def test_transient_server_error_is_retried_on_reads(fake, provider, tokens):
    fake.fail_next(503, {"errorCode": "Y902", "errorMessage": "Oops some issue at our end"}, path="^/transactions$")
    page = provider.list_transactions(tokens, fake.account_ids()[0], LONG_AGO)
    assert page.transactions
    assert len(requests_to(fake, "/transactions")) == 2


def test_lasting_server_error_is_institution_unavailable(fake, provider, tokens):
    fake.fail_next(503, {"errorCode": "Y902", "errorMessage": "Oops", "referenceCode": "ref-503"},
                   count=3, path="^/accounts$")
    with pytest.raises(InstitutionUnavailable) as caught:
        provider.list_accounts(tokens)
    assert caught.value.request_id == "ref-503"


def test_malformed_page_is_malformed_response(fake, provider, tokens):
    fake.break_next_transactions_page()
    with pytest.raises(MalformedResponse):
        provider.list_transactions(tokens, fake.account_ids()[0], LONG_AGO)


def test_refused_request_carries_yodlee_reference(fake, provider, tokens):
    fake.fail_next(400, {"errorCode": "Y800", "errorMessage": "Invalid value for fromDate",
                         "referenceCode": "u1455707934756c4F23u"}, path="^/transactions$")
    with pytest.raises(ProviderError) as caught:
        provider.list_transactions(tokens, fake.account_ids()[0], LONG_AGO)
    assert type(caught.value) is ProviderError
    assert caught.value.request_id == "u1455707934756c4F23u"
    assert tokens["access_token"] not in caught.value.message


def test_deleted_connection_requires_reauthentication(fake, provider, tokens):
    fake.remove_provider_account()
    with pytest.raises(ReauthRequired):
        provider.list_accounts(tokens)


@pytest.mark.parametrize("mode", ["update", "renew"])
def test_a_deleted_connection_is_linked_again_for_the_same_user(fake, provider, tokens, mode):
    numbers = {account.number for account in provider.list_accounts(tokens)}
    fake.remove_provider_account()
    start = provider.start_connection(fake.institution_id, mode, tokens, CALLBACK, STATE)
    extra = parse_qs(parse_qs(urlsplit(start.redirect_url).query)["extraParams"][0])
    assert extra["flow"] == ["add"] and extra["providerId"] == [fake.institution_id]
    renewed = provider.complete_connection(fake.institution_id, fake.consent(start.redirect_url),
                                           dict(tokens, **start.pending))
    assert renewed["login_name"] == tokens["login_name"]
    assert renewed["provider_account_id"] != tokens["provider_account_id"]
    accounts = provider.list_accounts(renewed)
    assert {account.number for account in accounts} == numbers
    transactions, _pages = fetch_all(provider, renewed, accounts[0].id)
    assert {t.id for t in transactions if t.is_posted} == set(fake.posted_ids(accounts[0].id))


def test_security_code_is_given_through_update_credentials(fake, provider, tokens):
    fake.require_security_code()
    with pytest.raises(MFARequired) as caught:
        provider.list_accounts(tokens)
    assert caught.value.update_credentials, "a synchronization cannot take the code: FastLink's update flow does"
    start = provider.start_connection(fake.institution_id, "update", tokens, CALLBACK, STATE)
    assert parse_qs(parse_qs(urlsplit(start.redirect_url).query)["extraParams"][0])["flow"] == ["edit"]
    renewed = provider.complete_connection(fake.institution_id, fake.consent(start.redirect_url),
                                           dict(tokens, **start.pending))
    assert len(provider.list_accounts(renewed)) == 2


def test_unknown_route_gets_yodlee_404(fake, provider, tokens):
    with pytest.raises(ProviderError) as caught:
        provider._call("GET", "/no/such/route", tokens)
    assert "Y404" in caught.value.message


# revoke ---------------------------------------------------------------------------


def test_revoke_deletes_the_connection_at_yodlee(fake, provider, tokens):
    assert not fake.revoked
    provider.revoke(tokens)
    assert fake.revoked
    assert tokens["login_name"] not in fake.users
    assert ADMIN_LOGIN not in fake.users


def test_revoke_of_a_connection_already_deleted_at_yodlee(fake, provider, tokens):
    fake.provider_accounts.clear()
    provider.revoke(tokens)
    assert tokens["login_name"] not in fake.users


def test_a_deleted_user_is_registered_again_on_renewal(fake, provider, tokens):
    fake.remove_user(tokens["login_name"])
    start = provider.start_connection(fake.institution_id, "renew", tokens, CALLBACK, STATE)
    assert start.pending["login_name"] != tokens["login_name"] and start.pending["user_registered"]
    renewed = provider.complete_connection(fake.institution_id, fake.consent(start.redirect_url),
                                           dict(tokens, **start.pending))
    assert renewed["login_name"] in fake.users
    assert len(provider.list_accounts(renewed)) == 2
