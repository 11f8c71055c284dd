"""A neutralized copy of the database (``odoo-bin neutralize``) never reaches an aggregator."""
from odoo.exceptions import UserError
from odoo.modules.neutralize import neutralize_database
from odoo.tests import tagged

from fakes.plaid import FakePlaid
from online_sync_case import OnlineSyncCase

CRON = "account_online_synchronization.ir_cron_fetch_online_transactions"


@tagged("post_install", "-at_install", "online_sync")
class TestNeutralizedCopy(OnlineSyncCase):

    def setUp(self):
        super().setUp()
        self.fake = FakePlaid().start()
        self.addCleanup(self.fake.stop)
        config = self.fake.provider_config()
        self.config = self.env["online.provider.config"].create({
            "provider": "plaid", "company_id": self.company.id, "base_url": config["base_url"],
            "client_id": config["client_id"], "client_secret": config["client_secret"],
        })
        self.plaid_link = self.env["online.link"].create({"name": "Plaid Bank", "provider": "plaid"})
        self.plaid_link._set_tokens({"access_token": "access-sandbox-production-token"})

    def neutralize(self):
        neutralize_database(self.env.cr)
        self.env.invalidate_all()
        self.env.registry.clear_cache()

    def test_neutralize_disconnects_and_forgets_every_secret(self):
        sandbox_link = self.connect()
        self.fake.requests.clear()  # opening the bank search listed Plaid's banks
        self.env["online.link.consent"].sudo().create({
            "state_token_hash": "0" * 64, "user_id": self.env.uid, "company_id": self.company.id,
            "provider": "plaid", "mode": "new", "pending_encrypted": self.plaid_link._encrypt({"verifier": "v"}),
        })
        self.neutralize()
        self.assertEqual(self.env["ir.config_parameter"].get_param("database.is_neutralized"), "true")
        for link in (self.plaid_link, sandbox_link):
            self.assertEqual(link.state, "disconnected")
            self.assertFalse(link.auto_sync)
            self.assertFalse(link.sudo().provider_tokens_encrypted)
        self.assertFalse(self.config.client_secret_set, "the aggregator secrets are cleared")
        self.assertFalse(self.env["online.link.consent"].sudo().search([]), "no consent in progress survives")
        self.assertFalse(self.env.ref(CRON).active)
        self.assertFalse(self.env["ir.config_parameter"].get_param("account_online_synchronization.encryption_key"))
        self.assertFalse(self.fake.requests, "neutralizing contacts no aggregator")

    def test_a_copy_still_holding_tokens_refuses_every_aggregator_call(self):
        # E.g. the parameter is set but the copy was restored with its tokens: nothing leaves the database.
        self.env["ir.config_parameter"].set_param("database.is_neutralized", "true")
        result = self.plaid_link.action_fetch_transactions()
        self.assertEqual(result["params"]["type"], "warning")
        self.assertIn("neutralized copy", result["params"]["message"])
        self.assertEqual(self.plaid_link.state, "error")
        self.assertIn("neutralized copy", self.chatter(self.plaid_link)[0])
        self.assertIn(self.plaid_link.error_reference, self.chatter(self.plaid_link)[0])

        with self.assertRaisesRegex(UserError, "neutralized copy"):
            self.plaid_link.action_reconnect()
        wizard = self.env["online.link.connect"].create({"search_text": "bank"})
        wizard.action_search()
        self.assertIn("Plaid: This database is a neutralized copy", wizard.search_message,
                      "the bank search says why Plaid is not asked; the sandbox still answers")
        self.env["online.link"]._cron_fetch_online_transactions()

        self.plaid_link.action_disconnect()
        self.assertEqual(self.plaid_link.state, "disconnected", "disconnecting still works, locally")
        self.assertFalse(self.plaid_link.sudo().provider_tokens_encrypted)
        self.assertFalse(self.fake.requests, "not one request reached the aggregator")

    def test_the_sandbox_bank_still_works_in_a_copy(self):
        self.neutralize()
        link = self.connect()
        self.assertEqual(link.state, "connected")
        self.assertTrue(self.lines_of(link.account_ids.filtered("journal_id")))
