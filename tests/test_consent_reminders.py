"""Consent reminders: the accounting managers are told before a bank consent ends, and renewing early keeps all."""
from datetime import date, timedelta

from freezegun import freeze_time
from lxml import etree

from odoo.tests import HttpCase, new_test_user, tagged

from online_sync_case import TEST_PHONE, OnlineSyncCase, choose_bank, run_queued_imports

TODAY = date(2026, 3, 18)
ENDS = TODAY + timedelta(days=10)


@tagged("post_install", "-at_install", "online_sync")
class TestConsentReminders(OnlineSyncCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(cls.env, "consent_manager", email="manager@example.com",
                                    groups="base.group_user,account.group_account_manager")
        cls.accountant = new_test_user(cls.env, "consent_accountant", email="accountant@example.com",
                                       groups="base.group_user,account.group_account_user")

    def connect_ending(self):
        """A connection whose consent, given 170 days ago, ends in 10 days (the sandbox's ``consent_ending``)."""
        with freeze_time(TODAY):
            link = self.connect(first_sync_date=TODAY - timedelta(days=5), volume=2)
            link.sandbox_scenario = "consent_ending"
            link.action_fetch_transactions()
        return link

    def remind(self, day):
        with freeze_time(day):
            self.env["online.link"]._cron_remind_consent_end()

    def mails(self, link):
        return self.env["mail.mail"].sudo().search([("model", "=", "online.link"), ("res_id", "=", link.id)],
                                                  order="id")

    def reminders(self, link):
        return link.activity_ids.filtered(
            lambda activity: activity.activity_type_id.get_external_id()[activity.activity_type_id.id]
            == "account_online_synchronization.mail_activity_type_consent_renewal")

    def test_managers_are_reminded_at_the_delay_then_at_three_days_once_each(self):
        link = self.connect_ending()
        self.assertEqual(link.consent_expiry.date(), ENDS)
        with freeze_time(TODAY):
            self.assertTrue(link.consent_ending_soon)
            journal = link.account_ids.journal_ids
            self.assertTrue(journal.online_consent_ending_soon)
            self.assertEqual(journal.online_consent_ending_message, "Bank consent ends on 03/28/2026",
                             "the dashboard card tells it")
        self.remind(TODAY)
        [mail] = self.mails(link)
        self.assertEqual(mail.subject, "Bank consent of Sandbox Bank ends on 03/28/2026")
        self.assertIn("ends on 03/28/2026, in 10 days", mail.body_html)
        self.assertIn("click Reconnect", mail.body_html)
        self.assertIn(self.manager.partner_id, mail.recipient_ids)
        self.assertNotIn(self.accountant.partner_id, mail.recipient_ids, "accountants do not manage consents")
        activity = self.reminders(link).filtered(lambda activity: activity.user_id == self.manager)
        self.assertEqual(activity.date_deadline, ENDS)
        self.assertEqual(activity.summary, "Renew the bank consent of Sandbox Bank")
        self.assertFalse(self.reminders(link).filtered(lambda activity: activity.user_id == self.accountant))

        # Not daily: the next days bring nothing until 3 days are left.
        for day in (TODAY, TODAY + timedelta(days=1), TODAY + timedelta(days=6)):
            self.remind(day)
        self.assertEqual(len(self.mails(link)), 1)
        count = len(self.reminders(link))
        self.remind(ENDS - timedelta(days=3))
        last = self.mails(link)[1:]
        self.assertEqual(len(last), 1)
        self.assertIn("in 3 days", last.body_html)
        self.assertEqual(len(self.reminders(link)), count, "the activity is the same one, not a second")
        self.remind(ENDS - timedelta(days=2))
        self.assertEqual(len(self.mails(link)), 2)

    def test_renewing_early_keeps_connection_accounts_journals_and_lines(self):
        link = self.connect_ending()
        self.remind(TODAY)
        account = link.account_ids.filtered("journal_id")
        journal, lines = account.journal_id, self.lines_of(account)
        with freeze_time(TODAY + timedelta(days=2)):
            link.with_user(self.manager).action_reconnect()
            self.assertEqual(link.consent_expiry.date(), TODAY + timedelta(days=2 + 180), "the longest consent again")
            self.assertFalse(link.consent_ending_soon)
        self.assertEqual((link.state, account.journal_id, self.lines_of(account)), ("connected", journal, lines))
        self.assertFalse(self.reminders(link), "the reminder is done")
        self.assertEqual(link.sandbox_scenario, "normal")
        # The new consent ends in 180 days: no reminder before then.
        self.remind(TODAY + timedelta(days=10))
        self.assertEqual(len(self.mails(link)), 1)

    def test_the_delay_is_a_company_setting(self):
        admin = new_test_user(self.env, "consent_admin", groups="base.group_system,account.group_account_manager")
        self.assertFalse(admin.has_group("account.group_account_user"))
        arch = self.env["res.config.settings"].with_user(admin).get_views([(False, "form")])["views"]["form"]
        self.assertIn('name="online_sync_consent_reminder_days"', arch["arch"],
                      "administrators without full accounting features see it")
        settings = self.env["res.config.settings"].create({"online_sync_consent_reminder_days": 5})
        settings.execute()
        self.assertEqual(self.company.online_sync_consent_reminder_days, 5)
        link = self.connect_ending()
        self.remind(TODAY)
        self.assertFalse(self.mails(link), "10 days left, the company wants 5")
        with freeze_time(TODAY):
            self.assertFalse(link.consent_ending_soon)
        self.remind(ENDS - timedelta(days=5))
        self.assertEqual(len(self.mails(link)), 1)

    def test_dashboard_card_offers_reconnect_to_managers(self):
        arch = self.env["account.journal"].with_user(self.manager).get_views(
            [(self.env.ref("account.account_journal_dashboard_kanban_view").id, "kanban")])["views"]["kanban"]["arch"]
        card = etree.fromstring(arch).xpath("//div[hasclass('o_online_consent_ending')]")[0]
        self.assertTrue(card.xpath(".//t[@t-out='record.online_consent_ending_message.value']"))
        self.assertTrue(card.xpath(".//a[@name='action_reconnect_online_link']"))
        arch = self.env["account.journal"].with_user(self.accountant).get_views(
            [(self.env.ref("account.account_journal_dashboard_kanban_view").id, "kanban")])["views"]["kanban"]["arch"]
        card = etree.fromstring(arch).xpath("//div[hasclass('o_online_consent_ending')]")[0]
        self.assertFalse(card.xpath(".//a[@name='action_reconnect_online_link']"), "only managers reconnect")

    def test_users_cannot_write_the_reminder_state(self):
        link = self.connect_ending()
        for user in (self.manager, self.accountant):
            with self.assertRaises(Exception):
                link.with_user(user).write({"consent_reminder": "last"})


@tagged("post_install", "-at_install", "online_sync")
class TestReconnectFromTheDashboard(HttpCase):
    """An accounting manager renews an ending consent from the journal's dashboard card, in the browser."""

    def test_reconnect_link_on_the_card_renews_the_consent(self):
        env = self.env(user=self.env.ref("base.user_admin"))
        wizard = env["online.link.connect"].create({"phone": TEST_PHONE})
        choose_bank(wizard, "sandbox_bank").action_connect()
        link = wizard.link_id
        for line in wizard.account_line_ids:
            line.action = "new" if line.name == "Current Account" else "skip"
        wizard.first_sync_date = date.today() - timedelta(days=3)
        wizard.action_confirm()
        run_queued_imports(env)
        link.sandbox_scenario = "consent_ending"
        link.sudo()._fetch_transactions(unattended=False)
        self.assertEqual(link.consent_expiry.date(), date.today() + timedelta(days=10))
        lines = env["account.bank.statement.line"].search([("online_account_id", "in", link.account_ids.ids)])
        code = """
            const until = (test) => new Promise((resolve, reject) => {
                const started = Date.now();
                const poll = () => {
                    const found = test();
                    if (found) { resolve(found); }
                    else if (Date.now() - started > 20000) { reject(new Error("not found: " + test)); }
                    else { setTimeout(poll, 100); }
                };
                poll();
            });
            (async () => {
                const card = await until(() => document.querySelector(".o_online_consent_ending"));
                const ends = card.textContent.replace(/\\s+/g, " ");
                if (!ends.includes("Bank consent ends on") || !ends.includes("Reconnect")) {
                    throw new Error("card says: " + ends);
                }
                card.querySelector("a[name='action_reconnect_online_link']").click();
                await until(() => [...document.querySelectorAll(".o_notification")].find(
                    (notification) => notification.textContent.includes("Consent renewed at Sandbox Bank.")));
                console.log("test successful");
            })().catch((error) => console.error(error.message));
        """
        self.browser_js("/odoo/action-account.open_account_journal_dashboard_kanban", code, login="admin",
                        timeout=60)
        self.assertEqual(link.consent_expiry.date(), date.today() + timedelta(days=180))
        self.assertEqual(link.state, "connected")
        self.assertEqual(
            env["account.bank.statement.line"].search([("online_account_id", "in", link.account_ids.ids)]), lines,
            "the lines stay",
        )
