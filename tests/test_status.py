"""What a failing connection tells each user, and whom it asks to act."""
from datetime import date, datetime, timedelta

import pytz
from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from online_sync_case import OnlineSyncCase, click

from odoo.addons.account_online_synchronization.providers import ReauthRequired

ACTIVITY_TYPE = "account_online_synchronization.mail_activity_type_online_link_admin"


@tagged("post_install", "-at_install", "online_sync")
class TestStatus(OnlineSyncCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        other_company = cls.env["res.company"].create({"name": "Elsewhere", "currency_id": cls.company.currency_id.id})

        def user(login, groups, company=cls.company):
            return new_test_user(cls.env, login, groups=groups, company_id=company.id, tz="Europe/Brussels",
                                 name=login.replace("_", " ").title(), company_ids=[Command.set(company.ids)])

        cls.accountant = user("status_accountant", "account.group_account_user")
        cls.manager = user("status_manager", "account.group_account_manager")
        cls.other_manager = user("status_other_manager", "account.group_account_manager", other_company)

    def setUp(self):
        super().setUp()
        self.link = self.connect(volume=1, first_sync_date=date.today() - timedelta(days=5))
        self.journal = self.link.account_ids.journal_ids
        self.as_accountant = self.link.with_user(self.accountant)

    def synchronize_as_accountant(self):
        """Click Synchronize Now on the journal's dashboard card as the accountant; return the toast's text."""
        journal = self.journal.with_user(self.accountant)
        return click(journal.env, journal.manual_sync)["params"]["message"]

    def admin_activities(self):
        return self.link.activity_ids.filtered(lambda activity: activity.activity_type_id == self.env.ref(ACTIVITY_TYPE))

    def test_consent_ended_asks_the_administrators_once(self):
        self.link.sandbox_scenario = "consent_expired"
        before = self.link.message_ids
        toasts = [self.synchronize_as_accountant(), self.synchronize_as_accountant()]
        reference = self.link.error_reference
        self.assertEqual(self.link.state, "action_required")
        told = (self.link.message_ids - before).filtered(lambda message: "consent" in (message.body or ""))
        self.assertEqual(len(told), 1, "a second click while it fails posts nothing more")
        self.assertIn(reference, told.body, "the chatter gives the reference shown on the form")
        for toast in toasts:
            self.assertIn(reference, toast, "the toast gives the chatter's reference")
        self.assertEqual(self.journal.online_status_message, self.link.status_message)

        managers = self.link._company_managers()
        self.assertIn(self.manager, managers)
        self.assertNotIn(self.other_manager, managers, "only the administrators of the connection's company")
        self.assertNotIn(self.accountant, managers)
        asked = f"sk an accounting administrator ({', '.join(managers.mapped('name'))})"
        for text in (told.body, self.as_accountant.status_message, toasts[0]):
            self.assertIn(asked, text)
        self.assertNotIn("Reconnect", self.as_accountant.status_message, "the accountant has no Reconnect button")
        self.assertIn("click Reconnect", self.link.with_user(self.manager).status_message)

        activities = self.admin_activities()
        self.assertEqual(activities.user_id, managers, "one activity for each administrator of the company")
        self.assertEqual(len(activities), len(managers))
        self.assertIn(reference, str(activities[0].note))
        self.assertTrue(self.link.consent_expired)
        self.assertIn("Expired", self.link.consent_status)

        self.link.with_user(self.manager).action_reconnect()
        self.assertEqual(self.link.state, "connected")
        self.assertFalse(self.admin_activities(), "fixed: the administrators have nothing left to do")

        self.link.sandbox_scenario = "consent_expired"
        self.synchronize_as_accountant()
        self.assertNotEqual(self.link.error_reference, reference, "a new streak")
        self.assertEqual(len(self.admin_activities()), len(managers), "a new streak, a new activity each")

    def test_a_failure_the_accountant_can_fix_gives_no_activity(self):
        self.link.sandbox_scenario = "mfa"
        self.env["online.link"]._cron_fetch_online_transactions()
        self.assertEqual(self.link.state, "action_required")
        self.assertIn("click Synchronize Now", self.as_accountant.status_message)
        self.assertFalse(self.admin_activities())

    def test_mfa_scenario_meets_the_next_scheduled_run(self):
        self.synchronize_as_accountant()
        self.assertTrue(self.link.last_attempt, "just tried: the scheduler would leave it alone for an hour")
        cron = self.env.ref("account_online_synchronization.ir_cron_fetch_online_transactions")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.link.with_user(self.manager).sandbox_scenario = "mfa"
        self.assertGreater(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers,
                           "the scheduled synchronization runs at once")
        self.env["online.link"]._cron_fetch_online_transactions()
        self.assertEqual((self.link.state, self.link.error_code), ("action_required", "mfa_required"))
        self.assertIn("security code", self.link.message_ids[0].body)
        self.synchronize_as_accountant()  # the user present answers the bank's code
        self.assertEqual(self.link.state, "connected")

    def test_rate_limit_is_a_warning_with_the_retry_time(self):
        last_refresh = self.link.last_refresh
        self.link.sandbox_scenario = "rate_limited"
        with freeze_time(datetime.now() + timedelta(minutes=5)):
            self.env["online.link"]._cron_fetch_online_transactions()
        self.assertEqual(self.link.state, "retrying", "not an error: the scheduler retries by itself")
        self.assertEqual(self.link.last_refresh, last_refresh, "the last successful synchronization stays shown")
        self.assertGreaterEqual(self.link.retry_time, self.link.next_allowed_refresh, "the bank asked to wait a day")
        local = pytz.utc.localize(self.link.retry_time).astimezone(pytz.timezone("Europe/Brussels"))
        self.assertIn(f"at {local:%H:%M}", self.as_accountant.status_message)
        self.assertIn("will retry on", self.as_accountant.status_message, "tomorrow: the day is told too")
        self.assertEqual(self.journal.with_user(self.accountant).online_status_message,
                         self.as_accountant.status_message)

        attempt = self.link.last_attempt
        with freeze_time(self.link.next_allowed_refresh - timedelta(hours=1)):
            self.env["online.link"]._cron_fetch_online_transactions()
        self.assertEqual(self.link.last_attempt, attempt, "no refresh before the time the bank gave")
        with freeze_time(self.link.next_allowed_refresh + timedelta(minutes=1)):
            self.env["online.link"]._cron_fetch_online_transactions()
        self.assertGreater(self.link.last_attempt, attempt)

    def test_bank_down_says_when_it_retries(self):
        self.link.sandbox_scenario = "down"
        toast = self.synchronize_as_accountant()
        self.assertEqual(self.link.state, "retrying")
        self.assertIn("temporarily unavailable: will retry", toast)
        self.assertFalse(self.admin_activities())

    def test_consent_past_its_date_shows_expired(self):
        granted = date.today() - timedelta(days=200)
        self.link._set_tokens(dict(self.link._get_tokens(), consent_granted_on=granted.isoformat()))
        self.assertLess(self.link.consent_expiry, fields.Datetime.now())
        self.assertTrue(self.link.consent_expired)
        self.assertTrue(self.link.consent_status.startswith("Expired on"))

    def test_hostile_texts_stay_text_in_the_activity(self):
        self.manager.name = "<b>Boss</b>"
        self.link._handle_sync_error(ReauthRequired('<img src="x" onerror="alert(1)"> consent ended.'))
        activity = self.admin_activities().filtered(lambda activity: activity.user_id == self.manager)
        self.assertIn('<img src="x"', activity.summary, "plain text, shown escaped")
        self.assertIn("&lt;b&gt;Boss&lt;/b&gt;", str(activity.note))
        self.assertNotIn("<b>Boss", str(activity.note))

    def test_users_cannot_set_the_status_fields(self):
        for user in (self.accountant, self.manager):
            for vals in ({"error_needs_manager": False}, {"next_allowed_refresh": fields.Datetime.now()}):
                with self.assertRaises(AccessError):
                    self.link.with_user(user).write(vals)
