"""Clicks queue long imports for the background job, once; the user sees progress and a summary."""
import json
import time
from datetime import date, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import config

from odoo.addons.account_online_synchronization.models import online_account
from odoo.addons.account_online_synchronization.models.online_link_import import BACKGROUND_CHUNK_SIZE

from online_sync_case import TEST_PHONE, OnlineSyncCase, bank_posted_ids, choose_bank, run_queued_imports
from tour_case import SIGNAL, TourCase

IMPORT_CRON = "account_online_synchronization.ir_cron_import_online_transactions"


@tagged("post_install", "-at_install", "online_sync")
class TestBackgroundImport(OnlineSyncCase):

    def setUp(self):
        super().setUp()
        self.cron = self.env.ref(IMPORT_CRON)
        self.last_bus_id = self.env["bus.bus"].search([], order="id desc", limit=1).id

    def accounts_wizard(self, accounts=("Current Account", "Business Account USD"), days=60, user=None):
        connect = self.env["online.link.connect"]
        wizard = (connect.with_user(user) if user else connect).create({"phone": TEST_PHONE})
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

        [summary] = self.env["online.link"].take_import_summaries()
        self.assertEqual((summary["title"], summary["type"]), ("Import from Sandbox Bank done", "success"))
        self.assertFalse(self.env["online.link"].take_import_summaries(), "the summary is shown once")
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
        [summary] = self.env["online.link"].take_import_summaries()
        self.assertEqual((summary["title"], summary["type"]), ("Import from Sandbox Bank failed", "warning"))
        self.assertIn(f"Current Account: {len(self.lines_of(current)):,} new lines", summary["message"])
        self.assertIn("Business Account USD: no new line", summary["message"])
        self.assertIn(f"reference {link.error_reference}", summary["message"])
        self.assertIn("The lines imported are kept; the next synchronization resumes where this one stopped.",
                      summary["message"])

    def test_a_run_out_of_time_stops_after_a_chunk_and_the_next_run_resumes(self):
        wizard = self.accounts_wizard()
        wizard.action_confirm()
        link = wizard.link_id
        triggers = self.triggers()
        _cron, progress = self.cron._add_progress()
        # Cron jobs limited to 1 s: a run of the import job works a quarter of a second, then stops.
        with patch.dict(config.options, {"limit_time_real_cron": 1}):
            self.env["online.link"].with_context(ir_cron_progress_id=progress.id)._cron_import_queued()
        self.assertEqual(link.import_state, "running", "the import is not over")
        kept = self.StatementLine.search_count([("online_account_id", "in", link.account_ids.ids)])
        self.assertTrue(kept, "the lines of the run are kept")
        self.assertEqual(link.import_status, f"Importing: 0 of 2 accounts, {kept:,} lines so far")
        self.assertEqual((progress.done, progress.remaining), (1, 0),
                         "no remaining work reported: Odoo would run the job again within the same limits")
        [trigger] = self.triggers() - triggers
        self.assertLessEqual(trigger.call_at, fields.Datetime.now(), "the job triggers itself to resume at once")

        self.run_queued_imports()
        self.assertFalse(link.import_state)
        for account in link.account_ids.filtered("journal_id"):
            self.assertImportedExactly(account, bank_posted_ids(link, account, account.first_sync_date))
        statuses = [payload["status"] for payload in self.bus_messages(
            "account_online_synchronization/import_progress") if payload["link_id"] == link.id]
        self.assertIn(f"Importing: 0 of 2 accounts, {kept:,} lines so far", statuses)
        lines_seen = [int(status.split(", ")[1].split()[0].replace(",", "")) for status in statuses[1:-1]]
        self.assertEqual(lines_seen, sorted(lines_seen), "the resumed import counts on from the lines kept")
        [summary] = self.env["online.link"].take_import_summaries()
        total = self.StatementLine.search_count([("online_account_id", "in", link.account_ids.ids)])
        self.assertEqual(sum(int(sentence.split(": ")[1].split()[0].replace(",", ""))
                             for sentence in summary["message"].splitlines()), total,
                         "the summary counts the lines of every run of the import")
        self.assertEqual(self.env["online.sync.event"].search_count([("link_id", "=", link.id), ("kind", "=", "sync")]),
                         1, "a resumed import is one synchronization for the storm detection")

    def test_a_run_works_well_within_odoo_time_limits(self):
        budget = self.env["online.link"]._import_time_budget
        with patch.dict(config.options, {"limit_time_real_cron": -1, "limit_time_real": 120, "limit_time_cpu": 60}):
            self.assertEqual(budget(), 30, "a quarter of the real time of a cron job, half its CPU time")
        with patch.dict(config.options, {"limit_time_real_cron": 600, "limit_time_real": 120, "limit_time_cpu": 600}):
            self.assertEqual(budget(), 150, "the limit of cron jobs when set")
        with patch.dict(config.options, {"limit_time_real_cron": 0, "limit_time_real": 0, "limit_time_cpu": 0}):
            self.assertIsNone(budget(), "no limit, no pause")

    def test_chunks_grow_while_the_run_has_time_and_shrink_near_its_end(self):
        """A run of the import job starts with a small chunk, then takes what fits in half the time left."""
        link = self.env["online.link"]
        self.assertEqual(link._chunk_size(), online_account.CHUNK_SIZE, "no time budget: the largest chunks")
        soon = link.with_context(online_sync_deadline=time.monotonic() + 2)
        self.assertEqual(soon._chunk_size(), BACKGROUND_CHUNK_SIZE, "the pace is not known yet")
        self.assertEqual(soon._chunk_size(50, 0.05), online_account.CHUNK_SIZE, "1 s left at 1 ms a line: at most 500")
        self.assertIn(soon._chunk_size(500, 5.0), (99, 100), "1 s left at 10 ms a line: 100 lines")
        late = link.with_context(online_sync_deadline=time.monotonic() - 1)
        self.assertEqual(late._chunk_size(500, 5.0), BACKGROUND_CHUNK_SIZE, "never below the first chunk's size")

        self.patch(online_account, "CHUNK_SIZE", 100)
        wizard = self.accounts_wizard(accounts=("Current Account",))
        tokens = wizard.link_id._get_tokens()
        wizard.link_id._set_tokens(dict(tokens, daily_volume=8))  # 480 lines on average, never near 250
        wizard.action_confirm()
        with patch.dict(config.options, {"limit_time_real_cron": -1, "limit_time_real": 120, "limit_time_cpu": 60}):
            self.run_queued_imports()
        imported = len(self.lines_of(wizard.link_id.account_ids.filtered("journal_id")))
        self.assertGreater(imported, BACKGROUND_CHUNK_SIZE + 200)
        statuses = [payload["status"] for payload in self.bus_messages("account_online_synchronization/import_progress")
                    if payload["link_id"] == wizard.link_id.id and payload["status"]]
        counts = [int(status.split(", ")[1].split()[0].replace(",", "")) for status in statuses
                  if "lines so far" in status]
        first = BACKGROUND_CHUNK_SIZE
        self.assertEqual([count for count in counts if count][:3], [first, first + 100, first + 200],
                         "a small first chunk, then the largest while 30 s of budget are left")

    def test_only_the_user_who_started_the_import_gets_its_summary(self):
        manager = new_test_user(self.env, "summary_manager", groups="account.group_account_manager")
        accountant = new_test_user(self.env, "summary_accountant", groups="account.group_account_user")
        wizard = self.accounts_wizard(user=manager)
        wizard.action_confirm()
        link = wizard.link_id
        self.run_queued_imports()
        self.assertFalse(self.env["online.link"].with_user(accountant).take_import_summaries())
        for field, value in (("import_summary_user_id", accountant.id), ("import_summary", False)):
            with self.assertRaises(AccessError, msg=field):
                link.with_user(manager).write({field: value})
        [summary] = self.env["online.link"].with_user(manager).take_import_summaries()
        self.assertEqual(summary["title"], "Import from Sandbox Bank done")

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


@tagged("post_install", "-at_install", "online_sync")
class TestImportSummaryInBrowser(TourCase):
    """The user who started an import sees its summary once, though the bus is not connected.

    Odoo serves no websocket in test mode, as a server in workers mode whose
    /websocket is not routed to its gevent port: the connection's form is what
    notices the end.
    """

    def queue_import(self, user):
        wizard = self.env["online.link.connect"].with_user(user).create({"phone": TEST_PHONE})
        choose_bank(wizard, "sandbox_bank").action_connect()
        for line in wizard.account_line_ids:
            line.action = "new" if line.name in ("Current Account", "Business Account USD") else "skip"
        wizard.first_sync_date = date.today() - timedelta(days=20)
        wizard.action_confirm()
        return wizard.link_id

    def see_summary(self, url, title, sentences, link=None, screenshot=""):
        """Open ``url`` as the admin; pass when the summary titled ``title`` shows, with ``sentences``, once.

        With ``link``, run the import job as the scheduler would while the page is open, until it ends;
        with ``screenshot``, the page showing the summary is saved under that name (see tour_case).
        """
        cron = self.env.ref(IMPORT_CRON)
        job = link and f"""
            const call = async (model, method, args) => (await (await fetch(`/web/dataset/call_kw/${{model}}/${{method}}`, {{
                method: "POST", headers: {{"Content-Type": "application/json"}},
                body: JSON.stringify({{jsonrpc: "2.0", method: "call", params: {{model, method, args, kwargs: {{}}}}}}),
            }})).json()).result;
            (async () => {{
                // Run the job again while the import goes on, as the scheduler does when it triggers itself.
                do {{
                    await call("ir.cron", "method_direct_trigger", [[{cron.id}]]);
                }} while ((await call("online.link", "read", [[{link.id}], ["import_state"]]))[0].import_state);
            }})();
        """
        code = (job or "") + f"""
            const summaries = () => [...document.querySelectorAll(".o_notification")]
                .filter((notification) => notification.textContent.includes({json.dumps(title)}));
            const deadline = Date.now() + 60000;
            (function wait() {{
                if (summaries().length && !document.querySelector(".o_online_import_progress")) {{
                    if ({json.dumps(screenshot)}) {{
                        // Once the summary has slid in and the form has loaded what the import brought.
                        setTimeout(() => console.log({json.dumps(SIGNAL + screenshot)}), 1500);
                    }}
                    // A few more reads of the form: the summary is not shown again.
                    setTimeout(() => {{
                        const shown = summaries().map((summary) => summary.innerText);
                        const missing = {json.dumps(sentences)}.filter((sentence) => !shown[0].includes(sentence));
                        if (shown.length !== 1 || missing.length) {{
                            console.error(`summaries shown: ${{JSON.stringify(shown)}}, missing: ${{missing}}`);
                        }} else {{
                            console.log("test successful");
                        }}
                    }}, 7000);
                }} else if (Date.now() > deadline) {{
                    console.error("no summary");
                }} else {{
                    setTimeout(wait, 200);
                }}
            }})();
        """
        ready = link and "!!document.querySelector('.o_online_import_progress')"
        self.browser_js(url, code, ready=ready or "", login="admin", timeout=90)
        self.assertFalse(self.env["online.link"].with_user(self.env.ref("base.user_admin")).take_import_summaries())

    def watch_the_import(self, link, title, sentences, screenshot=""):
        """Open the connection while its import runs."""
        self.see_summary(f"/odoo/action-account_online_synchronization.action_online_link/{link.id}", title,
                         sentences, link=link, screenshot=screenshot)
        self.assertFalse(link.import_state)

    def test_the_summary_reaches_the_user_once(self):
        link = self.queue_import(self.env.ref("base.user_admin"))
        accounts = link.account_ids.filtered("journal_id")
        self.watch_the_import(link, "Import from Sandbox Bank done", [
            f"{account.name}: {len(bank_posted_ids(link, account, account.first_sync_date)):,} new lines in "
            f"{account.journal_id.name}, booked" for account in accounts
        ], screenshot="connection_import_summary")

    def test_a_failure_says_what_is_kept_and_that_the_next_run_resumes(self):
        link = self.queue_import(self.env.ref("base.user_admin"))
        usd = link.account_ids.filtered(lambda a: a.name == "Business Account USD")
        usd.journal_id.currency_id = self.env.ref("base.EUR").id
        self.watch_the_import(link, "Import from Sandbox Bank failed", [
            "Business Account USD: no new line",
            "The lines imported are kept; the next synchronization resumes where this one stopped.",
        ])

    def test_a_summary_that_ended_unseen_shows_when_the_web_client_starts(self):
        link = self.queue_import(self.env.ref("base.user_admin"))
        run_queued_imports(self.env)
        self.see_summary("/odoo", "Import from Sandbox Bank done", [
            f"{account.name}: " for account in link.account_ids.filtered("journal_id")
        ])
