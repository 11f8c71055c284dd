"""Clicks queue long imports for the background job, once; the user sees progress and a summary."""
import json
from datetime import date, timedelta

from freezegun import freeze_time

from odoo.tests import tagged

from online_sync_case import TEST_PHONE, OnlineSyncCase, bank_posted_ids, choose_bank

IMPORT_CRON = "account_online_synchronization.ir_cron_import_online_transactions"


@tagged("post_install", "-at_install", "online_sync")
class TestBackgroundImport(OnlineSyncCase):

    def setUp(self):
        super().setUp()
        self.cron = self.env.ref(IMPORT_CRON)
        self.last_bus_id = self.env["bus.bus"].search([], order="id desc", limit=1).id

    def accounts_wizard(self, accounts=("Current Account", "Business Account USD"), days=60):
        wizard = self.env["online.link.connect"].create({"phone": TEST_PHONE})
        choose_bank(wizard, "sandbox_bank").action_connect()
        for line in wizard.account_line_ids:
            line.action = "new" if line.name in accounts else "skip"
        wizard.first_sync_date = date.today() - timedelta(days=days)
        return wizard

    def triggers(self):
        return self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)])

    def bus_messages(self, kind):
        """The bus notifications of type ``kind`` sent in this transaction, in order."""
        self.env.cr.precommit.run()  # writes the notifications still held for the commit
        sent = self.env["bus.bus"].search([("id", ">", self.last_bus_id)], order="id")
        messages = [json.loads(message) for message in sent.mapped("message")]
        return [message["payload"] for message in messages if message["type"] == kind]

    def test_double_click_on_link_and_synchronize_queues_one_import(self):
        wizard = self.accounts_wizard()
        triggers = self.triggers()
        first = wizard.action_confirm()
        second = wizard.action_confirm()
        link = wizard.link_id
        self.assertEqual(first, second, "both clicks open the connection")
        self.assertEqual(len(self.env["account.journal"].search([("online_link_id", "=", link.id)])), 2,
                         "one journal per linked account, whatever the number of clicks")
        self.assertEqual(link.import_state, "queued")
        self.assertEqual(sorted(link.import_account_ids.mapped("name")), ["Business Account USD", "Current Account"])
        self.assertEqual(len(self.triggers() - triggers), 1, "the job is triggered once")
        self.assertFalse(self.StatementLine.search_count([("online_account_id", "in", link.account_ids.ids)]),
                         "nothing is imported inside the request")
        self.assertEqual(link.import_status, "Import queued: it starts in a moment.")
        self.assertEqual(link.account_ids.journal_ids.mapped("online_import_status"), [link.import_status] * 2,
                         "the dashboard cards say so too")

        self.run_queued_imports()
        self.assertFalse(link.import_state)
        for account in link.account_ids.filtered("journal_id"):
            self.assertImportedExactly(account, bank_posted_ids(link, account, account.first_sync_date))

    def test_a_second_fetch_while_queued_queues_nothing_more(self):
        wizard = self.accounts_wizard()
        wizard.action_confirm()
        link = wizard.link_id
        triggers = self.triggers()
        notification = link.action_fetch_transactions()
        self.assertEqual(notification["params"]["type"], "info")
        self.assertIn("already importing in the background", notification["params"]["message"])
        notification = link.account_ids.journal_ids[:1].manual_sync()
        self.assertIn("already importing in the background", notification["params"]["message"])
        self.assertFalse(self.triggers() - triggers)

    def test_progress_and_summary_reach_the_user(self):
        wizard = self.accounts_wizard()
        wizard.action_confirm()
        link = wizard.link_id
        self.run_queued_imports()
        accounts = link.account_ids.filtered("journal_id")
        statuses = [payload["status"] for payload in self.bus_messages(
            "account_online_synchronization/import_progress") if payload["link_id"] == link.id]
        counts = [len(self.lines_of(account)) for account in accounts]
        total = sum(counts)
        self.assertEqual(statuses[:2], ["Import queued: it starts in a moment.",
                                        "Importing: 0 of 2 accounts, 0 lines so far"])
        self.assertIn("Importing: 0 of 2 accounts, 50 lines so far", statuses, "told after each chunk of 50 lines")
        self.assertTrue({f"Importing: 1 of 2 accounts, {count:,} lines so far" for count in counts} & set(statuses))
        self.assertEqual(statuses[-2:], [f"Importing: 2 of 2 accounts, {total:,} lines so far", False],
                         "the last step says the import ended")
        lines_seen = [int(status.split(", ")[1].split()[0].replace(",", "")) for status in statuses[1:-1]]
        self.assertEqual(lines_seen, sorted(lines_seen), "the count only grows")

        [summary] = [payload for payload in self.bus_messages("simple_notification")
                     if payload["title"] == "Import from Sandbox Bank done"]
        self.assertEqual(summary["type"], "success")
        for account in accounts:
            lines = self.lines_of(account)
            self.assertIn(f"{account.name}: {len(lines):,} new lines in {account.journal_id.name}, booked "
                          f"{min(lines.mapped('date')):%m/%d/%Y} to {max(lines.mapped('date')):%m/%d/%Y}; "
                          f"{account.pending_count} pending", summary["message"])

    def test_an_import_stopped_midway_says_what_is_kept(self):
        wizard = self.accounts_wizard()
        wizard.action_confirm()
        link = wizard.link_id
        usd = link.account_ids.filtered(lambda a: a.name == "Business Account USD")
        # The bank now sends this account's transactions in a currency its journal does not hold.
        usd.journal_id.currency_id = self.env.ref("base.EUR").id
        self.run_queued_imports()
        current = link.account_ids.filtered(lambda a: a.name == "Current Account")
        self.assertTrue(self.lines_of(current), "the account imported before the failure keeps its lines")
        self.assertEqual(link.state, "error")
        [summary] = [payload for payload in self.bus_messages("simple_notification")
                     if payload["title"] == "Import from Sandbox Bank failed"]
        self.assertEqual(summary["type"], "warning")
        self.assertIn(f"Current Account: {len(self.lines_of(current)):,} new lines", summary["message"])
        self.assertIn("Business Account USD: no new line", summary["message"])
        self.assertIn(f"reference {link.error_reference}", summary["message"])
        self.assertIn("The lines imported are kept; the next synchronization resumes where this one stopped.",
                      summary["message"])

    def test_synchronize_now_answers_at_once_on_an_up_to_date_account(self):
        link = self.connect(volume=3)
        account = link.account_ids.filtered("journal_id")
        triggers = self.triggers()
        result = account.journal_id.manual_sync()
        self.assertEqual(result["params"]["type"], "success")
        self.assertIn("Synchronization done", result["params"]["message"])
        self.assertFalse(link.import_state)
        self.assertFalse(self.triggers() - triggers, "nothing is queued")

    def test_synchronize_now_after_weeks_goes_to_the_background(self):
        with freeze_time(date.today() - timedelta(days=40)):
            link = self.connect(volume=5)
        account = link.account_ids.filtered("journal_id")
        self.assertGreater(link._expected_new_lines(account), 100, "40 days at about 5 lines a day")
        result = account.journal_id.manual_sync()
        self.assertEqual(result["params"]["type"], "info")
        self.assertIn("importing in the background", result["params"]["message"])
        self.assertEqual((link.import_state, link.import_account_ids), ("queued", account))
        self.run_queued_imports()
        self.assertImportedExactly(account, bank_posted_ids(link, account, account.first_sync_date))
        self.assertEqual(account.last_sync, date.today())

    def test_the_scheduler_leaves_a_queued_connection_to_the_import_job(self):
        wizard = self.accounts_wizard()
        wizard.action_confirm()
        link = wizard.link_id
        self.assertNotIn(link, self.env["online.link"].search(self.env["online.link"]._cron_due_domain()))
