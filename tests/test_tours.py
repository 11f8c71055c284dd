"""The accountant's Bank Transactions, the administrator's Aggregator Settings and Accounting settings, clicked
through in Chromium."""
from datetime import date, timedelta

from odoo.tests import new_test_user, tagged
from odoo.tools import config

from fakes import plaid
from online_sync_case import OnlineSyncCase
from tour_case import TourCase


@tagged("post_install", "-at_install", "online_sync")
class TestTours(TourCase, OnlineSyncCase):

    def test_accountant_synchronizes_and_reads_bank_transactions(self):
        link = self.connect(volume=3, first_sync_date=date.today() - timedelta(days=20))
        journal = link.account_ids.journal_ids
        journal.name = "Tour Bank"
        self.assertTrue(self.lines_of(journal.online_account_id), "the first synchronization imported lines")
        new_test_user(self.env, "aos_tour_accountant", password="aos_tour_accountant",
                      groups="account.group_account_user,base.group_user")
        self.start_tour("/odoo/action-account.open_account_journal_dashboard_kanban",
                        "online_sync_bank_transactions", login="aos_tour_accountant")

    def test_administrator_completes_and_tests_aggregator_settings(self):
        # The secret the administrator types in the tour is the one the aggregator knows.
        self.patch(plaid, "SECRET", "tour-plaid-secret")
        fake = plaid.FakePlaid().start()
        self.addCleanup(fake.stop)
        config = fake.provider_config()
        self.env["online.provider.config"].create({
            "provider": "plaid", "base_url": config["base_url"], "client_id": config["client_id"],
        })
        self.start_tour("/odoo/action-account_online_synchronization.action_online_provider_config",
                        "online_sync_aggregator_settings", login="admin")
        self.assertTrue(self.env["online.provider.config"].search([("provider", "=", "plaid")]).client_secret_set)

    def test_administrator_finds_the_bank_synchronization_settings(self):
        self.env.ref("account_online_synchronization.ir_cron_fetch_online_transactions").write(
            {"interval_number": 12, "interval_type": "hours", "active": True})
        self.patch(config, "options", dict(config.options, online_sync_encryption_key=""))
        self.start_tour("/odoo/action-account.action_account_config", "online_sync_accounting_settings", login="admin")
