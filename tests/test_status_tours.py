"""A failing sandbox bank in Chromium, as the accountant and the administrator see it (Odoo tours)."""
from datetime import date, timedelta

from odoo import Command
from odoo.tests import new_test_user, tagged

from online_sync_case import OnlineSyncCase
from tour_case import TourCase

DASHBOARD = "/odoo/accounting"


@tagged("post_install", "-at_install", "online_sync")
class TestStatusTours(TourCase, OnlineSyncCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        companies = [Command.set(cls.company.ids)]
        cls.accountant = new_test_user(cls.env, "tour_accountant", groups="account.group_account_user",
                                       name="Tour Accountant", company_id=cls.company.id, company_ids=companies)
        cls.administrator = new_test_user(cls.env, "tour_admin", groups="account.group_account_manager",
                                          name="Status Admin", company_id=cls.company.id, company_ids=companies)
        # Only the sandbox journal is on the dashboard: its card is the one the tours look at.
        cls.env["account.journal"].search([("company_id", "=", cls.company.id)]).show_on_dashboard = False

    def setUp(self):
        super().setUp()
        self.link = self.connect(volume=1, first_sync_date=date.today() - timedelta(days=5))

    def fail_unattended(self, scenario):
        self.link.sandbox_scenario = scenario
        self.env["online.link"]._cron_fetch_online_transactions()

    def test_accountant_is_told_whom_to_ask(self):
        self.fail_unattended("consent_expired")
        self.start_tour(DASHBOARD, "online_sync_accountant_asks_administrator", login="tour_accountant")
        self.assertEqual(self.link.state, "action_required")

    def test_administrator_reconnects(self):
        self.fail_unattended("consent_expired")
        self.start_tour(DASHBOARD, "online_sync_administrator_reconnects", login="tour_admin")
        self.assertEqual(self.link.state, "connected")

    def test_bank_down_will_retry(self):
        self.fail_unattended("down")
        self.start_tour(DASHBOARD, "online_sync_bank_down_will_retry", login="tour_accountant")

    def test_security_code_scenario_as_set_by_the_administrator(self):
        self.link.with_user(self.accountant).action_fetch_transactions()
        self.start_tour(f"/odoo/action-account_online_synchronization.action_online_link/{self.link.id}",
                        "online_sync_administrator_sets_security_code_scenario", login="tour_admin")
        self.assertEqual(self.link.sandbox_scenario, "mfa")
        self.assertFalse(self.link.last_attempt, "the scheduled run tries it at once, despite the recent click")
        self.env["online.link"]._cron_fetch_online_transactions()  # the run the change triggered
        self.assertEqual(self.link.state, "action_required")
        self.start_tour(DASHBOARD, "online_sync_accountant_answers_security_code", login="tour_accountant")
        self.assertEqual(self.link.state, "connected")
