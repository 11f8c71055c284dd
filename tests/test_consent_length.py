"""Connectors ask for the longest consent the bank allows, and tell the quota their aggregator reports."""
from datetime import date, datetime, time, timedelta, timezone

import pytest
from fakes.gocardless import FakeGoCardless
from fakes.saltedge import FakeSaltEdge
from provider_flow import connect

from odoo.addons.account_online_synchronization.providers.errors import RateLimited
from odoo.addons.account_online_synchronization.providers.gocardless import GoCardlessProvider
from odoo.addons.account_online_synchronization.providers.saltedge import SaltEdgeProvider
from odoo.addons.account_online_synchronization.providers.sandbox import SandboxProvider


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def test_gocardless_asks_the_longest_access_the_bank_allows():
    with FakeGoCardless() as fake:
        provider = GoCardlessProvider(fake.provider_config())
        fake.institution_id = "KBC_KREDBEBB"  # the bank allows 180 days
        tokens = connect(fake, provider)
        [agreement] = fake.agreements.values()
        assert agreement["access_valid_for_days"] == 180
        assert abs(provider.consent_expiry(tokens) - (utcnow() + timedelta(days=180))) < timedelta(minutes=5)


def test_saltedge_asks_the_longest_consent_of_the_bank():
    with FakeSaltEdge() as fake:
        provider = SaltEdgeProvider(fake.provider_config())
        tokens = connect(fake, provider)
        [session] = [r.json()["data"] for r in fake.requests if r.path.endswith("/connect_sessions/create")]
        assert session["consent"]["period_days"] == 90  # the fake bank's max_consent_days
        assert provider.consent_expiry(tokens) > utcnow() + timedelta(days=89)


def test_gocardless_tells_the_bank_quota_left_from_its_headers():
    with FakeGoCardless() as fake:
        provider = GoCardlessProvider(fake.provider_config())
        tokens = connect(fake, provider)
        fake.account_success_limit = 4
        account_id = provider.list_accounts(tokens, balances=False)[0].id
        provider.list_transactions(tokens, account_id, date.today() - timedelta(days=5))
        assert provider.quota_remaining == 3
        tomorrow = datetime.combine(utcnow().date() + timedelta(days=1), time.min)
        assert abs(provider.quota_reset_at - tomorrow) < timedelta(minutes=1)


def test_sandbox_quota_counts_unattended_refreshes_only():
    provider = SandboxProvider({"scenario": "quota"})
    tokens = provider.complete_connection("sandbox_bank", {})
    account_id = provider.list_accounts(tokens)[0].id
    since = date.today() - timedelta(days=2)
    for left in (3, 2, 1, 0):
        provider.list_transactions(tokens, account_id, since, unattended=True)
        assert provider.quota_remaining == left
    provider.list_transactions(tokens, account_id, since, unattended=False)
    assert provider.quota_remaining == 0
    with pytest.raises(RateLimited) as refused:
        provider.list_transactions(tokens, account_id, since, unattended=True)
    assert 0 < refused.value.retry_after <= 86400
    assert provider.quota_reset_at == datetime.combine(utcnow().date() + timedelta(days=1), time.min)


def test_sandbox_consent_ending_scenario_ends_the_consent_in_ten_days():
    provider = SandboxProvider({"scenario": "consent_ending"})
    tokens = provider.refresh_tokens(provider.complete_connection("sandbox_bank", {}))
    assert provider.consent_expiry(tokens).date() == date.today() + timedelta(days=10)
    assert provider.refresh_tokens(tokens) == tokens, "only once"
