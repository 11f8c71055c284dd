"""What real aggregators do to a connection, through the Odoo flow: late bookings, cancelled consents,
repeated failures, reconnections that change ids, the user's presence. ``ResilienceFlow`` is mixed into
the GoCardless and Enable Banking flows of test_aggregators.py, whose fakes can express all these
scenarios; the other connectors take the parts their fakes express (test_aggregator_recovery.py)."""
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user

from online_sync_case import run_queued_imports

LATE = date.today() - timedelta(days=14)
#: The headers of the browser a user clicks from.
BROWSER = {"User-Agent": "Mozilla/5.0 Firefox/128.0", "Accept-Language": "fi-FI,fi;q=0.9"}


class LateBookingFlow:
    """Needs the steps of ``AggregatorFlow`` (``connect``, ``imported``...)."""

    #: The booking date the aggregator reports for a transaction made on ``LATE`` and booked late.
    booked_late = LATE

    def book_pending(self):
        """Book the pending transactions under their own (older) date, as late-booking banks do."""
        self.fake.post_pending()

    def test_transaction_booked_late_under_its_own_date_is_imported(self):
        account_id = self.fake.account_ids()[0]
        self.fake.add_transaction(account_id, Decimal("-77.70"), LATE, pending=True)
        link = self.connect()  # first run
        account = link.account_ids.filtered(lambda a: a.provider_account_id == account_id)
        self.assertEqual(account.pending_since, LATE)
        link.action_fetch_transactions()  # second run: still pending
        self.assertFalse(self.imported(account).filtered(lambda line: line.amount == -77.7))
        self.book_pending()
        link.action_fetch_transactions()
        line = self.imported(account).filtered(lambda line: line.amount == -77.7)
        self.assertEqual(len(line), 1, "booked 14 days back after two runs, and imported once")
        self.assertEqual(line.date, self.booked_late)
        link.action_fetch_transactions()
        self.assertInSync(link)


class CancelledConsentFlow:
    """Needs the steps of ``AggregatorFlow``; the fake's ``cancel_next_consent``."""

    def test_cancelling_a_first_consent_is_no_security_event(self):
        events = self.security_events()
        action = self.start_consent()
        self.fake.cancel_next_consent()
        response = self.callback(self.fake.consent(action["url"]))
        self.assertEqual(response.status_code, 403)
        self.assertNotIn("withdrawn", response.text, "nothing was given, so nothing was withdrawn")
        self.assertFalse(self.env["online.link"].search([("provider", "=", self.fake.provider_code)]))
        self.assertEqual(self.security_events(), events, "the application's credentials were not refused")


class BankContentCheck:
    """No duplicate whatever ids the bank gives: the journal holds the bank's (date, amount) pairs."""

    def bank_content(self, account):
        """(date, amount) of every booked transaction the bank serves for ``account``."""
        raise NotImplementedError

    def assertNoDuplicate(self, link):
        for account in link.account_ids:
            lines = self.imported(account)
            self.assertEqual(Counter((line.date, Decimal(str(line.amount))) for line in lines),
                             Counter(self.bank_content(account)), f"{account.name}: the journal is the bank's")


class ResilienceFlow(BankContentCheck, LateBookingFlow, CancelledConsentFlow):
    """Needs the steps of ``AggregatorFlow`` (``connect``, ``imported``, ``go_through_consent``...)."""

    def break_settings(self):
        """Make the connector's settings wrong, so that the aggregator refuses the application."""
        raise NotImplementedError

    def fetch(self, link):
        return link.action_fetch_transactions()

    def run_cron(self, link):
        """Run the scheduled action as Odoo runs it: as the superuser."""
        link.sudo().last_attempt = fields.Datetime.now() - timedelta(hours=2)
        self.env["online.link"].sudo()._cron_fetch_online_transactions()

    def new_messages(self, link, before):
        return link.message_ids.filtered(lambda message: message.id not in before.ids)

    # scenarios ----------------------------------------------------------------------

    def test_error_to_fix_is_told_once_per_streak_with_one_reference(self):
        link = self.connect()
        before = link.message_ids
        self.fake.expire_consent()
        first = self.fetch(link)
        reference = link.error_reference
        self.assertEqual(link.state, "action_required")
        self.assertIn(reference, first["params"]["message"])
        second = self.fetch(link)
        self.assertIn(reference, second["params"]["message"], "the toast names the streak's reference")
        told = self.new_messages(link, before)
        self.assertEqual(len(told), 1, "the same failure is told once")
        self.assertIn(reference, told.body)
        self.assertEqual(link.error_reference, reference)
        self.go_through_consent(link.action_reconnect())
        self.fetch(link)
        self.assertEqual(link.state, "connected")
        # It comes back: a new streak, told again under a new reference.
        before = link.message_ids
        self.fake.expire_consent()
        self.fetch(link)
        self.assertNotEqual(link.error_reference, reference)
        self.assertEqual(len(self.new_messages(link, before)), 1)
        link.action_disconnect()
        self.assertFalse(link.error_code, "a disconnected link keeps no stale error")
        self.assertFalse(link.error_message)

    def test_wrong_settings_are_told_once_by_clicks_and_the_scheduler(self):
        link = self.connect()
        before = link.message_ids
        self.break_settings()
        self.fetch(link)
        self.assertEqual(link.error_code, "invalid_configuration")
        reference = link.error_reference
        self.run_cron(link)
        self.fetch(link)
        self.run_cron(link)
        self.assertEqual(link.error_code, "invalid_configuration")
        self.assertEqual(link.error_reference, reference)
        self.assertEqual(len(self.new_messages(link, before)), 1)

    def test_advice_does_not_repeat_the_message(self):
        link = self.connect()
        before = link.message_ids
        self.fake.go_down()
        self.fetch(link)
        told = self.new_messages(link, before)
        self.assertEqual(len(told), 1)
        self.assertEqual(told.body.count("temporarily unavailable"), 1, told.body)

    def reconnect_without_duplicates(self):
        """Connect, let the consent end, Reconnect (new account ids), synchronize: nothing twice."""
        link = self.connect()
        self.assertNoDuplicate(link)
        self.fake.expire_consent()
        self.fetch(link)
        self.assertEqual(link.state, "action_required")
        accounts = link.account_ids
        self.go_through_consent(link.action_reconnect())
        self.fetch(link)
        self.assertEqual(link.state, "connected", link.error_message)
        self.assertEqual(link.account_ids, accounts)
        self.assertNoDuplicate(link)
        account = link.account_ids[0]
        self.fake.add_transaction(account.provider_account_id, Decimal("-5.55"), date.today())
        self.fetch(link)
        self.assertNoDuplicate(link)
        self.assertFalse(link.account_ids.filtered("content_match_until"), "the recognition ends with the overlap")
        return link


class GoCardlessResilience(ResilienceFlow):

    def book_pending(self):
        self.fake.post_pending()

    def break_settings(self):
        config = dict(self.fake.provider_config(), client_secret="not-the-secret")
        self.patch(type(self.env["online.provider.config"]), "_get_for", lambda _self, code, company: dict(config))
        self.fake.expire_access_token()
        self.fake.refresh_tokens.clear()

    def bank_content(self, account):
        oldest = max(self.fake._history_start(), account.first_sync_date).isoformat()
        return [(date.fromisoformat(row["bookingDate"]), Decimal(row["transactionAmount"]["amount"]))
                for row in self.fake.banks[account.provider_account_id]["booked"] if row["bookingDate"] >= oldest]

    def test_reconnect_with_transaction_ids(self):
        self.fake.use_id_style("transactionId")
        self.reconnect_without_duplicates()

    def test_reconnect_with_entry_references(self):
        self.fake.use_id_style("entryReference")
        self.reconnect_without_duplicates()

    def test_reconnect_with_internal_ids_scoped_to_the_old_account_id(self):
        self.fake.use_id_style("internalTransactionId")
        link = self.reconnect_without_duplicates()
        # The lines of the overlap now carry the ids under the new account ids: later runs recognise them by id.
        account = link.account_ids[0]
        overlap = self.imported(account).filtered(lambda line: line.date >= date.today() - timedelta(days=7))
        self.assertTrue(overlap)
        self.assertLessEqual(set(overlap.mapped("online_transaction_identifier")),
                             set(self.fake.posted_ids(account.provider_account_id)))

    def test_reconnect_without_any_id(self):
        self.fake.use_id_style("none")
        self.reconnect_without_duplicates()

    def test_linking_spends_one_balance_call_per_account(self):
        link = self.connect()
        # The agreement gives 90 days of the 120 asked: told once per account, not once more by the page.
        history = [body for body in link.message_ids.mapped("body") if "days of history" in body or "only, not" in body]
        self.assertEqual(len(history), len(link.account_ids), history)
        for account in link.account_ids:
            self.assertEqual(self.fake.successful_calls.get((account.provider_account_id, "balances")), 1)
            self.assertTrue(account.balance)
        # A run that imports nothing leaves the balances alone.
        self.fetch(link)
        for account in link.account_ids:
            self.assertEqual(self.fake.successful_calls.get((account.provider_account_id, "balances")), 1)

    def test_bank_quota_resetting_in_hours_is_not_retried_and_says_when(self):
        link = self.connect()
        before = link.message_ids
        self.fake.rate_limit(retry_after=23 * 3600)
        requests_before = len(self.fake.requests)
        self.fetch(link)
        self.assertEqual(len(self.fake.requests), requests_before + 1, "no retry against a daily quota")
        self.assertEqual(link.error_code, "rate_limited")
        self.assertIn("resets at", link.error_message)
        self.fetch(link)
        self.assertEqual(len(self.new_messages(link, before)), 1)
        self.fake.reset_quota()
        self.fetch(link)
        self.assertEqual(link.state, "connected")
        self.assertNoDuplicate(link)


class EnableBankingResilience(ResilienceFlow):

    def book_pending(self):
        self.fake.post_pending(keep_dates=True)

    def break_settings(self):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
        config = dict(self.fake.provider_config(), private_key=other)
        self.patch(type(self.env["online.provider.config"]), "_get_for", lambda _self, code, company: dict(config))

    def bank_content(self, account):
        oldest = account.first_sync_date
        return [(self.fake._day(row), Decimal(row["transaction_amount"]["amount"]) * (
            1 if row["credit_debit_indicator"] == "CRDT" else -1))
            for row in self.fake.posted_rows(account.provider_account_id) if self.fake._day(row) >= oldest]

    def test_reconnect_with_entry_references(self):
        self.reconnect_without_duplicates()

    def test_reconnect_without_entry_references(self):
        # Enable Banking warns that transaction_id may change between calls: only the content is stable.
        self.fake.entry_references = False
        self.reconnect_without_duplicates()

    def test_bank_gives_less_history_than_asked_told_once(self):
        self.fake.max_history_days = 60
        link = self.connect()
        told = [body for body in link.message_ids.mapped("body") if "only, not from" in body]
        self.assertEqual(len(told), len(link.account_ids), "once per account")
        self.fetch(link)
        self.assertEqual(len([b for b in link.message_ids.mapped("body") if "only, not from" in b]), len(told))

    def click(self, model, method, record_ids):
        """Click a button from the web client: an HTTP request carrying the browser's headers."""
        self.make_jsonrpc_request(f"/web/dataset/call_kw/{model}/{method}",
                                  {"model": model, "method": method, "args": [record_ids], "kwargs": {}},
                                  headers=BROWSER)
        self.env.invalidate_all()

    def assertUserDetailsSent(self):
        """Every call reached the bank with the clicking user's details: those the bank requires."""
        self.assertTrue(self.fake.psu_calls)
        for path, sent in self.fake.psu_calls:
            self.assertEqual(sent, {"Psu-Ip-Address": "127.0.0.1", "Psu-User-Agent": BROWSER["User-Agent"],
                                    "Psu-Accept-Language": BROWSER["Accept-Language"]}, path)

    def assertSchedulerSendsNone(self, link):
        self.fake.psu_calls.clear()
        self.run_cron(link)
        self.assertTrue(self.fake.psu_calls)
        self.assertEqual([sent for _path, sent in self.fake.psu_calls], [{}] * len(self.fake.psu_calls))

    def test_click_sends_the_user_details_the_scheduler_does_not(self):
        link = self.connect()
        self.fake.psu_calls.clear()
        self.click("online.link", "action_fetch_transactions", link.ids)
        self.assertEqual(link.state, "connected", link.error_message)
        self.assertUserDetailsSent()
        self.assertFalse([path for path, _sent in self.fake.psu_calls if path.endswith("/balances")],
                         "nothing new imported: no balance call")
        self.assertSchedulerSendsNone(link)

    def test_click_imported_in_the_background_sends_the_user_details(self):
        # Link and Synchronize queues the first import: the background job runs it, without an HTTP request.
        self.go_through_consent(self.start_consent())
        link = self.env["online.link"].search([("provider", "=", self.fake.provider_code)])
        wizard = self.env["online.link.connect"].browse(link.action_fetch_accounts()["res_id"])
        wizard.first_sync_date = date.today() - timedelta(days=120)
        self.fake.psu_calls.clear()
        self.click("online.link.connect", "action_confirm", wizard.ids)
        self.assertEqual(link.import_state, "queued")
        self.assertFalse(self.fake.psu_calls, "nothing is fetched during the click")
        manager = new_test_user(self.env, "psu_manager", groups="account.group_account_manager,base.group_user")
        with self.assertRaises(AccessError, msg="the user's details are not readable by others"):
            link.with_user(manager).read(["import_psu_encrypted"])
        run_queued_imports(self.env)
        self.assertEqual(link.state, "connected", link.error_message)
        self.assertTrue(all(link.account_ids.mapped("last_sync")), "the import ran in the background")
        self.assertUserDetailsSent()
        self.assertFalse(link.sudo().import_psu_encrypted, "forgotten once the import has used them")
        self.assertSchedulerSendsNone(link)
    def test_scheduler_keeps_to_four_unattended_refreshes_a_day(self):
        link = self.connect()
        self.fake.unattended_limit = 4
        for _run in range(4):
            self.run_cron(link)
        self.assertEqual(link.state, "connected", link.error_message)
        self.assertGreater(link.next_allowed_refresh, fields.Datetime.now() + timedelta(hours=23))
        self.assertTrue(link.next_allowed_refresh_text.startswith("Next allowed refresh"))
        calls = dict(self.fake.unattended_calls)
        self.run_cron(link)
        self.assertEqual(self.fake.unattended_calls, calls, "no fifth call the bank would refuse")
        self.assertEqual(link.state, "connected")

    def test_unattended_quota_spent_does_not_refuse_a_click(self):
        link = self.connect()
        self.fake.unattended_limit = 0
        self.run_cron(link)
        self.assertEqual(link.error_code, "rate_limited")
        self.click("online.link", "action_fetch_transactions", link.ids)
        self.assertEqual(link.state, "connected", link.error_message)
