"""The Enable Banking connector against a local fake of its API."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fakes.enable_banking import FakeEnableBanking
from provider_flow import all_transactions, connect

from odoo.addons.account_online_synchronization.providers.enable_banking import EnableBankingProvider
from odoo.addons.account_online_synchronization.providers.errors import (
    InstitutionUnavailable,
    InvalidConfiguration,
    MalformedResponse,
    MFARequired,
    ProviderError,
    RateLimited,
    ReauthRequired,
)
from odoo.addons.account_online_synchronization.providers.schema import PENDING, POSTED

CALLBACK = "https://odoo.example.test/online_sync/callback"
TODAY = date.today()


@pytest.fixture
def fake():
    with FakeEnableBanking() as server:
        yield server


@pytest.fixture
def provider(fake):
    return EnableBankingProvider(fake.provider_config())



@pytest.fixture
def tokens(provider, fake):
    return connect(fake, provider)




def other_key_pem():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


# configuration --------------------------------------------------------------

def test_declares_its_settings_and_real_hosts():
    assert EnableBankingProvider.CONFIG_FIELDS == {"client_id": "Application ID", "private_key": "Private key"}
    assert EnableBankingProvider.ENVIRONMENTS["production"] == "https://api.enablebanking.com"
    assert EnableBankingProvider({"environment": "production"}).base_url == "https://api.enablebanking.com"


def test_wrong_private_key_is_a_configuration_error(fake):
    provider = EnableBankingProvider(dict(fake.provider_config(), private_key=other_key_pem()))
    with pytest.raises(InvalidConfiguration) as error:
        provider.search_institutions("FI")
    assert "private key" in error.value.message
    assert error.value.request_id
    assert error.value.credentials_rejected, "Enable Banking refused the application's signature"


def test_wrong_application_id_is_a_configuration_error(fake):
    provider = EnableBankingProvider(dict(fake.provider_config(), client_id="00000000-0000-0000-0000-000000000000"))
    with pytest.raises(InvalidConfiguration):
        provider.search_institutions("FI")


def test_unreadable_private_key_is_a_configuration_error(fake):
    provider = EnableBankingProvider(dict(fake.provider_config(), private_key="not a key"))
    with pytest.raises(InvalidConfiguration) as error:
        provider.search_institutions("FI")
    assert "not a key" not in error.value.message
    assert not fake.requests
    assert not error.value.credentials_rejected, "a setting to fix: no aggregator refused anything"


@pytest.mark.parametrize("missing", ["client_id", "private_key"])
def test_missing_setting_is_a_configuration_error(fake, missing):
    config = fake.provider_config()
    del config[missing]
    with pytest.raises(InvalidConfiguration) as error:
        EnableBankingProvider(config).search_institutions("FI")
    assert EnableBankingProvider.CONFIG_FIELDS[missing] in error.value.message


# institutions and consent -----------------------------------------------------

def test_search_institutions_by_country_and_text(provider):
    finnish = provider.search_institutions("fi")
    assert {i.name for i in finnish} == {"Nordea", "OP", "Aktia"}
    assert all(i.country == "FI" for i in finnish)
    nordea = provider.search_institutions("FI", "nord")
    assert [(i.id, i.name) for i in nordea] == [("FI:Nordea", "Nordea")]
    assert nordea[0].logo_url.startswith("https://")
    assert [i.id for i in provider.search_institutions("FI") if i.beta] == ["FI:Aktia"]
    assert {i.id for i in provider.search_institutions(None, "nordea")} == {"FI:Nordea", "SE:Nordea"}


def test_consent_flow_creates_a_session(provider, fake):
    start = provider.start_connection(fake.institution_id, "new", None, CALLBACK, "anti-csrf")
    assert start.redirect_url.startswith(fake.url + "/consent/")
    auth = fake.requests[-1].json()
    assert auth["aspsp"] == {"name": "Nordea", "country": "FI"}
    assert auth["redirect_url"] == CALLBACK and auth["psu_type"] == "business"
    params = fake.consent(start.redirect_url)
    assert params["state"] == "anti-csrf" and params["code"]
    tokens = provider.complete_connection(fake.institution_id, params, dict(start.pending))
    assert tokens["session_id"] == fake.current_session
    assert sorted(tokens["accounts"]) == sorted(fake.account_ids())
    assert "state" not in tokens


def test_personal_only_bank_gets_a_personal_consent(provider, fake):
    provider.start_connection("FI:OP", "new", None, CALLBACK, "s")
    assert fake.requests[-1].json()["psu_type"] == "personal"


def test_callback_of_another_attempt_is_refused(provider, fake):
    start = provider.start_connection(fake.institution_id, "new", None, CALLBACK, "mine")
    params = dict(fake.consent(start.redirect_url), state="someone-else")
    with pytest.raises(ProviderError):
        provider.complete_connection(fake.institution_id, params, dict(start.pending))
    assert fake.current_session is None


def test_user_refusing_at_the_bank_is_an_error(provider, fake):
    fake.deny_next_consent = True
    start = provider.start_connection(fake.institution_id, "new", None, CALLBACK, "s")
    params = fake.consent(start.redirect_url)
    with pytest.raises(ProviderError) as error:
        provider.complete_connection(fake.institution_id, params, dict(start.pending))
    assert "access_denied" in error.value.message


def test_used_authorization_code_is_refused(provider, fake):
    start = provider.start_connection(fake.institution_id, "new", None, CALLBACK, "s")
    params = fake.consent(start.redirect_url)
    provider.complete_connection(fake.institution_id, params, dict(start.pending))
    with pytest.raises(ProviderError) as error:
        provider.complete_connection(fake.institution_id, params, dict(start.pending))
    assert error.value.request_id


def test_unregistered_redirect_url_is_a_configuration_error(provider, fake):
    fake.redirect_urls = ["https://elsewhere.example.test/callback"]
    with pytest.raises(InvalidConfiguration):
        provider.start_connection(fake.institution_id, "new", None, CALLBACK, "s")


def test_consent_expiry_is_the_session_end(provider, tokens):
    expiry = provider.consent_expiry(tokens)
    assert expiry.tzinfo is None
    assert timedelta(days=179) < expiry - datetime.now(timezone.utc).replace(tzinfo=None) <= timedelta(days=180)
    assert provider.consent_expiry({}) is None


# accounts and transactions ------------------------------------------------------

def test_list_accounts(provider, fake, tokens):
    accounts = {a.id: a for a in provider.list_accounts(tokens)}
    assert sorted(accounts) == sorted(fake.account_ids())
    eur = accounts["FI2112345600000785"]
    assert (eur.name, eur.currency, eur.number, eur.holder_name) == (
        "Yritystili", "EUR", "FI2112345600000785", "Oy Esimerkki Ab")
    booked = sum(t for t in (
        Decimal(r["transaction_amount"]["amount"]) * (1 if r["credit_debit_indicator"] == "CRDT" else -1)
        for r in fake.transactions["eur"] if r["status"] == "BOOK"))
    assert eur.balance == Decimal("10000.00") + booked
    assert eur.balance_date == date.today(), "the closing booked balance and its reference date"
    assert eur.available_balance == eur.balance + 500, "the interim available balance, for information"
    sek = next(a for a in accounts.values() if a.currency == "SEK")
    assert sek.number == "3300-1234567" and isinstance(sek.balance, Decimal)


def test_all_transactions_over_pages_match_the_bank(provider, fake, tokens):
    for account_id in fake.account_ids():
        transactions, pages = all_transactions(provider, tokens, account_id, TODAY - timedelta(days=120))
        assert pages >= 4
        posted = [t.id for t in transactions if t.status == POSTED]
        assert len(posted) == len(set(posted))
        assert set(posted) == fake.posted_ids(account_id)
        pending = [t for t in transactions if t.status == PENDING]
        assert len(pending) == 2 and len({t.id for t in pending}) == 2


def test_known_transactions_are_mapped(provider, fake, tokens):
    transactions, _pages = all_transactions(provider, tokens, "FI2112345600000785", TODAY - timedelta(days=120))
    by_id = {t.id: t for t in transactions}
    rows = {r["entry_reference"]: r for r in fake.transactions["eur"] if r["status"] == "BOOK"}
    debit = next(r for r in rows.values() if r["credit_debit_indicator"] == "DBIT" and r.get("creditor_account"))
    out = by_id[debit["entry_reference"]]
    assert out.amount == -Decimal(debit["transaction_amount"]["amount"]) and out.currency == "EUR"
    assert out.booking_date == date.fromisoformat(debit["booking_date"])
    assert out.value_date == date.fromisoformat(debit["value_date"])
    assert out.counterparty_name == debit["creditor"]["name"]
    assert out.counterparty_account == debit["creditor_account"]["iban"]
    assert out.label == debit["remittance_information"][0]
    served = dict(out.payload)
    assert out.balance_after == Decimal(served.pop("balance_after_transaction")["amount"]), "the bank's running balance"
    assert served == debit
    credit = next(r for r in rows.values() if r["credit_debit_indicator"] == "CRDT")
    into = by_id[credit["entry_reference"]]
    assert into.amount == Decimal(credit["transaction_amount"]["amount"]) > 0
    assert into.counterparty_name == credit["debtor"]["name"]
    assert into.counterparty_account == credit["debtor_account"]["iban"]
    foreign = next(t for t in transactions if t.foreign_currency)
    assert (foreign.amount, foreign.foreign_amount, foreign.foreign_currency) == (
        Decimal("-45.30"), Decimal("-49.12"), "USD")


def test_date_from_is_respected(provider, fake, tokens):
    date_from = TODAY - timedelta(days=30)
    expected = {r["entry_reference"] for r in fake.transactions["eur"]
                if r["status"] == "BOOK" and date.fromisoformat(r["booking_date"]) >= date_from}
    fake.honour_date_from = False  # a bank that answers with more than asked
    transactions, _pages = all_transactions(provider, tokens, "FI2112345600000785", date_from)
    assert {t.id for t in transactions if t.is_posted} == expected
    assert all(t.booking_date >= date_from for t in transactions)
    assert fake.requests[-1].query["date_from"] == [date_from.isoformat()]


def test_refused_period_falls_back_to_the_longest_one(provider, fake, tokens):
    fake.max_history_days = 60
    transactions, _pages = all_transactions(provider, tokens, "FI2112345600000785", TODAY - timedelta(days=90))
    oldest = TODAY - timedelta(days=60)
    assert {t.id for t in transactions if t.is_posted} == {
        r["entry_reference"] for r in fake.transactions["eur"]
        if r["status"] == "BOOK" and date.fromisoformat(r["booking_date"]) >= oldest}
    assert fake.requests[-1].query["strategy"] == ["longest"]
    # The last page says from which day the bank gave history.
    page, cursor = None, None
    while page is None or page.next_cursor:
        page = provider.list_transactions(tokens, "FI2112345600000785", TODAY - timedelta(days=90), cursor=cursor)
        assert page.history_start is None or not page.next_cursor
        cursor = page.next_cursor
    assert page.history_start == min(t.booking_date for t in transactions)
    assert page.history_start >= oldest


# PSU headers ----------------------------------------------------------------

BROWSER = {"ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
           "accept_language": "fi-FI,fi;q=0.9", "accept": "text/html", "referer": "https://odoo.example.test/odoo"}


def test_user_present_sends_the_psu_headers_the_bank_requires(provider, fake, tokens):
    provider.psu = dict(BROWSER)
    all_transactions(provider, tokens, "FI2112345600000785", TODAY - timedelta(days=30))
    provider.list_accounts(tokens)
    assert fake.psu_calls
    for _path, sent in fake.psu_calls:
        # Nordea lists these three in required_psu_headers; nothing else is sent.
        assert sent == {"Psu-Ip-Address": "203.0.113.7", "Psu-User-Agent": BROWSER["user_agent"],
                        "Psu-Accept-Language": "fi-FI,fi;q=0.9"}


def test_connection_made_before_the_bank_listed_its_headers_still_synchronizes(provider, fake, tokens):
    older = {key: value for key, value in tokens.items() if key != "required_psu_headers"}
    provider.psu = dict(BROWSER)
    assert provider.list_transactions(older, "FI2112345600000785", TODAY - timedelta(days=30)).transactions
    # Two headers only: refused as incomplete, then asked again as an unattended call.
    assert [sorted(sent) for _path, sent in fake.psu_calls] == [["Psu-Ip-Address", "Psu-User-Agent"], []]


def test_unattended_run_sends_no_psu_header(provider, fake, tokens):
    provider.psu = None
    provider.list_transactions(tokens, "FI2112345600000785", TODAY - timedelta(days=30), unattended=True)
    provider.psu = dict(BROWSER)
    provider.list_transactions(tokens, "FI2112345600000785", TODAY - timedelta(days=30), unattended=True)
    assert [sent for _path, sent in fake.psu_calls] == [{}, {}]


def test_user_present_is_not_counted_against_the_unattended_quota(provider, fake, tokens):
    fake.unattended_limit = 1
    provider.list_transactions(tokens, "FI2112345600000785", TODAY, unattended=True)
    with pytest.raises(RateLimited):
        provider.list_transactions(tokens, "FI2112345600000785", TODAY, unattended=True)
    provider.psu = dict(BROWSER)
    assert provider.list_transactions(tokens, "FI2112345600000785", TODAY - timedelta(days=30)).transactions


def test_balances_are_read_only_when_asked(provider, fake, tokens):
    count = len(fake.requests)
    accounts = provider.list_accounts(tokens, balances=False)
    assert len(fake.requests) == count
    assert {a.id for a in accounts} == set(fake.account_ids()) and all(a.balance is None for a in accounts)


def test_unknown_endpoint_is_not_found(provider, fake):
    answer = requests.get(f"{fake.url}/no-such-endpoint", timeout=5)
    assert answer.status_code == 404 and answer.json()["error"] == "NOT_FOUND"


def test_date_from_in_the_future_gives_nothing(provider, tokens):
    page = provider.list_transactions(tokens, "FI2112345600000785", TODAY + timedelta(days=1))
    assert page.transactions == [] and page.next_cursor is None


def test_posting_pending_keeps_every_seen_id(provider, fake, tokens):
    account_id = "FI2112345600000785"
    date_from = TODAY - timedelta(days=120)
    before, _pages = all_transactions(provider, tokens, account_id, date_from)
    posted_before = {t.id: t for t in before if t.is_posted}
    added = fake.add_transaction(account_id, Decimal("-19.90"), TODAY, pending=True)
    fake.post_pending()
    after, _pages = all_transactions(provider, tokens, account_id, date_from)
    posted_after = {t.id: t for t in after if t.is_posted}
    new_ids = set(posted_after) - set(posted_before)
    assert len(new_ids) == 3 and added not in posted_after
    assert set(posted_before) <= set(posted_after)
    assert all(posted_after[i].amount == t.amount for i, t in posted_before.items())
    assert set(posted_after) == fake.posted_ids(account_id)
    again, _pages = all_transactions(provider, tokens, account_id, date_from)
    assert {t.id for t in again} == set(posted_after)


def test_transactions_without_entry_reference_get_stable_distinct_ids(provider, fake, tokens):
    twin = {"entry_reference": None, "transaction_amount": {"amount": "3.50", "currency": "EUR"},
            "credit_debit_indicator": "DBIT", "status": "BOOK", "booking_date": TODAY.isoformat(),
            "remittance_information": ["COFFEE"]}
    fake.transactions["eur"] += [dict(twin, transaction_id="a"), dict(twin, transaction_id="b")]
    first, _pages = all_transactions(provider, tokens, "FI2112345600000785", TODAY - timedelta(days=5))
    second, _pages = all_transactions(provider, tokens, "FI2112345600000785", TODAY - timedelta(days=5))
    coffee = sorted(t.id for t in first if t.label == "COFFEE")
    assert len(coffee) == 2 and coffee[0] != coffee[1]
    assert coffee == sorted(t.id for t in second if t.label == "COFFEE")


def test_cancelled_transactions_are_left_out(provider, fake, tokens):
    fake.transactions["eur"][0]["status"] = "CNCL"
    cancelled = fake.transactions["eur"][0]["entry_reference"]
    transactions, _pages = all_transactions(provider, tokens, "FI2112345600000785", TODAY - timedelta(days=120))
    assert cancelled not in {t.id for t in transactions}


# tokens ---------------------------------------------------------------------

def test_expired_application_token_is_signed_again(provider, fake, tokens):
    assert provider.refresh_tokens(tokens) == tokens
    provider.list_accounts(tokens)
    fake.expire_access_token()
    assert len(provider.list_accounts(tokens)) == 2
    assert provider.refresh_tokens(tokens) == tokens


def test_token_is_signed_again_before_it_expires(provider, fake, tokens):
    provider.list_accounts(tokens)
    first = fake.requests[-1].headers["Authorization"]
    provider.list_accounts(tokens)
    assert fake.requests[-1].headers["Authorization"] == first
    provider._jwt_expires = 0  # an hour later
    provider.list_accounts(tokens)
    assert fake.requests[-1].headers["Authorization"] != first


# errors ---------------------------------------------------------------------

def test_expired_consent_requires_reauthentication(provider, fake, tokens):
    fake.expire_consent()
    with pytest.raises(ReauthRequired) as error:
        provider.list_transactions(tokens, "FI2112345600000785", TODAY - timedelta(days=10))
    assert error.value.request_id


def test_unknown_account_requires_reauthentication(provider, tokens):
    with pytest.raises(ReauthRequired):
        provider.list_transactions(tokens, "FI0000000000000000", TODAY)


def test_rate_limit_is_reported_at_once_with_retry_after(provider, fake, tokens):
    fake.rate_limit(retry_after=3600)
    count = len(fake.requests)
    with pytest.raises(RateLimited) as error:
        provider.list_transactions(tokens, "FI2112345600000785", TODAY - timedelta(days=10))
    assert error.value.retry_after == 3600 and error.value.request_id
    assert len(fake.requests) == count + 1


def test_bank_down_is_institution_unavailable(provider, fake, tokens):
    fake.go_down()
    with pytest.raises(InstitutionUnavailable) as error:
        provider.list_accounts(tokens)
    assert error.value.request_id
    fake.come_back()
    assert len(provider.list_accounts(tokens)) == 2


def test_transient_error_is_retried_on_reads(provider, fake, tokens):
    fake.fail_next(503, {"code": 503, "message": "Service unavailable"}, path="/transactions")
    page = provider.list_transactions(tokens, "FI2112345600000785", TODAY - timedelta(days=10))
    assert page.transactions


def test_psu_action_required_is_mfa(provider, fake, tokens):
    fake.fail_next(400, {"code": 400, "message": "PSU action is required", "error": "ASPSP_PSU_ACTION_REQUIRED"},
                   headers={"X-Request-Id": "req-42"})
    with pytest.raises(MFARequired) as error:
        provider.list_transactions(tokens, "FI2112345600000785", TODAY - timedelta(days=10))
    assert error.value.request_id == "req-42"
    assert error.value.update_credentials, "confirmed on the bank's page, which Update Credentials opens"


def test_stale_continuation_key_is_an_error(provider, fake, tokens):
    page = provider.list_transactions(tokens, "FI2112345600000785", TODAY - timedelta(days=120))
    fake.fail_next(422, {"code": 422, "message": "Wrong continuation key", "error": "WRONG_CONTINUATION_KEY"})
    with pytest.raises(ProviderError) as error:
        provider.list_transactions(tokens, "FI2112345600000785", TODAY - timedelta(days=120), page.next_cursor)
    assert type(error.value) is ProviderError


def test_malformed_page_is_reported(provider, fake, tokens):
    fake.break_next_transactions_page()
    with pytest.raises(MalformedResponse) as error:
        provider.list_transactions(tokens, "FI2112345600000785", TODAY - timedelta(days=10))
    assert error.value.request_id


def test_error_messages_carry_no_secret(provider, fake, tokens):
    fake.expire_consent()
    with pytest.raises(ReauthRequired) as error:
        provider.list_accounts(tokens)
    assert tokens["session_id"] not in error.value.message
    assert fake.application_id not in error.value.message


# reconnection and revocation ----------------------------------------------------

@pytest.mark.parametrize("mode", ["update", "renew"])
def test_reconnection_keeps_account_ids(provider, fake, tokens, mode):
    before = {a.id for a in provider.list_accounts(tokens)}
    old_session = tokens["session_id"]
    fake.expire_consent()
    renewed = connect(fake, provider, mode, tokens)
    assert renewed["session_id"] != old_session
    assert {a.id for a in provider.list_accounts(renewed)} == before
    assert {e["uid"] for e in renewed["accounts"].values()}.isdisjoint(
        e["uid"] for e in tokens["accounts"].values())
    transactions, _pages = all_transactions(provider, renewed, "FI2112345600000785", TODAY - timedelta(days=120))
    assert {t.id for t in transactions if t.is_posted} == fake.posted_ids("FI2112345600000785")


def test_update_closes_the_previous_session(provider, fake, tokens):
    old_session = tokens["session_id"]
    connect(fake, provider, "update", tokens)
    assert fake.sessions[old_session]["status"] == "CLOSED"
    assert not fake.revoked


def test_revoke_closes_the_session(provider, fake, tokens):
    provider.revoke(tokens)
    assert fake.revoked
    with pytest.raises(ReauthRequired):
        provider.list_accounts(tokens)
    provider.revoke(tokens)  # already closed: nothing to do
