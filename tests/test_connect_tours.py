"""The bank connection screens, clicked through in Chromium by an administrator and by an accountant."""
from odoo.tests import new_test_user, tagged

from online_sync_case import TEST_PHONE, choose_bank
from tour_case import TourCase

#: The dashboard: in Odoo Community an administrator without full accounting features has no menu to it.
DASHBOARD = "/odoo/action-account.open_account_journal_dashboard_kanban"
CONNECTIONS = "/odoo/action-account_online_synchronization.action_online_link"


@tagged("post_install", "-at_install", "online_sync")
class TestConnectTours(TourCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.journal = cls.env["account.journal"].create({"name": "Tour Bank", "type": "bank", "code": "TOUR"})
        new_test_user(cls.env, "tour_accountant", groups="account.group_account_user,base.group_user")

    def setUp(self):
        super().setUp()
        self.dashboard = f"/odoo?menu_id={self.env.ref('account.menu_finance').id}"

    def abandoned_connection(self):
        """A connection whose dialog was closed before its accounts were linked."""
        wizard = self.env["online.link.connect"].create({"phone": TEST_PHONE})
        choose_bank(wizard, "sandbox_bank").action_connect()
        return wizard.link_id

    def test_administrator_connects_a_dashboard_card_through_the_bank_search(self):
        self.start_tour(DASHBOARD, "online_sync_connect_from_card", login="admin")
        link = self.journal.online_link_id
        self.assertEqual((link.name, link.provider, link.status), ("Sandbox Bank", "sandbox", "connected"))
        self.assertTrue(link.auto_sync)

    def test_add_a_bank_account_is_one_menu_and_searches_without_blocking(self):
        self.start_tour(self.dashboard, "online_sync_add_bank_account_menu", login="admin")

    def test_journal_form_connects_its_journal(self):
        self.start_tour(f"/odoo/action-account.action_account_journal_form/{self.journal.id}",
                        "online_sync_connect_from_journal_form", login="admin")

    def test_accountant_is_told_whom_to_ask(self):
        self.start_tour(self.dashboard, "online_sync_accountant_card", login="tour_accountant")

    def test_abandoned_connection_is_finished_by_the_administrator(self):
        link = self.abandoned_connection()
        self.start_tour(CONNECTIONS, "online_sync_finish_abandoned", login="admin")
        self.assertEqual(link.status, "connected")
        self.assertTrue(link.accounts_linked)

    def test_accountant_sees_an_abandoned_connection_for_what_it_is(self):
        link = self.abandoned_connection()
        self.start_tour(f"{CONNECTIONS}/{link.id}", "online_sync_accountant_abandoned", login="tour_accountant")
