from datetime import date, timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from online_sync_case import OnlineSyncCase, bank_posted_ids

TODAY = date(2026, 3, 18)


@tagged("post_install", "-at_install", "online_sync")
class TestSynchronization(OnlineSyncCase):

    def test_resync_imports_nothing_new(self):
        link = self.connect(volume=2)
        account = link.account_ids.filtered("journal_id")
        before = self.lines_of(account)
        self.assertTrue(before)
        link.action_fetch_transactions()
        link.account_ids.filtered("journal_id").journal_id.manual_sync()
        self.assertEqual(self.lines_of(account), before)
        self.assertEqual(account.last_sync_imported, 0)

    def test_pending_skipped_then_imported_when_posted(self):
        with freeze_time(TODAY):
            # Four days may hold pending transactions: a day without any transaction cannot hide them all.
            link = self.connect(volume=4, first_sync_date=TODAY - timedelta(days=10), bank_settings={"pending_days": 4})
            account = link.account_ids.filtered("journal_id")
            provider = link._get_provider()
            page = provider.list_transactions(link._get_tokens(), account.provider_account_id, TODAY - timedelta(days=3))
            pending = {t.id for t in page.transactions if not t.is_posted}
            self.assertTrue(pending, "the sandbox has pending transactions in its last four days")
            imported = set(self.lines_of(account).mapped("online_transaction_identifier"))
            self.assertFalse(imported & pending, "pending transactions are not imported")
            self.assertEqual(account.pending_count, len(pending))
        with freeze_time(TODAY + timedelta(days=5)):
            self.env["online.link"]._cron_fetch_online_transactions()
            imported = set(self.lines_of(account).mapped("online_transaction_identifier"))
            self.assertLessEqual(pending, imported, "once posted, they are imported")
            self.assertImportedExactly(account, bank_posted_ids(link, account, TODAY - timedelta(days=10)))

    def test_first_sync_date_is_respected(self):
        first = date.today() - timedelta(days=12)
        link = self.connect(volume=3, first_sync_date=first)
        account = link.account_ids.filtered("journal_id")
        lines = self.lines_of(account)
        self.assertTrue(lines)
        self.assertGreaterEqual(min(lines.mapped("date")), first)
        self.assertImportedExactly(account, bank_posted_ids(link, account, first))

    def test_overlap_catches_late_booked_lines(self):
        with freeze_time(TODAY):
            link = self.connect(volume=3, first_sync_date=TODAY - timedelta(days=20))
        account = link.account_ids.filtered("journal_id")
        # A line booked a few days ago reaches the bank only now: delete it as if it never came.
        late = self.lines_of(account).filtered(
            lambda l: TODAY - timedelta(days=6) <= l.date < TODAY,
        ).sorted("date")[:1]
        self.assertTrue(late)
        late_id = late.online_transaction_identifier
        late.unlink()
        # Not an accountant's deletion, which the next runs would respect.
        self.env["online.transaction.ignored"].search([("transaction_identifier", "=", late_id)]).unlink()
        with freeze_time(TODAY + timedelta(days=1)):
            link.action_fetch_transactions()
        self.assertIn(late_id, self.lines_of(account).mapped("online_transaction_identifier"))

    def test_transaction_booked_weeks_late_under_its_own_date_is_imported(self):
        # The bank keeps some transactions pending for over two weeks, then books them on their original date.
        with freeze_time(TODAY):
            link = self.connect(volume=4, first_sync_date=TODAY - timedelta(days=30),
                                bank_settings={"pending_days": 15})
            account = link.account_ids.filtered("journal_id")
            page = link._get_provider().list_transactions(
                link._get_tokens(), account.provider_account_id, TODAY - timedelta(days=14))
            # The oldest day with a pending transaction (a day may have no transaction at all).
            late_day = min(t.booking_date for t in page.transactions if not t.is_posted)
            late = {t.id for t in page.transactions if t.booking_date == late_day and not t.is_posted}
        self.assertLessEqual(late_day, TODAY - timedelta(days=10), "pending for over ten days")
        self.assertEqual(account.pending_since, late_day)
        with freeze_time(TODAY + timedelta(days=1)):
            link._set_tokens(dict(link._get_tokens(), pending_days=17))
            link.action_fetch_transactions()
        self.assertEqual(account.pending_since, late_day, "still pending: the oldest pending date is kept")
        imported = set(self.lines_of(account).mapped("online_transaction_identifier"))
        self.assertFalse(late & imported)
        with freeze_time(TODAY + timedelta(days=2)):
            link._set_tokens(dict(link._get_tokens(), pending_days=2))
            link.action_fetch_transactions()
            self.assertImportedExactly(account, bank_posted_ids(link, account, TODAY - timedelta(days=30)))
        imported = set(self.lines_of(account).mapped("online_transaction_identifier"))
        self.assertLessEqual(late, imported, "booked weeks late under its own date, still imported")
        self.assertTrue(not account.pending_since or account.pending_since >= TODAY + timedelta(days=1),
                        "only what is pending now holds the window open")

    def test_history_limit_is_clamped_with_a_message(self):
        link = self.connect(institution="sandbox_short", first_sync_date=date.today() - timedelta(days=200))
        account = link.account_ids.filtered("journal_id")
        oldest = date.today() - timedelta(days=90)
        self.assertGreaterEqual(min(self.lines_of(account).mapped("date")), oldest)
        self.assertIn("only gives the last 90 days", " ".join(self.chatter(link)))
        self.assertImportedExactly(account, bank_posted_ids(link, account, oldest))

    def test_cron_imports_new_transactions(self):
        with freeze_time(TODAY):
            link = self.connect(volume=2, first_sync_date=TODAY - timedelta(days=5))
        account = link.account_ids.filtered("journal_id")
        with freeze_time(TODAY + timedelta(days=6)):
            self.env["online.link"]._cron_fetch_online_transactions()
            self.assertEqual(account.last_sync, TODAY + timedelta(days=6))
            self.assertImportedExactly(account, bank_posted_ids(link, account, TODAY - timedelta(days=5)))
            self.assertEqual(link.last_refresh.date(), TODAY + timedelta(days=6))

    def test_synchronize_now_from_the_dashboard(self):
        with freeze_time(TODAY):
            link = self.connect(accounts=("Current Account", "Savings Account"), first_sync_date=TODAY)
        current, savings = (link.account_ids.filtered(lambda a: a.name == n) for n in ("Current Account", "Savings Account"))
        with freeze_time(TODAY + timedelta(days=5)):
            result = current.journal_id.manual_sync()
            self.assertEqual(result["params"]["type"], "success")
            self.assertEqual(current.last_sync, TODAY + timedelta(days=5))
            self.assertEqual(savings.last_sync, TODAY, "Synchronize Now only syncs that journal")
            self.assertImportedExactly(current, bank_posted_ids(link, current, TODAY))

    def test_disconnect_keeps_lines_and_blocks_sync(self):
        link = self.connect()
        account = link.account_ids.filtered("journal_id")
        lines = self.lines_of(account)
        link.action_disconnect()
        self.assertEqual(link.state, "disconnected")
        self.assertFalse(link.auto_sync)
        self.assertFalse(link.consent_expiry)
        self.assertEqual(self.lines_of(account), lines)
        with self.assertRaisesRegex(UserError, "create a new connection|Create a new connection"):
            link.action_fetch_transactions()
        with self.assertRaisesRegex(UserError, "Create a new connection"):
            account.journal_id.manual_sync()

    def test_update_credentials_keeps_accounts_and_lines(self):
        link = self.connect()
        accounts, lines = link.account_ids, self.StatementLine.search([("online_account_id", "in", link.account_ids.ids)])
        old_token = link._get_tokens()["access_token"]
        link.action_update_credentials()
        self.assertNotEqual(link._get_tokens()["access_token"], old_token)
        self.assertEqual(link.account_ids, accounts)
        link.action_fetch_transactions()
        self.assertEqual(self.StatementLine.search([("online_account_id", "in", link.account_ids.ids)]), lines)

    def test_accounts_given_new_ids_by_a_reconnection_keep_their_journal_and_lines(self):
        link = self.connect(volume=2)
        account = link.account_ids.filtered("journal_id")
        lines = self.lines_of(account)
        new_id = account.provider_account_id
        # As the previous consent knew it: the renewal gives the same bank account another id.
        account.provider_account_id = "previous-consent-id"
        link.action_reconnect()
        self.assertEqual(account.provider_account_id, new_id, "the account is re-keyed, not created again")
        self.assertEqual(len(link.account_ids.filtered(lambda a: a.name == account.name)), 1)
        self.assertEqual(account.content_match_until, account.last_sync)
        link.action_fetch_transactions()
        self.assertEqual(self.lines_of(account), lines, "nothing imported twice")
        self.assertFalse(account.content_match_until)
