"""The run log: one record per account synchronization, and one alarm when scheduled runs keep failing."""
from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from online_sync_case import OnlineSyncCase, bank_posted_ids, click

TODAY = date(2026, 3, 18)


@tagged("post_install", "-at_install", "online_sync")
class TestSyncRuns(OnlineSyncCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(cls.env, "runs_manager", email="runs.manager@example.com",
                                    groups="base.group_user,account.group_account_manager")
        cls.accountant = new_test_user(cls.env, "runs_accountant", groups="base.group_user,account.group_account_user")
        cls.other_company = cls.env["res.company"].create({"name": "Other Company"})
        cls.outsider = new_test_user(cls.env, "runs_outsider", groups="base.group_user,account.group_account_manager",
                                     company_id=cls.other_company.id, company_ids=[cls.other_company.id])

    def last_run(self, link):
        return self.env["online.sync.run"].search([("link_id", "=", link.id)], limit=1)

    def cron(self, when):
        with freeze_time(when):
            self.env["online.link"]._cron_fetch_online_transactions()

    def alarms(self, link):
        return self.env["mail.mail"].sudo().search([
            ("model", "=", "online.link"), ("res_id", "=", link.id), ("subject", "like", "failed in a row"),
        ])

    def test_each_account_synchronization_writes_one_run(self):
        first = TODAY - timedelta(days=10)
        with freeze_time(TODAY):
            link = self.connect(accounts=("Current Account", "Savings Account"), first_sync_date=first, volume=3)
        accounts = link.account_ids.filtered("journal_id")
        runs = link.run_ids
        self.assertEqual(runs.account_id, accounts, "one run per synchronized account")
        for run in runs:
            self.assertEqual((run.trigger, run.user_id, run.state), ("background", self.env.user, "done"))
            self.assertEqual((run.date_from, run.date_to), (first, TODAY))
            self.assertEqual(run.new_count, len(self.lines_of(run.account_id)))
            self.assertEqual(run.known_count, 0)
            with freeze_time(TODAY):
                posted = bank_posted_ids(link, run.account_id, first)
            self.assertEqual(run.fetched_count, len(posted) + run.pending_count)
            self.assertEqual(run.new_count + run.ignored_count, len(posted))

        later = datetime.combine(TODAY + timedelta(days=1), datetime.min.time()) + timedelta(hours=9)
        lines_before = {account: len(self.lines_of(account)) for account in accounts}
        self.cron(later)
        scheduled = link.run_ids - runs
        self.assertEqual(len(scheduled), 2)
        for run in scheduled:
            self.assertEqual((run.trigger, run.user_id, run.state), ("scheduler", self.env["res.users"], "done"))
            self.assertEqual(run.started, later)
            self.assertEqual(run.new_count, len(self.lines_of(run.account_id)) - lines_before[run.account_id])
            with freeze_time(later):
                posted = bank_posted_ids(link, run.account_id, run.date_from)
            self.assertEqual(run.known_count + run.new_count + run.ignored_count, len(posted))
        self.assertEqual(link.run_count, 4)
        action = link.action_open_runs()
        self.assertEqual(self.env["online.sync.run"].search(action["domain"]), link.run_ids)

    def test_a_failed_run_carries_the_reference_told_in_the_chatter(self):
        with freeze_time(TODAY):
            link = self.connect(first_sync_date=TODAY)
        link.sandbox_scenario = "down"
        self.cron(TODAY + timedelta(days=1))
        run = self.last_run(link)
        self.assertEqual((run.state, run.trigger), ("failed", "scheduler"))
        self.assertTrue(run.error_reference.startswith("OBS-"))
        self.assertEqual(run.error_reference, link.error_reference)
        self.assertIn("temporarily unavailable", run.error_message)
        self.assertIn(run.error_reference, link.message_ids[0].body)

        link.sandbox_scenario = "consent_expired"
        with freeze_time(TODAY + timedelta(days=2)):
            click(self.env, link.action_fetch_transactions)
        run = self.last_run(link)
        self.assertEqual((run.state, run.trigger, run.user_id), ("failed", "user", self.env.user))
        self.assertEqual(run.error_reference, link.error_reference)

    def test_accountants_read_runs_of_their_companies_only_and_write_none(self):
        with freeze_time(TODAY):
            link = self.connect(first_sync_date=TODAY)
        run = link.run_ids[:1]
        self.assertEqual(link.with_user(self.accountant).run_ids, run.with_user(self.accountant))
        self.assertTrue(run.with_user(self.accountant).fetched_count >= 0)
        for user in (self.accountant, self.manager):
            with self.assertRaises(AccessError):
                run.with_user(user).write({"new_count": 99})
            with self.assertRaises(AccessError):
                run.with_user(user).unlink()
            with self.assertRaises(AccessError):
                self.env["online.sync.run"].with_user(user).create({
                    "link_id": link.id, "company_id": self.company.id, "started": datetime.now(),
                    "trigger": "user", "state": "done",
                })
        self.assertFalse(self.env["online.sync.run"].with_user(self.outsider).search([]))
        with self.assertRaises(AccessError):
            run.with_user(self.outsider).read(["new_count"])

    def test_runs_are_kept_90_days(self):
        with freeze_time(TODAY):
            link = self.connect(first_sync_date=TODAY)
        old, recent = self.env["online.sync.run"].sudo().create([{
            "link_id": link.id, "company_id": self.company.id, "started": datetime.now() - timedelta(days=days),
            "trigger": "scheduler", "state": "done",
        } for days in (91, 89)])
        self.env["online.sync.run"]._gc_old_runs()
        self.assertFalse(old.exists())
        self.assertTrue(recent.exists())

    def test_managers_get_one_alarm_after_three_failed_scheduled_runs(self):
        with freeze_time(TODAY):
            link = self.connect(first_sync_date=TODAY)
        link.sandbox_scenario = "down"
        start = datetime.combine(TODAY + timedelta(days=1), datetime.min.time())
        for run in range(2):
            self.cron(start + timedelta(hours=13 * run))
        # A user's failed click is not a scheduled run.
        with freeze_time(start + timedelta(hours=14)):
            click(self.env, link.action_fetch_transactions)
        self.assertEqual((link.unattended_failures, self.alarms(link)), (2, self.env["mail.mail"]))
        self.cron(start + timedelta(hours=26))
        [alarm] = self.alarms(link)
        self.assertEqual(alarm.subject, "Sandbox Bank: 3 scheduled synchronizations failed in a row")
        self.assertIn(f"Reference: {link.error_reference}", alarm.body_html)
        self.assertIn("Sandbox Bank is temporarily unavailable.", alarm.body_html)
        self.assertIn("What to do: The next run will try again.", alarm.body_html)
        self.assertIn(self.manager.partner_id, alarm.recipient_ids)
        self.assertNotIn(self.accountant.partner_id, alarm.recipient_ids)
        self.assertNotIn(self.outsider.partner_id, alarm.recipient_ids)
        for run in range(3, 6):
            self.cron(start + timedelta(hours=13 * run))
        self.assertEqual(len(self.alarms(link)), 1, "one e-mail, not one per run")

        # Once it works again, a new streak alarms again.
        link.sandbox_scenario = "normal"
        self.cron(start + timedelta(hours=13 * 6))
        self.assertEqual((link.state, link.unattended_failures), ("connected", 0))
        link.sandbox_scenario = "down"
        for run in range(7, 10):
            self.cron(start + timedelta(hours=13 * run))
        self.assertEqual(len(self.alarms(link)), 2)

    def test_a_renewed_consent_ends_the_streak_of_failed_runs(self):
        with freeze_time(TODAY):
            link = self.connect(first_sync_date=TODAY)
        link.sandbox_scenario = "consent_expired"
        self.cron(TODAY + timedelta(days=1))
        self.assertEqual(link.unattended_failures, 1)
        with freeze_time(TODAY + timedelta(days=1, hours=1)):
            click(self.env, link.action_reconnect)
        self.assertEqual((link.state, link.unattended_failures), ("connected", 0))

    def test_the_number_of_failed_runs_is_a_company_setting(self):
        self.company.online_sync_failure_alarm_runs = 1
        with freeze_time(TODAY):
            link = self.connect(first_sync_date=TODAY)
        link.sandbox_scenario = "down"
        self.cron(TODAY + timedelta(days=1))
        self.assertEqual(len(self.alarms(link)), 1)
