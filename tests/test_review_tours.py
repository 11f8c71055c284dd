"""The review dialogs in Chromium, as an accountant opens them from the bank journal's card (Odoo tours)."""
from odoo import Command
from odoo.tests import new_test_user, tagged

from online_sync_case import bank_posted_ids, run_queued_imports
from test_review import FIRST_SYNC, ReviewCase
from tour_case import TourCase

DASHBOARD = "/odoo/accounting"


@tagged("post_install", "-at_install", "online_sync")
class TestReviewTours(TourCase, ReviewCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tour_accountant = new_test_user(
            cls.env, "review_tour_accountant", groups="account.group_account_user", name="Review Accountant",
            company_id=cls.company.id, company_ids=[Command.set(cls.company.ids)])
        # Only the synchronized journal is on the dashboard: its card is the one the tours open.
        cls.env["account.journal"].search([("company_id", "=", cls.company.id)]).show_on_dashboard = False

    def test_missing_transactions_are_found_and_imported(self):
        link, account = self.synced(volume=3, scenario="late")
        link.sandbox_scenario = "normal"
        withheld = {t.id for t in self.withheld(link, account)}
        self.assertFalse(withheld & set(self.lines_of(account).mapped("online_transaction_identifier")))
        self.start_tour(DASHBOARD, "online_review_find_missing", login="review_tour_accountant")
        run_queued_imports(self.env)
        self.assertImportedExactly(account, bank_posted_ids(link, account, FIRST_SYNC))

    def test_duplicate_deleted_then_restored(self):
        link, account = self.synced(scenario="twins")
        twins = self.lines_of(account).filtered(lambda line: "twin" in line.online_transaction_identifier)
        identifiers = set(twins.mapped("online_transaction_identifier"))
        self.assertEqual(len(identifiers), 2)
        self.start_tour(DASHBOARD, "online_review_duplicate_delete_restore", login="review_tour_accountant")
        run_queued_imports(self.env)
        self.assertEqual(len(twins.exists()), 1, "one line of the pair was deleted")
        self.assertFalse(self.Ignored.search([("online_account_id", "=", account.id)]), "and restored")
        self.assertEqual(identifiers, set(self.lines_of(account).filtered(
            lambda line: "twin" in line.online_transaction_identifier).mapped("online_transaction_identifier")))
