"""The GoCardless Bank Account Data connector against a local fake of the API."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from fakes.gocardless import FakeGoCardless
from provider_flow import connect

from odoo.addons.account_online_synchronization.providers.errors import (
    InstitutionUnavailable,
    InvalidConfiguration,
    MalformedResponse,
    ProviderError,
    RateLimited,
    ReauthRequired,
)
from odoo.addons.account_online_synchronization.providers.gocardless import GoCardlessProvider
from odoo.addons.account_online_synchronization.providers.schema import PENDING, POSTED

CALLBACK = "https://odoo.example.test/online_sync/callback"
STATE = "csrf-3f9a1c"
LONG_AGO = date.today() - timedelta(days=365)


@pytest.fixture
def fake():
    with FakeGoCardless() as server:
        yield server


@pytest.fixture
def provider(fake):
    return GoCardlessProvider(fake.provider_config())


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)



@pytest.fixture
def tokens(provider, fake):
    return connect(fake, provider, state=STATE)


def calls(fake, fragment):
    return [r for r in fake.requests if fragment in r.path]


def all_transactions(provider, tokens, account_id, date_from=LONG_AGO):
    page = provider.list_transactions(tokens, account_id, date_from)
    assert page.next_cursor is None
    return page.transactions


# configuration ---------------------------------------------------------------

def test_wrong_secret_is_invalid_configuration(fake):
    config = dict(fake.provider_config(), client_secret="not-the-secret")
    with pytest.raises(InvalidConfiguration) as caught:
        GoCardlessProvider(config).search_institutions("BE")
    assert "Secret" in caught.value.message
    assert "not-the-secret" not in caught.value.message
    assert caught.value.request_id == fake.last_request_id


def test_missing_setting_is_invalid_configuration(fake):
    config = dict(fake.provider_config(), client_secret="")
    with pytest.raises(InvalidConfiguration) as caught:
        GoCardlessProvider(config).search_institutions("BE")
    assert "Secret Key" in caught.value.message
    assert not fake.requests


def test_environments_point_at_the_real_api():
    provider = GoCardlessProvider({"environment": "production"})
    assert provider.base_url == "https://bankaccountdata.gocardless.com/api/v2"
    assert set(GoCardlessProvider.CONFIG_FIELDS) == {"client_id", "client_secret"}


# institutions ----------------------------------------------------------------

def test_search_institutions_by_country_and_text(provider):
    banks = provider.search_institutions("be", "kbc")
    assert [bank.id for bank in banks] == ["KBC_KREDBEBB"]
    kbc = banks[0]
    assert (kbc.name, kbc.country, kbc.max_history_days) == ("KBC Bank", "BE", 730)
    assert kbc.logo_url.startswith("https://")
    everything = {bank.id for bank in provider.search_institutions("BE")}
    # The sandbox bank is offered in the sandbox environment whatever the country.
    assert everything == {"KBC_KREDBEBB", "BELFIUS_GKCCBEBB", "SANDBOXFINANCE_SFIN0000"}


def test_search_institutions_without_sandbox_in_production(fake):
    provider = GoCardlessProvider(dict(fake.provider_config(), environment="production"))
    assert {bank.id for bank in provider.search_institutions("BE")} == {"KBC_KREDBEBB", "BELFIUS_GKCCBEBB"}


def test_unknown_country_is_refused(provider):
    with pytest.raises(ProviderError) as caught:
        provider.search_institutions("ZZ")
    assert "Invalid country choice" in caught.value.message


# consent ---------------------------------------------------------------------

def test_consent_round_trip(provider, fake):
    start = provider.start_connection(fake.institution_id, mode="new", redirect_url=CALLBACK, state=STATE)
    assert start.redirect_url.startswith(f"{fake.url}/psd2/start/")
    agreement = next(iter(fake.agreements.values()))
    # The agreement asks for what the bank allows, and every scope.
    assert (agreement["max_historical_days"], agreement["access_valid_for_days"]) == (90, 90)
    assert agreement["access_scope"] == ["balances", "details", "transactions"]
    params = fake.consent(start.redirect_url)
    assert params["state"] == STATE
    assert params["ref"] == start.pending["reference"]
    tokens = provider.complete_connection(fake.institution_id, params, dict(start.pending))
    assert tokens["requisition_id"] == start.pending["requisition_id"]
    assert sorted(tokens["accounts"]) == sorted(fake.account_ids())
    assert "reference" not in tokens and "previous_requisition_id" not in tokens
    expiry = provider.consent_expiry(tokens)
    assert abs(expiry - (utcnow() + timedelta(days=90))) < timedelta(minutes=5)


def test_state_survives_a_callback_with_a_query_string(provider, fake):
    start = provider.start_connection(fake.institution_id, redirect_url=CALLBACK + "?db=acme", state=STATE)
    params = fake.consent(start.redirect_url)
    tokens = provider.complete_connection(fake.institution_id, params, dict(start.pending))
    assert params["db"] == "acme" and params["state"] == STATE
    assert tokens["accounts"]


def test_cancelled_or_foreign_callback_is_refused(provider, fake):
    start = provider.start_connection(fake.institution_id, redirect_url=CALLBACK, state=STATE)
    with pytest.raises(ProviderError, match="not given"):
        provider.complete_connection(fake.institution_id, {"state": STATE, "error": "UserCancelledSession"},
                                     dict(start.pending))
    with pytest.raises(ProviderError, match="another consent"):
        provider.complete_connection(fake.institution_id, {"state": STATE, "ref": "someone-else"},
                                     dict(start.pending))
    # The user came back without finishing at the bank.
    with pytest.raises(ProviderError, match="not confirmed"):
        provider.complete_connection(fake.institution_id, {"state": STATE, "ref": start.pending["reference"]},
                                     dict(start.pending))


def test_ref_glued_to_the_state_is_understood(provider, fake):
    start = provider.start_connection(fake.institution_id, redirect_url=CALLBACK, state=STATE)
    params = fake.consent(start.redirect_url)
    # Some return addresses come back as "...?state=X?ref=Y" when a query string was already there.
    with pytest.raises(ProviderError, match="another consent"):
        provider.complete_connection(fake.institution_id, {"state": f"{STATE}?ref=other"}, dict(start.pending))
    glued = {"state": f"{STATE}?ref={params['ref']}"}
    tokens = provider.complete_connection(fake.institution_id, glued, dict(start.pending))
    assert sorted(tokens["accounts"]) == sorted(fake.account_ids())


@pytest.mark.parametrize("mode", ["update", "renew"])
def test_update_and_renew_keep_accounts_and_transactions(provider, fake, tokens, mode):
    account_id = fake.account_ids()[0]
    before = [t.id for t in all_transactions(provider, tokens, account_id)]
    if mode == "renew":
        fake.expire_consent()
        with pytest.raises(ReauthRequired):
            provider.list_transactions(tokens, account_id, LONG_AGO)
    renewed = connect(fake, provider, mode=mode, tokens=tokens, state=STATE)
    assert renewed["requisition_id"] != tokens["requisition_id"]
    assert sorted(renewed["accounts"]) == sorted(tokens["accounts"])
    # GoCardless gave new account ids; the connection maps the same accounts onto them.
    assert renewed["accounts"][account_id]["uid"] != tokens["accounts"][account_id]["uid"]
    assert sorted(a.id for a in provider.list_accounts(renewed)) == sorted(fake.account_ids())
    after = [t.id for t in all_transactions(provider, renewed, account_id)]
    # The bank's own ids survive; internalTransactionId is unique within one account id only, so the
    # rows that have nothing else come back under new ids (the synchronization recognises them).
    internal_only = {t.id for t in all_transactions(provider, renewed, account_id) if t.payload.get(
        "internalTransactionId") and not t.payload.get("transactionId") and not t.payload.get("entryReference")}
    assert internal_only and not internal_only & set(before)
    assert [i for i in after if i not in internal_only] == [i for i in before if i in set(after) - internal_only]
    assert len(after) == len(before)
    # The replaced requisition is deleted; the connection itself is not revoked.
    assert fake.requisitions[tokens["requisition_id"]]["deleted"]
    assert not fake.revoked


# accounts --------------------------------------------------------------------

def test_list_accounts(provider, fake, tokens):
    accounts = {account.id: account for account in provider.list_accounts(tokens)}
    assert sorted(accounts) == sorted(fake.account_ids())
    eur = accounts["BE68539007547034:EUR"]
    bank = fake.banks[eur.id]
    assert (eur.currency, eur.number, eur.name, eur.holder_name) == (
        "EUR", "BE68539007547034", "Business Current Account", "Example Company SA")
    booked = bank["opening"] + sum(Decimal(r["transactionAmount"]["amount"]) for r in bank["booked"])
    assert eur.balance == booked
    assert accounts["BE62510007547061:USD"].currency == "USD"
    # Details are read once at the consent, never at each synchronization (the bank counts them).
    assert len(calls(fake, "/details")) == 2


def test_balance_quota_does_not_block_accounts(provider, fake, tokens):
    limited, other = fake.account_ids()
    fake.rate_limit(retry_after=600, account_id=limited)
    accounts = {account.id: account for account in provider.list_accounts(tokens)}
    assert accounts[limited].balance is None and accounts[other].balance is not None


def test_balances_are_read_only_when_asked(provider, fake, tokens):
    before = len(calls(fake, "/balances"))
    accounts = provider.list_accounts(tokens, balances=False)
    assert sorted(a.id for a in accounts) == sorted(fake.account_ids())
    assert all(account.balance is None for account in accounts)
    assert len(calls(fake, "/balances")) == before


# transactions ----------------------------------------------------------------

def test_all_posted_transactions_in_one_call(provider, fake, tokens):
    for account_id in fake.account_ids():
        before = len(calls(fake, "/transactions"))
        transactions = all_transactions(provider, tokens, account_id)
        assert len(calls(fake, "/transactions")) == before + 1
        posted = [t.id for t in transactions if t.status == POSTED]
        assert len(posted) == len(set(posted))
        assert sorted(posted) == sorted(fake.posted_ids(account_id))
        pending = [t for t in transactions if t.status == PENDING]
        assert len(pending) == 2 and not any(t.is_posted for t in pending)
        assert all(t.currency == fake.banks[account_id]["currency"] for t in transactions)


def test_known_transactions_are_mapped(provider, fake, tokens):
    transactions = {t.id: t for t in all_transactions(provider, tokens, "BE68539007547034:EUR")}
    credit = transactions[fake.known_credit["transactionId"]]
    assert credit.amount == Decimal("1250.00")
    assert credit.booking_date == date.today() - timedelta(days=3)
    assert credit.value_date == date.today() - timedelta(days=4)
    assert (credit.currency, credit.label) == ("EUR", "INV/2024/0117")
    assert (credit.counterparty_name, credit.counterparty_account) == ("Acme Trading SA", "BE71096123456769")
    assert credit.payload["endToEndId"] == "ACME-PAY-88231"
    debit = transactions[fake.known_foreign["transactionId"]]
    assert debit.amount == Decimal("-45.30")
    assert (debit.counterparty_name, debit.counterparty_account) == ("London Paper Ltd", "GB29NWBK60161331926819")
    assert debit.label == "Order 5531 Paper and toner"
    assert (debit.foreign_amount, debit.foreign_currency) == (Decimal("-38.68"), "GBP")


def test_date_from_is_respected_and_clamped(provider, fake, tokens):
    account_id = fake.account_ids()[0]
    date_from = date.today() - timedelta(days=30)
    posted = [t for t in provider.list_transactions(tokens, account_id, date_from).transactions if t.is_posted]
    assert posted and all(t.booking_date >= date_from for t in posted)
    expected = [fake.reported_id(row, account_id)
                for row in fake.banks[account_id]["booked"] if row["bookingDate"] >= date_from.isoformat()]
    assert sorted(t.id for t in posted) == sorted(expected)
    assert calls(fake, "/transactions")[-1].arg("date_from") == date_from.isoformat()
    # Older than the agreement allows: ask for what it covers.
    page = provider.list_transactions(tokens, account_id, LONG_AGO)
    oldest = date.today() - timedelta(days=89)
    assert calls(fake, "/transactions")[-1].arg("date_from") == oldest.isoformat()
    # The history really starts there: the synchronization tells the user.
    assert page.history_start == oldest
    assert provider.list_transactions(tokens, account_id, date_from).history_start is None


def test_posting_pending_keeps_ids_stable(provider, fake, tokens):
    account_id = fake.account_ids()[0]
    new_pending = fake.add_transaction(account_id, Decimal("-19.90"), date.today(), pending=True)
    first = all_transactions(provider, tokens, account_id)
    assert new_pending in {t.id for t in first if t.status == PENDING}
    posted_before = {t.id: t for t in first if t.is_posted}
    again = all_transactions(provider, tokens, account_id)
    assert [t.id for t in again] == [t.id for t in first]
    fake.post_pending()
    after = all_transactions(provider, tokens, account_id)
    assert not [t for t in after if t.status == PENDING]
    posted_after = {t.id: t for t in after if t.is_posted}
    assert set(posted_before) <= set(posted_after)
    new_ids = set(posted_after) - set(posted_before)
    assert len(new_ids) == 3 and new_pending not in new_ids
    assert sorted(posted_after) == sorted(fake.posted_ids(account_id))
    booked = fake.add_transaction(account_id, Decimal("100.00"), date.today())
    assert booked in {t.id for t in all_transactions(provider, tokens, account_id) if t.is_posted}


def test_rows_without_any_id_get_a_stable_content_id(provider, fake, tokens):
    account_id = fake.account_ids()[0]
    twin = {"bookingDate": date.today().isoformat(), "transactionAmount": {"amount": "-2.50", "currency": "EUR"},
            "remittanceInformationUnstructured": "CARD COFFEE"}
    fake.banks[account_id]["booked"] += [dict(twin), dict(twin)]
    first = [t.id for t in all_transactions(provider, tokens, account_id) if t.payload.get("bookingDate")
             and "transactionId" not in t.payload and "entryReference" not in t.payload
             and "internalTransactionId" not in t.payload]
    assert len(first) == len(set(first)) == 2
    again = [t.id for t in all_transactions(provider, tokens, account_id) if t.id in first]
    assert sorted(again) == sorted(first)


# tokens ----------------------------------------------------------------------

def test_fresh_tokens_are_left_alone(provider, fake, tokens):
    count = len(fake.requests)
    assert provider.refresh_tokens(tokens) is tokens
    assert len(fake.requests) == count


def test_expired_access_token_is_refreshed(provider, fake, tokens):
    old = dict(tokens, access_expires_at=(utcnow() - timedelta(minutes=1)).isoformat())
    count = len(fake.requests)
    refreshed = provider.refresh_tokens(old)
    # Renewing is all it does: the caller stores the new tokens before any further call.
    assert [r.path for r in fake.requests[count:]] == ["/token/refresh/"]
    assert refreshed["access"] != tokens["access"]
    assert refreshed["refresh"] == tokens["refresh"]
    assert datetime.fromisoformat(refreshed["access_expires_at"]) > utcnow() + timedelta(hours=23)
    assert len(calls(fake, "/token/refresh")) == 1
    fake.expire_access_token()
    fake.access_tokens[refreshed["access"]] = utcnow() + timedelta(hours=1)
    # The stored (refreshed) tokens work on their own in the next run.
    assert GoCardlessProvider(fake.provider_config()).list_accounts(refreshed)


def test_ending_refresh_token_is_rotated(provider, fake, tokens):
    soon = (utcnow() + timedelta(hours=2)).isoformat()
    rotated = provider.refresh_tokens(dict(tokens, access_expires_at=soon, refresh_expires_at=soon))
    assert rotated["refresh"] != tokens["refresh"]
    assert datetime.fromisoformat(rotated["refresh_expires_at"]) > utcnow() + timedelta(days=29)
    assert len(calls(fake, "/token/new")) == 2
    assert rotated["requisition_id"] == tokens["requisition_id"]


def test_short_lived_tokens_are_refreshed_before_expiry(fake):
    fake.access_expires = 60
    provider = GoCardlessProvider(fake.provider_config())
    tokens = connect(fake, provider, state=STATE)
    assert provider.refresh_tokens(tokens)["access"] != tokens["access"]


def test_access_token_refused_during_a_run(provider, fake, tokens):
    fake.expire_access_token()
    assert len(provider.list_accounts(tokens)) == 2
    assert len(calls(fake, "/token/refresh")) == 1


def test_dead_refresh_token_signs_in_again(provider, fake, tokens):
    fake.expire_access_token()
    fake.refresh_tokens.clear()
    assert all_transactions(provider, tokens, fake.account_ids()[0])
    assert len(calls(fake, "/token/new")) == 2


# errors ----------------------------------------------------------------------

def test_expired_consent_requires_reauth(provider, fake, tokens):
    fake.expire_consent()
    with pytest.raises(ReauthRequired) as caught:
        provider.list_transactions(tokens, fake.account_ids()[0], LONG_AGO)
    assert caught.value.request_id == fake.last_request_id
    with pytest.raises(ReauthRequired):
        provider.list_accounts(tokens)


def test_eua_expired_answer_requires_reauth(provider, fake, tokens):
    fake.fail_next(401, {"summary": "End User Agreement (EUA) 2b7f3a4e has expired",
                         "detail": "EUA was valid for 90 days and it expired at 2024-08-01 09:14:11.203Z",
                         "status_code": 401}, path="/transactions")
    with pytest.raises(ReauthRequired):
        provider.list_transactions(tokens, fake.account_ids()[0], LONG_AGO)


def test_suspended_account_requires_reauth(provider, fake, tokens):
    fake.fail_next(409, {"summary": "Account suspended", "status_code": 409,
                         "detail": "This account or its requisition was suspended due to numerous errors "
                                   "that occurred while accessing it."}, path="/transactions")
    with pytest.raises(ReauthRequired):
        provider.list_transactions(tokens, fake.account_ids()[0], LONG_AGO)


def test_ip_whitelist_refusal_is_a_configuration_error(provider, fake, tokens):
    fake.fail_next(403, {"summary": "IP address access denied", "status_code": 403,
                         "detail": "Your IP 203.0.113.9 isn't whitelisted to perform this action"})
    with pytest.raises(InvalidConfiguration) as caught:
        provider.list_accounts(tokens)
    assert not caught.value.credentials_rejected, "a setting to fix, no refused credentials"


def test_unknown_account_requires_reauth(provider, tokens):
    with pytest.raises(ReauthRequired):
        provider.list_transactions(tokens, "BE00000000000000:EUR", LONG_AGO)


def test_bank_rate_limit(provider, fake, tokens):
    fake.rate_limit(retry_after=23 * 3600)
    before = len(calls(fake, "/transactions"))
    with pytest.raises(RateLimited) as caught:
        provider.list_transactions(tokens, fake.account_ids()[0], LONG_AGO)
    # A quota that resets in hours is not asked again within seconds.
    assert len(calls(fake, "/transactions")) == before + 1
    assert abs(caught.value.retry_after - 23 * 3600) <= 2
    assert caught.value.request_id == fake.last_request_id
    assert "daily limit" in caught.value.message
    reset = utcnow() + timedelta(seconds=caught.value.retry_after)
    assert f"resets at {reset:%Y-%m-%d %H}" in caught.value.message
    fake.reset_quota()
    assert provider.list_transactions(tokens, fake.account_ids()[0], LONG_AGO).transactions


def test_short_bank_quota_wait_is_retried(provider, fake, tokens):
    fake.rate_limit(retry_after=0)
    with pytest.raises(RateLimited):
        provider.list_transactions(tokens, fake.account_ids()[0], LONG_AGO)
    # A reset due now is worth the configured retries.
    assert len(calls(fake, "/transactions")) == 3
    assert provider.list_transactions(tokens, fake.account_ids()[0], LONG_AGO).transactions


def test_api_rate_limit_reads_the_wait_from_the_message(provider, fake, tokens):
    fake.fail_next(429, {"summary": "Rate limit exceeded", "status_code": 429,
                         "detail": "The rate limit for this resource is 100/m. Please try again in 42 seconds"},
                   count=3, path="/transactions")
    before = len(calls(fake, "/transactions"))
    with pytest.raises(RateLimited) as caught:
        provider.list_transactions(tokens, fake.account_ids()[0], LONG_AGO)
    assert caught.value.retry_after == 42
    # Longer than the connector waits between attempts: reported at once.
    assert len(calls(fake, "/transactions")) == before + 1


def test_unknown_endpoint_gets_the_documented_not_found(fake):
    answer = requests.get(f"{fake.url}/api/v2/no-such-thing/", timeout=5)
    assert answer.status_code == 404
    assert answer.json() == {"detail": "Not found.", "summary": "Not found.", "status_code": 404}


def test_fake_enforces_the_documented_request_schemas(provider, fake):
    headers = provider._authorization({})
    base = f"{fake.url}/api/v2"
    missing = requests.post(f"{base}/requisitions/", json={"reference": "x"}, headers=headers, timeout=5)
    assert missing.status_code == 400
    assert missing.json() == {"redirect": ["This field is required."], "institution_id": ["This field is required."],
                              "status_code": 400}
    unknown = requests.post(f"{base}/agreements/enduser/", headers=headers, timeout=5,
                            json={"institution_id": fake.institution_id, "days": 3})
    assert unknown.status_code == 400 and unknown.json()["summary"] == "Unknown fields"
    wrong_type = requests.post(f"{base}/agreements/enduser/", headers=headers, timeout=5,
                               json={"institution_id": fake.institution_id, "max_historical_days": "90"})
    assert wrong_type.status_code == 400 and "max_historical_days" in wrong_type.json()
    too_long = requests.post(f"{base}/agreements/enduser/", headers=headers, timeout=5,
                             json={"institution_id": fake.institution_id, "max_historical_days": 91})
    assert too_long.status_code == 400


def test_bank_down(provider, fake, tokens):
    fake.go_down()
    with pytest.raises(InstitutionUnavailable) as caught:
        provider.list_transactions(tokens, fake.account_ids()[0], LONG_AGO)
    assert caught.value.request_id == fake.last_request_id
    fake.come_back()
    assert provider.list_transactions(tokens, fake.account_ids()[0], LONG_AGO).transactions


def test_transient_failure_is_retried(provider, fake, tokens):
    fake.fail_next(503, {"summary": "Institution service unavailable", "type": "ServiceError",
                         "status_code": 503}, path="/transactions")
    before = len(calls(fake, "/transactions"))
    transactions = all_transactions(provider, tokens, fake.account_ids()[0])
    assert len(calls(fake, "/transactions")) == before + 2
    assert {t.id for t in transactions if t.is_posted} == set(fake.posted_ids(fake.account_ids()[0]))


def test_requisition_is_not_created_twice_on_failure(provider, fake):
    fake.fail_next(503, {"summary": "Service unavailable", "status_code": 503}, path="/requisitions")
    with pytest.raises(InstitutionUnavailable):
        provider.start_connection(fake.institution_id, redirect_url=CALLBACK, state=STATE)
    assert len([r for r in calls(fake, "/requisitions") if r.method == "POST"]) == 1


def test_malformed_transactions(provider, fake, tokens):
    fake.break_next_transactions_page()
    with pytest.raises(MalformedResponse) as caught:
        provider.list_transactions(tokens, fake.account_ids()[0], LONG_AGO)
    assert caught.value.request_id == fake.last_request_id
    fake.fail_next(200, {"transactions": {"pending": []}}, path="/transactions")
    with pytest.raises(MalformedResponse):
        provider.list_transactions(tokens, fake.account_ids()[0], LONG_AGO)


def test_revoke(provider, fake, tokens):
    provider.revoke(tokens)
    assert fake.revoked
    provider.revoke(tokens)  # already gone: nothing to do
    with pytest.raises(ProviderError):
        provider.list_transactions(tokens, fake.account_ids()[0], LONG_AGO)


def test_state_travels_in_the_return_address(provider, fake):
    start = provider.start_connection(fake.institution_id, redirect_url=CALLBACK, state=STATE)
    sent = fake.requisitions[start.pending["requisition_id"]]["redirect"]
    assert parse_qs(urlsplit(sent).query) == {"state": [STATE]}
    # The application secrets never end up in what the connection stores.
    assert fake.SECRET_KEY not in str(start.pending) and fake.SECRET_ID not in str(start.pending)


def test_renewed_access_token_is_handed_over_before_the_next_call(provider, fake, tokens):
    handed = []
    provider.on_tokens = handed.append
    fake.expire_access_token()
    fake.go_down()
    with pytest.raises(ProviderError):
        provider.list_accounts(tokens)
    assert handed, "the token issued after the refusal reaches the caller although the call then failed"
    assert handed[-1]["access"] != tokens["access"]
    assert handed[-1]["access"] in fake.access_tokens, "the handed token is the live one"
    assert handed[-1]["requisition_id"] == tokens["requisition_id"]
