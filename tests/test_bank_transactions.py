"""What a synchronization imported: one chatter line per run, and the Bank Transactions list of synchronized lines."""
from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from online_sync_case import OnlineSyncCase, click

TODAY = date(2026, 3, 18)


@tagged("post_install", "-at_install", "online_sync")
class TestImportSummary(OnlineSyncCase):

    def summaries(self, link):
        return [body for body in self.chatter(link) if "pending at the bank" in body]

    def test_each_run_that_imports_leaves_one_line_per_run_and_the_scheduler_no_empty_one(self):
        with freeze_time(TODAY):
            link = self.connect(volume=3, accounts=("Current Account", "Savings Account"),
                                first_sync_date=TODAY - timedelta(days=20))
        accounts = link.account_ids.filtered("journal_id")
        [first] = self.summaries(link)
        for account in accounts:
            lines = self.lines_of(account)
            self.assertTrue(lines)
            self.assertIn(f"{account.name}: {len(lines)} new lines in {account.journal_id.name}, booked "
                          f"{min(lines.mapped('date')):%m/%d/%Y} to {max(lines.mapped('date')):%m/%d/%Y}; "
                          f"{account.pending_count} pending at the bank.", first)

        # Nothing new a few hours later: the scheduler leaves no line.
        messages = len(link.message_ids)
        with freeze_time(datetime.combine(TODAY, datetime.min.time()) + timedelta(hours=14)):
            self.env["online.link"]._cron_fetch_online_transactions()
        self.assertEqual(link.last_refresh.date(), TODAY, "the scheduler did synchronize")
        self.assertEqual(len(link.message_ids), messages, "no line for a run that imported nothing")

        # Days later: the scheduler's run that imports says what, in one line.
        before = {account: self.lines_of(account) for account in accounts}
        with freeze_time(TODAY + timedelta(days=4)):
            self.env["online.link"]._cron_fetch_online_transactions()
        new = {account: self.lines_of(account) - before[account] for account in accounts}
        self.assertTrue(any(new.values()), "the sandbox booked transactions over 4 days")
        self.assertEqual(len(link.message_ids), messages + 1)
        latest = self.summaries(link)[0]
        for account, lines in new.items():
            text = f"{account.name}: {len(lines)} new lines in" if lines else f"{account.name}: no new line in"
            self.assertIn(text, latest)

        # A click that imports nothing: the notification says so, the chatter stays quiet.
        messages = len(link.message_ids)
        with freeze_time(TODAY + timedelta(days=4, hours=1)):
            result = click(self.env, link.action_fetch_transactions)
        self.assertIn("0 new transactions", result["params"]["message"])
        self.assertEqual(len(link.message_ids), messages)

    def test_names_in_the_summary_are_text(self):
        with freeze_time(TODAY):
            link = self.connect(volume=2, first_sync_date=TODAY - timedelta(days=10))
        account = link.account_ids.filtered("journal_id")
        account.journal_id.name = "<img src=x onerror=alert(1)>"
        with freeze_time(TODAY + timedelta(days=5)):
            click(self.env, link.action_fetch_transactions)
        latest = self.summaries(link)[0]
        self.assertNotIn("<img", latest)
        self.assertIn("&lt;img src=x onerror=alert(1)&gt;", latest)


@tagged("post_install", "-at_install", "online_sync")
class TestBankTransactions(OnlineSyncCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = new_test_user(cls.env, "aos_bt_accountant", groups="account.group_account_user,base.group_user")

    def setUp(self):
        super().setUp()
        with freeze_time(TODAY):
            self.link = self.connect(volume=3, first_sync_date=TODAY - timedelta(days=20))
        self.account = self.link.account_ids.filtered("journal_id")
        self.lines = self.lines_of(self.account)

    def open(self, action, env):
        return env["account.bank.statement.line"].search(action["domain"])

    def test_reached_from_the_journal_the_connection_and_the_account(self):
        env = self.env(user=self.accountant)
        journal = self.account.journal_id.with_env(env)
        other = self.env["account.journal"].create({"name": "Manual Bank", "type": "bank", "code": "MBK"})
        manual = self.StatementLine.create({"journal_id": other.id, "payment_ref": "typed", "amount": 5})
        for action in (journal.action_open_bank_transactions(), self.link.with_env(env).action_open_transactions(),
                       self.account.with_env(env).action_open_transactions()):
            self.assertEqual(action["res_model"], "account.bank.statement.line")
            self.assertEqual(self.open(action, env), self.lines.with_env(env))
            self.assertNotIn(manual, self.open(action, env), "only synchronized lines")
            view_ids = [view_id for view_id, _mode in action["views"]]
            self.assertIn(self.env.ref("account_online_synchronization.online_bank_transaction_view_list").id, view_ids)
        self.assertEqual(self.link.with_env(env).transaction_count, len(self.lines))
        self.assertEqual(self.account.with_env(env).transaction_count, len(self.lines))

    def test_bank_data_readable_and_escaped(self):
        line = self.lines[0]
        line.sudo().transaction_details = {
            "amount": {"value": "-12.50", "currency": "EUR"}, "tags": ["card", "<b>x</b>"], "booked": True,
        }
        html = str(line.transaction_details_html)
        self.assertIn("<th>amount.value</th><td>-12.50</td>", html)
        self.assertIn("<th>tags.2</th><td>&lt;b&gt;x&lt;/b&gt;</td>", html)
        self.assertIn("<th>booked</th><td>true</td>", html)

    def test_the_accountant_sets_the_partner_but_not_what_the_bank_gave(self):
        line = self.lines[0].with_user(self.accountant)
        partner = self.env["res.partner"].create({"name": "Counterparty SA"})
        line.partner_id = partner
        self.assertEqual(line.move_id.line_ids.partner_id, partner, "the journal entry follows")
        for field, value in (("online_transaction_identifier", "forged"), ("online_account_id", False)):
            with self.assertRaises(AccessError):
                line.write({field: value})
        view = self.env.ref("account_online_synchronization.online_bank_transaction_view_form")
        arch = line.get_views([(view.id, "form")])["views"]["form"]["arch"]
        for field in ("date", "amount", "payment_ref", "partner_name", "account_number", "amount_currency",
                      "online_transaction_identifier", "transaction_details_html"):
            self.assertRegex(arch, rf'name="{field}"[^>]*readonly="1"', field)

    def test_another_company_sees_none_of_them(self):
        other = self.env["res.company"].create({"name": "Other Company"})
        user = new_test_user(self.env, "aos_bt_other", groups="account.group_account_user,base.group_user",
                             company_id=other.id, company_ids=[Command.set(other.ids)])
        env = self.env(user=user, context={"allowed_company_ids": other.ids})
        action = self.env["account.bank.statement.line"].with_env(env)._action_bank_transactions([])
        self.assertFalse(self.open(action, env))
        with self.assertRaises(AccessError):
            self.lines.with_env(env).read(["transaction_details_html"])
