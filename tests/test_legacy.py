"""Connections of the former synchronization, with both addons installed (the one the test database has)."""
from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from legacy_data import create_legacy_data, statements_fingerprint
from online_sync_case import OnlineSyncCase, choose_bank

RESYNC_ACTIONS = ("action_fetch_transactions", "action_fetch_accounts", "action_reconnect", "action_update_credentials")


@tagged("post_install", "-at_install", "online_sync")
class TestLegacyConnections(OnlineSyncCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Records of the former addon created while the new one is installed (an import, or the
        # former addon installed afterwards) are taken over at once.
        cls.providers = create_legacy_data(cls.env)
        cls.links = cls.env["online.link"].search([("is_legacy", "=", True)])
        cls.legacy_journals = cls.env["account.journal"].search([("code", "=like", "L%")])

    def legacy_notes(self, link):
        return [body for body in self.chatter(link) if "before December 2020" in body]

    def test_every_legacy_connection_is_disconnected_and_shown(self):
        self.assertEqual(set(self.providers.mapped("status")), {"disconnected"})
        self.assertEqual(len(self.links), 3)
        self.assertEqual(set(self.links.mapped("state")), {"disconnected"})
        self.assertFalse(any(self.links.mapped("auto_sync")))
        by_name = {link.name: link for link in self.links}
        self.assertEqual(set(by_name), {"Belfius", "Chase", "HSBC"})
        self.assertEqual(len(by_name["Belfius"].account_ids), 2)
        self.assertEqual(by_name["Chase"].account_ids.currency_id.name, "USD")
        self.assertEqual(by_name["HSBC"].company_id.name, "Legacy Subsidiary")
        self.assertEqual(by_name["Belfius"].account_ids.mapped("account_number"),
                         ["BE68539007547034", "BE71096123456769"])
        for link in self.links:
            notes = self.legacy_notes(link)
            self.assertEqual(len(notes), 1, "one note per connection")
            self.assertIn("create a new connection", notes[0])
        self.assertIn("Belfius Compte courant, Belfius Compte épargne", self.legacy_notes(by_name["Belfius"])[0])

    def test_journals_are_detached_and_keep_their_statements(self):
        self.assertEqual(len(self.legacy_journals), 4)
        self.assertFalse(self.legacy_journals.account_online_journal_id)
        self.assertEqual(set(self.legacy_journals.mapped("bank_statements_source")), {"undefined"})
        for journal in self.legacy_journals:
            statements = self.env["account.bank.statement"].search([("journal_id", "=", journal.id)])
            self.assertEqual(len(statements), 3)
            self.assertEqual(len(statements.line_ids), 12)

    def test_no_resynchronization_is_possible(self):
        manager = new_test_user(self.env, "legacy_manager", groups="account.group_account_manager,base.group_user")
        accountant = new_test_user(self.env, "legacy_accountant", groups="account.group_account_user,base.group_user")
        before = statements_fingerprint(self.env)
        for user in (manager, accountant):
            for action in RESYNC_ACTIONS:
                with self.assertRaisesRegex(UserError, "Create a new connection", msg=action):
                    getattr(self.links[0].with_user(user), action)()
        self.env["online.link"]._cron_fetch_online_transactions()
        self.assertEqual(set(self.links.mapped("state")), {"disconnected"})
        self.assertIsNone(self.links[0].last_attempt or None)
        self.assertEqual(statements_fingerprint(self.env), before)

    def test_running_the_migration_again_changes_nothing(self):
        before = statements_fingerprint(self.env)
        messages = self.env["mail.message"].search_count([("model", "=", "online.link")])
        for _run in range(2):
            self.assertFalse(self.env["online.link"]._migrate_legacy_connections())
        self.assertEqual(self.env["online.link"].search_count([("is_legacy", "=", True)]), 3)
        self.assertEqual(self.env["mail.message"].search_count([("model", "=", "online.link")]), messages)
        self.assertEqual(statements_fingerprint(self.env), before)

    def test_a_legacy_connection_set_back_to_connected_is_disconnected_again(self):
        self.providers[0].status = "connected"
        self.legacy_journals[0].account_online_journal_id = self.providers[0].account_online_journal_ids[0]
        self.env["online.link"]._migrate_legacy_connections()
        self.assertEqual(self.providers[0].status, "disconnected")
        self.assertFalse(self.legacy_journals[0].account_online_journal_id)
        self.assertEqual(self.env["online.link"].search_count([("is_legacy", "=", True)]), 3)

    def test_companies_see_only_their_legacy_connections(self):
        other = self.env["res.company"].search([("name", "=", "Legacy Subsidiary")])
        user = new_test_user(self.env, "legacy_other", groups="account.group_account_manager,base.group_user",
                             company_id=other.id, company_ids=[Command.set(other.ids)])
        self.assertEqual(self.env["online.link"].with_user(user).search([("is_legacy", "=", True)]).mapped("name"),
                         ["HSBC"])

    def test_legacy_menu_leads_to_the_new_connections(self):
        menu = self.env.ref("account_online_sync.menu_account_online_provider")
        self.assertEqual(menu.action, self.env.ref("account_online_synchronization.action_online_link"))

    def test_a_new_connection_feeds_the_former_journal(self):
        journal = self.legacy_journals.filtered(lambda j: j.company_id == self.company)[:1]
        journal_currency = journal.currency_id or journal.company_id.currency_id
        old_lines = self.env["account.bank.statement.line"].search([("journal_id", "=", journal.id)])
        wizard = self.env["online.link.connect"].create({"phone": "+32 470 12 34 56"})
        choose_bank(wizard, "sandbox_bank").action_connect()
        for line in wizard.account_line_ids:
            if line.currency_id == journal_currency and not wizard.account_line_ids.filtered("journal_id"):
                line.write({"action": "existing", "journal_id": journal.id})
            else:
                line.action = "skip"
        wizard.action_confirm()
        self.run_queued_imports()
        self.assertEqual(journal.bank_statements_source, "online_sync")
        new_lines = self.env["account.bank.statement.line"].search([("journal_id", "=", journal.id)]) - old_lines
        self.assertTrue(new_lines)
        self.assertEqual(old_lines.exists(), old_lines, "the former lines are kept")
