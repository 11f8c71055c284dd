"""Missing, pending and deleted transactions through the real GoCardless connector, against its fake."""
from datetime import date, timedelta
from decimal import Decimal

from odoo.tests import HttpCase, new_test_user, tagged

from fakes.gocardless import FakeGoCardless
from online_sync_case import run_queued_imports
from test_aggregators import AggregatorSteps


@tagged("post_install", "-at_install", "online_sync")
class TestGoCardlessReview(AggregatorSteps, HttpCase):
    fake_class = FakeGoCardless

    def fetch(self, link):
        link.action_fetch_transactions()
        run_queued_imports(self.env)

    def imported_ids(self, account):
        return set(self.imported(account).mapped("online_transaction_identifier"))

    def test_late_and_pending_transactions_then_a_deleted_line(self):
        link = self.connect()
        account = link.account_ids[0]
        bank_id = account.provider_account_id
        # The bank lists a transaction booked 20 days ago only now, and one card payment is pending.
        late_id = self.fake.add_transaction(bank_id, Decimal("-73.20"), date.today() - timedelta(days=20))
        pending_id = self.fake.add_transaction(bank_id, Decimal("-9.99"), date.today(), pending=True)
        self.fetch(link)
        self.assertNotIn(late_id, self.imported_ids(account), "a regular run reads the last days only")
        pending = account.pending_transaction_ids
        self.assertEqual(len(pending), len(self.fake.banks[bank_id]["pending"]))
        card = pending.filtered(lambda row: row.transaction_identifier == pending_id)
        self.assertEqual((card.amount, card.date, card.label), (-9.99, date.today(), "CARD PAYMENT"))

        wizard = self.env["online.missing.transactions"].create({"journal_id": account.journal_id.id})
        self.assertGreaterEqual(wizard.date_from, wizard.oldest_date)
        wizard.action_search()
        kinds = {row.transaction_identifier: row.kind for row in wizard.line_ids}
        self.assertEqual({key for key, kind in kinds.items() if kind == "missing"}, {late_id})
        self.assertEqual(kinds[pending_id], "pending")
        wizard.action_import()
        run_queued_imports(self.env)
        self.assertInSync(link)
        self.assertEqual(account.last_sync, date.today())

        # The bank posts the card payment under a new id: it leaves the pending list and comes in once.
        self.fake.post_pending()
        self.fetch(link)
        self.assertFalse(account.pending_transaction_ids)
        self.assertInSync(link)

        # A deleted line does not come back, even when the bank is read again from its day.
        accountant = new_test_user(self.env, "aos_gc_accountant", groups="account.group_account_user,base.group_user")
        line = self.imported(account).filtered(lambda line: line.online_transaction_identifier == late_id)
        line.with_user(accountant).unlink()
        account.sudo()._read_again_from(date.today() - timedelta(days=30))
        self.fetch(link)
        self.assertNotIn(late_id, self.imported_ids(account))
        self.assertEqual(self.env["online.transaction.ignored"].search([]).transaction_identifier, late_id)

    def test_a_deleted_line_stays_deleted_across_a_reconnection_that_changes_ids(self):
        self.fake.use_id_style("internalTransactionId")
        link = self.connect()
        account = link.account_ids[0]
        accountant = new_test_user(self.env, "aos_gc_accountant", groups="account.group_account_user,base.group_user")
        line = self.imported(account).filtered(lambda l: l.date >= date.today() - timedelta(days=5))[:1]
        self.assertTrue(line, "the fake books transactions every few days")
        content = (line.date, line.amount, line.payment_ref)
        line.with_user(accountant).unlink()
        self.fake.expire_consent()
        self.fetch(link)
        self.go_through_consent(link.action_reconnect())
        self.fetch(link)
        self.assertEqual(link.state, "connected", link.error_message)
        self.assertNotIn(content, [(l.date, l.amount, l.payment_ref) for l in self.imported(account)])
        ignored = self.env["online.transaction.ignored"].search([])
        self.assertIn(ignored.transaction_identifier, self.fake.posted_ids(account.provider_account_id),
                      "the ignored id follows the bank's new id")
