from datetime import date, timedelta

from freezegun import freeze_time

from odoo.tests import tagged

from online_sync_case import OnlineSyncCase, bank_posted_ids

from odoo.addons.account_online_synchronization.providers import InstitutionUnavailable, ReauthRequired

TODAY = date(2026, 3, 18)


@tagged("post_install", "-at_install", "online_sync")
class TestErrorScenarios(OnlineSyncCase):

    def run_scenario(self, scenario, expected_state, expected_text, unattended=True):
        with freeze_time(TODAY):
            link = self.connect(volume=2, first_sync_date=TODAY - timedelta(days=10))
        account = link.account_ids.filtered("journal_id")
        before = self.lines_of(account)
        link.sandbox_scenario = scenario
        messages_before = len(link.message_ids)
        with freeze_time(TODAY + timedelta(days=4)):
            if unattended:
                self.env["online.link"]._cron_fetch_online_transactions()
            else:
                result = link.action_fetch_transactions()
                self.assertEqual(result["params"]["type"], "warning")
                self.assertIn(link.error_reference, result["params"]["message"])
        self.assertEqual(link.state, expected_state)
        self.assertEqual(self.lines_of(account), before, "nothing imported while failing")
        self.assertEqual(account.last_sync, TODAY, "the synchronized date does not move on failure")
        self.assertTrue(link.error_reference.startswith("OBS-"))
        new_messages = link.message_ids[: len(link.message_ids) - messages_before]
        self.assertEqual(len(new_messages), 1)
        self.assertIn(expected_text, new_messages.body)
        self.assertIn(link.error_reference, new_messages.body)
        return link, account

    def recover(self, link, account, fix):
        fix()
        with freeze_time(TODAY + timedelta(days=5)):
            link.action_fetch_transactions()
            self.assertImportedExactly(account, bank_posted_ids(link, account, TODAY - timedelta(days=10)))
        self.assertEqual(link.state, "connected")
        self.assertFalse(link.error_code)
        self.assertIn("works again", " ".join(self.chatter(link)[:3]))

    def test_consent_expired_requires_reconnect(self):
        link, account = self.run_scenario("consent_expired", "action_required", "Reconnect")
        self.recover(link, account, link.action_reconnect)

    def test_consent_expires_after_180_days_and_reconnect_renews_it(self):
        with freeze_time(TODAY):
            link = self.connect(volume=1, first_sync_date=TODAY)
        self.assertEqual(link.consent_expiry.date(), TODAY + timedelta(days=180))
        with freeze_time(TODAY + timedelta(days=180)):
            self.env["online.link"]._cron_fetch_online_transactions()
            self.assertEqual(link.state, "action_required")
            self.assertIn("expired on", link.error_message)
            self.assertIn("Reconnect", link.message_ids[0].body)
            link.action_reconnect()
            self.assertEqual(link.consent_expiry.date(), TODAY + timedelta(days=360))
            link.action_fetch_transactions()
            self.run_queued_imports()
        self.assertEqual(link.state, "connected")
        self.assertEqual(link.account_ids.filtered("journal_id").last_sync, TODAY + timedelta(days=180))

    def test_mfa_blocks_the_cron_but_not_a_manual_sync(self):
        link, account = self.run_scenario("mfa", "action_required", "security code")
        with freeze_time(TODAY + timedelta(days=5)):
            self.env["online.link"]._cron_fetch_online_transactions()
        self.assertEqual(link.state, "action_required", "the cron leaves links needing the user alone")
        self.recover(link, account, lambda: None)  # a manual sync answers the bank's code

    def test_rate_limited_is_transient_and_not_repeated(self):
        link, account = self.run_scenario("rate_limited", "retrying", "limits how often")
        count = len(link.message_ids)
        with freeze_time(TODAY + timedelta(days=4, hours=13)):
            self.env["online.link"]._cron_fetch_online_transactions()
        self.assertEqual(link.state, "retrying")
        self.assertEqual(len(link.message_ids), count, "the same transient error is not posted twice")
        self.recover(link, account, lambda: setattr(link, "sandbox_scenario", "normal"))

    def test_bank_down_then_catch_up(self):
        link, account = self.run_scenario("down", "retrying", "temporarily unavailable", unattended=False)
        self.recover(link, account, lambda: setattr(link, "sandbox_scenario", "normal"))

    def test_error_told_once_with_advice_not_repeating_the_message(self):
        link = self.connect(volume=1)
        before = link.message_ids
        error = InstitutionUnavailable("Sandbox Bank is down. The next run will try again.")
        link._handle_sync_error(error)
        reference = link.error_reference
        link._handle_sync_error(InstitutionUnavailable("Sandbox Bank is still down. The next run will try again."))
        link._handle_sync_error(ReauthRequired("Your consent at Sandbox Bank has expired."))
        link._handle_sync_error(ReauthRequired("Your consent at Sandbox Bank has expired."))
        told = link.message_ids - before
        self.assertEqual(len(told), 2, "one message per streak of the same error")
        self.assertEqual(told.sorted("id")[0].body.count("The next run will try again."), 1)
        self.assertIn(reference, told.sorted("id")[0].body)
        self.assertNotEqual(link.error_reference, reference, "a different error starts a new streak")

    def test_one_failing_link_does_not_stop_the_others(self):
        with freeze_time(TODAY):
            failing = self.connect(volume=2, first_sync_date=TODAY)
            working = self.connect(volume=2, first_sync_date=TODAY)
        failing.sandbox_scenario = "down"
        with freeze_time(TODAY + timedelta(days=3)):
            self.env["online.link"]._cron_fetch_online_transactions()
        self.assertEqual(failing.state, "retrying")
        self.assertEqual(working.state, "connected")
        self.assertEqual(working.account_ids.filtered("journal_id").last_sync, TODAY + timedelta(days=3))

    def test_unknown_currency_stops_the_account_with_a_reference(self):
        link = self.connect(volume=3, accounts=())
        account = link.account_ids.filtered(lambda a: a.name == "Current Account")
        account._link_to_journal(None, date.today() - timedelta(days=30))
        self.env["res.currency"].with_context(active_test=False).search([("name", "=", "GBP")]).name = "GBX"
        link.action_fetch_transactions()
        self.run_queued_imports()
        self.assertEqual(link.state, "error")
        self.assertIn("unknown currency code: GBP", link.error_message)
        self.assertIn(link.error_reference, link.message_ids[0].body)
        self.assertFalse(account.last_sync)

    def test_one_failing_account_does_not_stop_the_others(self):
        link = self.connect(volume=2, accounts=())
        current, savings = (link.account_ids.filtered(lambda a: a.name == n) for n in ("Current Account", "Savings Account"))
        current._link_to_journal(None, date.today() - timedelta(days=20))
        savings._link_to_journal(None, date.today() - timedelta(days=20)).currency_id = False  # now in the company's USD
        link.action_fetch_transactions()
        self.run_queued_imports()
        self.assertEqual(link.state, "error")
        self.assertIn("Savings Account: ", link.error_message)
        self.assertIn("is in EUR", link.error_message)
        self.assertFalse(self.lines_of(savings))
        self.assertFalse(savings.last_sync)
        self.assertImportedExactly(current, bank_posted_ids(link, current, date.today() - timedelta(days=20)))
        self.assertEqual(current.last_sync, date.today())
