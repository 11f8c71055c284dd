"""Quota-aware scheduling: the scheduler never calls a bank before the time its aggregator allows."""
from datetime import date, datetime, timedelta

from fakes.gocardless import FakeGoCardless
from freezegun import freeze_time

from odoo.tests import TransactionCase, tagged

from odoo.addons.account_online_synchronization.providers.errors import RateLimited

from online_sync_case import OnlineSyncCase, click, run_queued_imports

TODAY = date(2026, 3, 18)
MORNING = datetime.combine(TODAY + timedelta(days=1), datetime.min.time()) + timedelta(hours=1)
MIDNIGHT = datetime.combine(TODAY + timedelta(days=2), datetime.min.time())


@tagged("post_install", "-at_install", "online_sync")
class TestRefreshLimits(OnlineSyncCase):

    def runs(self, link):
        return self.env["online.sync.run"].search([("link_id", "=", link.id)])

    def cron(self, when):
        with freeze_time(when):
            self.env["online.link"]._cron_fetch_online_transactions()

    def test_scheduler_waits_for_the_daily_quota_and_a_user_still_refreshes(self):
        with freeze_time(TODAY):
            link = self.connect(first_sync_date=TODAY - timedelta(days=3))
        link.sandbox_scenario = "quota"
        for hour in range(4):
            self.cron(MORNING + timedelta(hours=2 * hour))
        scheduled = self.runs(link).filtered(lambda run: run.trigger == "scheduler").sorted("started")
        self.assertEqual(scheduled.mapped("quota_remaining"), [3, 2, 1, 0], "each run logs the quota the bank tells")
        self.assertTrue(all(scheduled.mapped("quota_told")))
        self.assertEqual(scheduled[-1].next_allowed_refresh, MIDNIGHT)
        self.assertEqual(link.next_allowed_refresh, MIDNIGHT)
        with freeze_time(MORNING + timedelta(hours=7)):
            link.invalidate_recordset(["next_allowed_refresh_text"])
            local = link.next_allowed_refresh_text
        self.assertRegex(local, r"^Next allowed refresh (at|on .+ at) \d\d:\d\d$")

        attempt = link.last_attempt
        self.cron(MORNING + timedelta(hours=9))
        self.assertEqual(link.last_attempt, attempt, "the scheduler does not call the bank before it allows")
        self.assertEqual(link.state, "connected")

        # PSD2 counts unattended refreshes only: the user may still refresh.
        with freeze_time(MORNING + timedelta(hours=10)):
            click(self.env, link.action_fetch_transactions)
        self.assertEqual(link.state, "connected")
        self.assertEqual(self.runs(link)[0].trigger, "user")
        self.assertEqual(link.next_allowed_refresh, MIDNIGHT, "the user's refresh leaves the scheduler waiting")

        self.cron(MIDNIGHT + timedelta(hours=1))
        self.assertEqual(link.last_attempt, MIDNIGHT + timedelta(hours=1))
        self.assertEqual(self.runs(link)[0].quota_remaining, 3)
        self.assertFalse(link.next_allowed_refresh)

    def test_scheduler_honours_retry_after(self):
        with freeze_time(TODAY):
            link = self.connect(first_sync_date=TODAY)
        link.sandbox_scenario = "rate_limited"  # one refresh a day, Retry-After 24 hours
        self.cron(MORNING)
        self.assertEqual(link.error_code, "rate_limited")
        self.assertEqual(link.next_allowed_refresh, MORNING + timedelta(days=1))
        self.assertEqual(self.runs(link)[0].next_allowed_refresh, MORNING + timedelta(days=1))
        self.cron(MORNING + timedelta(hours=13))
        self.assertEqual(link.last_attempt, MORNING, "not before the time the bank gave")
        link.sandbox_scenario = "normal"
        self.cron(MORNING + timedelta(days=1, hours=1))
        self.assertEqual((link.state, link.next_allowed_refresh), ("connected", False))

    def test_users_cannot_set_the_next_allowed_refresh(self):
        with freeze_time(TODAY):
            link = self.connect(first_sync_date=TODAY)
        manager = self.env["res.users"].create({
            "name": "Quota Manager", "login": "quota_manager",
            "groups_id": [(6, 0, [self.env.ref("base.group_user").id,
                                  self.env.ref("account.group_account_manager").id])],
        })
        with self.assertRaises(Exception):
            link.with_user(manager).write({"next_allowed_refresh": datetime(2030, 1, 1)})


@tagged("post_install", "-at_install", "online_sync")
class TestGoCardlessQuota(TransactionCase):
    """The real GoCardless connector against its fake: the bank's daily quota told in its rate-limit headers."""

    def setUp(self):
        super().setUp()
        self.fake = FakeGoCardless().start()
        self.addCleanup(self.fake.stop)
        settings = self.fake.provider_config()
        self.env["online.provider.config"].create({
            "provider": "gocardless", "base_url": settings["base_url"], "client_id": settings["client_id"],
            "client_secret": settings["client_secret"],
        })
        self.env["online.institution"]._refresh_from_provider("gocardless", country="BE")
        institution = self.env["online.institution"].search([
            ("provider", "=", "gocardless"), ("identifier", "=", self.fake.institution_id),
        ])
        consent_model = self.env["online.link.consent"]
        consent, url = consent_model._begin("gocardless", self.env.company, institution=institution)
        params = self.fake.consent(url)
        self.link = consent_model._from_callback(params["state"])._finish(params)
        self.account = self.link.account_ids[:1]
        self.account._link_to_journal(first_sync_date=date.today() - timedelta(days=10))

    def transaction_calls(self):
        return len([r for r in self.fake.requests if r.path.endswith("/transactions/")])

    def test_scheduler_waits_until_the_bank_quota_resets(self):
        self.fake.account_success_limit = 2
        click(self.env, self.link.action_fetch_transactions)
        run_queued_imports(self.env)
        run = self.link.run_ids.filtered(lambda run: run.account_id == self.account)[:1]
        self.assertEqual((run.state, run.quota_told, run.quota_remaining), ("done", True, 1))
        self.assertFalse(self.link.next_allowed_refresh)

        self.link.sudo().last_attempt = datetime.now() - timedelta(hours=2)
        self.env["online.link"]._cron_fetch_online_transactions()
        run = self.env["online.sync.run"].search([("link_id", "=", self.link.id)], limit=1)
        self.assertEqual((run.trigger, run.quota_remaining), ("scheduler", 0))
        tomorrow = datetime.combine(datetime.utcnow().date() + timedelta(days=1), datetime.min.time())
        self.assertAlmostEqual(self.link.next_allowed_refresh, tomorrow, delta=timedelta(minutes=1))

        calls = self.transaction_calls()
        self.link.sudo().last_attempt = datetime.now() - timedelta(hours=2)
        self.env["online.link"]._cron_fetch_online_transactions()
        self.assertEqual(self.transaction_calls(), calls, "no call the bank would refuse")
        self.assertEqual(self.link.state, "connected")


@tagged("post_install", "-at_install", "online_sync")
class TestHostileQuota(OnlineSyncCase):

    def test_an_absurd_retry_time_waits_a_week_at_most(self):
        with freeze_time(TODAY):
            link = self.connect(first_sync_date=TODAY)
            link._handle_sync_error(RateLimited("Try again in a million years.", retry_after=10 ** 18))
        self.assertEqual(link.next_allowed_refresh, datetime.combine(TODAY, datetime.min.time()) + timedelta(days=7))
