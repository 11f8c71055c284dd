"""The bank connection screens, clicked through in Chromium by an administrator and by an accountant.

The screens a tour shows are saved as screenshots in Odoo's screenshots folder
(``--screenshots``, ``/tmp/odoo_tests`` by default): at each step logging
``screenshot:<name>`` and where the tour ends.
"""
from unittest.mock import patch

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import ChromeBrowser

from online_sync_case import TEST_PHONE, choose_bank

#: The dashboard: in Odoo Community an administrator without full accounting features has no menu to it.
DASHBOARD = "/odoo/action-account.open_account_journal_dashboard_kanban"
CONNECTIONS = "/odoo/action-account_online_synchronization.action_online_link"


@tagged("post_install", "-at_install", "online_sync")
class TestConnectTours(HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.journal = cls.env["account.journal"].create({"name": "Tour Bank", "type": "bank", "code": "TOUR"})
        new_test_user(cls.env, "tour_accountant", groups="account.group_account_user,base.group_user")

    def setUp(self):
        super().setUp()
        self.dashboard = f"/odoo?menu_id={self.env.ref('account.menu_finance').id}"

    def tour(self, url, name, login):
        """Run the tour ``name`` as ``login``; screenshot the screen it ends on."""
        stop, handle_console = ChromeBrowser.stop, ChromeBrowser._handle_console

        def screenshot_then_stop(browser):
            if browser.ws:
                browser.take_screenshot(prefix=f"{name}_{login}_").result(timeout=10)
            stop(browser)

        def screenshot_when_asked(browser, type, args=None, **kw):  # noqa: A002 - the devtools event's name
            message = args and args[0].get("value")
            if isinstance(message, str) and message.startswith("screenshot:"):
                browser.take_screenshot(prefix=f"{message.partition(':')[2]}_{login}_")
            return handle_console(browser, type, args, **kw)

        with patch.object(ChromeBrowser, "stop", screenshot_then_stop), \
                patch.object(ChromeBrowser, "_handle_console", screenshot_when_asked):
            self.start_tour(url, name, login=login)

    def abandoned_connection(self):
        """A connection whose dialog was closed before its accounts were linked."""
        wizard = self.env["online.link.connect"].create({"phone": TEST_PHONE})
        choose_bank(wizard, "sandbox_bank").action_connect()
        return wizard.link_id

    def test_administrator_connects_a_dashboard_card_through_the_bank_search(self):
        self.tour(DASHBOARD, "online_sync_connect_from_card", "admin")
        link = self.journal.online_link_id
        self.assertEqual((link.name, link.provider, link.status), ("Sandbox Bank", "sandbox", "connected"))
        self.assertTrue(link.auto_sync)

    def test_add_a_bank_account_is_one_menu_and_searches_without_blocking(self):
        self.tour(self.dashboard, "online_sync_add_bank_account_menu", "admin")

    def test_journal_form_connects_its_journal(self):
        self.tour(f"/odoo/action-account.action_account_journal_form/{self.journal.id}",
                  "online_sync_connect_from_journal_form", "admin")

    def test_accountant_is_told_whom_to_ask(self):
        self.tour(self.dashboard, "online_sync_accountant_card", "tour_accountant")

    def test_abandoned_connection_is_finished_by_the_administrator(self):
        link = self.abandoned_connection()
        self.tour(CONNECTIONS, "online_sync_finish_abandoned", "admin")
        self.assertEqual(link.status, "connected")
        self.assertTrue(link.accounts_linked)

    def test_accountant_sees_an_abandoned_connection_for_what_it_is(self):
        link = self.abandoned_connection()
        self.tour(f"{CONNECTIONS}/{link.id}", "online_sync_accountant_abandoned", "tour_accountant")
