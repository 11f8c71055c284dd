"""The whole Odoo flow through each real connector, against a local fake of the aggregator's API.

The consent page is the fake's; the user comes back through Odoo's callback
controller on Odoo's real HTTP server (pytest --odoo-http), with an authenticated session.
"""
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged

from fakes.enable_banking import FakeEnableBanking
from fakes.gocardless import FakeGoCardless
from fakes.plaid import FakePlaidHostedLink
from fakes.ponto import FakePonto
from fakes.saltedge import FakeSaltEdge
from fakes.yodlee import FakeYodlee
from online_sync_case import TEST_PHONE, choose_bank, run_queued_imports
from resilience_flow import EnableBankingResilience, GoCardlessResilience

FIRST_SYNC = date.today() - timedelta(days=120)


class AggregatorSteps:
    """Connect and synchronize through one aggregator, as an accounting administrator."""

    fake_class = None
    #: Options of the fake's configuration (Ponto: the multi-tenant Ponto Connect mode, with its consent page).
    config_options = {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = cls.env.ref("base.user_admin")
        cls.env = cls.env(user=cls.admin)

    def setUp(self):
        super().setUp()
        self.fake = self.fake_class().start()
        self.addCleanup(self.fake.stop)
        config = self.fake.provider_config(**self.config_options)
        self.env["online.provider.config"].sudo().create(dict(
            {key: value for key, value in config.items() if key in self.env["online.provider.config"]._fields},
            provider=self.fake.provider_code, company_id=self.env.company.id,
        ))
        # Fast retries against the fake: the connector reads them from its configuration.
        self.patch(type(self.env["online.provider.config"]), "_get_for", lambda _self, code, company: dict(config))
        self.authenticate("admin", "admin")

    # steps ---------------------------------------------------------------------

    def callback(self, params):
        return self.url_open("/online_sync/callback?" + urlencode(params), allow_redirects=False)

    def go_through_consent(self, action):
        """Follow an action to the aggregator's page and back to Odoo; return the callback response."""
        self.assertEqual(action["type"], "ir.actions.act_url")
        response = self.callback(self.fake.consent(action["url"]))
        self.assertEqual(response.status_code, 303, response.text[:500])
        return response

    def renew_consent(self, link):
        """Click Reconnect and give the consent again."""
        action = link.action_reconnect()
        if action.get("type") == "ir.actions.act_url":
            self.go_through_consent(action)

    def start_consent(self, journal=None):
        """Pick the fake's bank in the connect wizard (opened by Connect on ``journal`` when given) and click
        Connect; return the action."""
        context = journal.action_connect_bank()["context"] if journal else {}
        # All countries: the fake's banks are in several.
        wizard = self.env["online.link.connect"].with_context(context).create(
            {"phone": TEST_PHONE, "country_id": False, "first_sync_date": FIRST_SYNC})
        wizard.action_search()
        choose_bank(wizard, self.fake.institution_id, self.fake.provider_code)
        self.assertTrue(wizard.institution_id, "the aggregator's bank list is cached for the picker")
        return wizard.action_connect()

    def connect(self):
        action = self.start_consent()
        if action.get("type") == "ir.actions.act_url":
            self.go_through_consent(action)
        link = self.env["online.link"].search([("provider", "=", self.fake.provider_code)])
        self.assertEqual(len(link), 1)
        step = link.action_fetch_accounts()
        accounts_wizard = self.env["online.link.connect"].browse(step["res_id"])
        accounts_wizard.first_sync_date = FIRST_SYNC
        accounts_wizard.action_confirm()
        run_queued_imports(self.env)
        return link

    def imported(self, account):
        return self.env["account.bank.statement.line"].search([("online_account_id", "=", account.id)])

    def security_events(self):
        return self.env["online.sync.event"].sudo().search_count([
            ("company_id", "=", self.env.company.id), ("kind", "=", "invalid_credentials"),
        ])

    def assertInSync(self, link):
        """Every posted transaction of the bank is imported, once; nothing else is."""
        for account in link.account_ids:
            identifiers = self.imported(account).mapped("online_transaction_identifier")
            self.assertEqual(len(identifiers), len(set(identifiers)), "a transaction was imported twice")
            self.assertEqual(set(identifiers), set(self.fake.posted_ids(account.provider_account_id)), account.name)

    def assertFailedWith(self, link, code):
        self.assertEqual(link.error_code, code)
        self.assertIn(link.error_reference, " ".join(link.message_ids.mapped("body")))


class AggregatorFlow(AggregatorSteps):
    """Connect, synchronize, fail and recover through one aggregator, as an accounting administrator."""

    # the flow --------------------------------------------------------------------

    def test_full_flow(self):
        link = self.connect()
        self.assertEqual(link.state, "connected")
        self.assertEqual(set(link.account_ids.mapped("provider_account_id")), set(self.fake.account_ids()))
        self.assertTrue(all(link.account_ids.mapped("journal_id")), "each account feeds a journal")
        self.assertInSync(link)
        counts = {account: len(self.imported(account)) for account in link.account_ids}

        # Re-sync imports nothing new.
        link.action_fetch_transactions()
        self.assertEqual({a: len(self.imported(a)) for a in link.account_ids}, counts)

        # A new transaction and the pending ones, once booked, are imported once.
        account = link.account_ids[0]
        new_id = self.fake.add_transaction(account.provider_account_id, Decimal("-42.50"), date.today())
        self.fake.post_pending()
        link.action_fetch_transactions()
        line = self.imported(account).filtered(lambda l: l.online_transaction_identifier == new_id)
        self.assertEqual(line.amount, -42.5, "money out is negative")
        self.assertGreater(len(self.imported(account)), counts[account] + 1, "booked pending ones come in")
        self.assertInSync(link)
        counts = {a: len(self.imported(a)) for a in link.account_ids}

        # An expired access token is refreshed without the user noticing.
        self.fake.expire_access_token()
        link.action_fetch_transactions()
        self.assertEqual(link.state, "connected")

        # Rate limit, bank down, malformed page: a clear error with a reference, nothing half-imported.
        self.fake.rate_limit(retry_after=0)
        link.action_fetch_transactions()
        self.assertFailedWith(link, "rate_limited")
        self.fake.go_down()
        link.action_fetch_transactions()
        self.assertFailedWith(link, "institution_unavailable")
        self.fake.come_back()
        self.fake.break_next_transactions_page()
        link.action_fetch_transactions()
        self.assertFailedWith(link, "malformed_response")
        self.assertEqual({a: len(self.imported(a)) for a in link.account_ids}, counts)
        link.action_fetch_transactions()
        self.assertEqual(link.state, "connected")
        self.assertIn("works again", " ".join(link.message_ids.mapped("body")))
        self.assertEqual({a: len(self.imported(a)) for a in link.account_ids}, counts)

        # The consent ends: action required, then Reconnect through the aggregator keeps everything.
        self.fake.expire_consent()
        link.action_fetch_transactions()
        self.assertEqual(link.state, "action_required")
        self.assertFailedWith(link, "reauth_required")
        accounts = link.account_ids
        self.renew_consent(link)
        self.assertEqual(link.state, "connected")
        self.assertEqual(link.account_ids, accounts, "accounts and journals are kept")
        link.action_fetch_transactions()
        self.assertEqual(link.state, "connected")
        self.assertEqual({a: len(self.imported(a)) for a in link.account_ids}, counts)

        # Disconnect revokes the consent at the aggregator.
        link.action_disconnect()
        self.assertTrue(self.fake.revoked)
        with self.assertRaises(UserError):
            link.action_fetch_transactions()

    def test_callback_refuses_a_forged_foreign_or_replayed_state(self):
        self.assertEqual(self.callback({"state": "forged", "code": "x"}).status_code, 403)
        params = self.fake.consent(self.start_consent()["url"])
        new_test_user(self.env, "other_manager", groups="account.group_account_manager,base.group_user")
        self.authenticate("other_manager", "other_manager")
        self.assertEqual(self.callback(params).status_code, 403, "another user cannot complete my consent")
        self.assertFalse(self.env["online.link"].search([("provider", "=", self.fake.provider_code)]))
        self.authenticate("admin", "admin")
        self.assertEqual(self.callback(params).status_code, 303)
        self.assertEqual(self.callback(params).status_code, 403, "a state is used once")
        self.assertEqual(len(self.env["online.link"].search([("provider", "=", self.fake.provider_code)])), 1)


@tagged("post_install", "-at_install", "online_sync")
class TestPlaidFlow(AggregatorFlow, HttpCase):
    # Plaid Link in the web client has its own flow tests (test_provider_plaid.py).
    fake_class = FakePlaidHostedLink


@tagged("post_install", "-at_install", "online_sync")
class TestYodleeFlow(AggregatorFlow, HttpCase):
    fake_class = FakeYodlee


@tagged("post_install", "-at_install", "online_sync")
class TestSaltEdgeFlow(AggregatorFlow, HttpCase):
    fake_class = FakeSaltEdge


@tagged("post_install", "-at_install", "online_sync")
class TestPontoFlow(AggregatorFlow, HttpCase):
    fake_class = FakePonto
    config_options = {"ponto_connect": True}

    def renew_consent(self, link):
        """The fake's two banks' authorizations end together: Reconnect once per bank, as the chatter asks."""
        before = link.message_ids
        super().renew_consent(link)
        self.assertIn("1 more bank authorizations", " ".join((link.message_ids - before).mapped("body")))
        super().renew_consent(link)


@tagged("post_install", "-at_install", "online_sync")
class TestEnableBankingFlow(EnableBankingResilience, AggregatorFlow, HttpCase):
    fake_class = FakeEnableBanking


@tagged("post_install", "-at_install", "online_sync")
class TestGoCardlessFlow(GoCardlessResilience, AggregatorFlow, HttpCase):
    fake_class = FakeGoCardless
