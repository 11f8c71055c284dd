"""Missing, pending, ignored and duplicate transactions, with the sandbox bank."""
from datetime import date, timedelta
from decimal import Decimal

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.account_online_synchronization.providers.sandbox import LATE_DAYS, SandboxProvider
from odoo.addons.account_online_synchronization.providers.schema import PENDING, Transaction

from online_sync_case import OnlineSyncCase, bank_posted_ids, click

TODAY = date.today()
FIRST_SYNC = TODAY - timedelta(days=30)


def bank_transactions(link, account, date_from=FIRST_SYNC):
    """Every transaction, posted or pending, the sandbox bank lists for ``account`` when it is back to normal."""
    provider = SandboxProvider({"scenario": "normal"})
    transactions, cursor = [], None
    while True:
        page = provider.list_transactions(link._get_tokens(), account.provider_account_id, date_from, cursor=cursor)
        transactions += page.transactions
        if not page.next_cursor:
            return transactions
        cursor = page.next_cursor


class ReviewCase(OnlineSyncCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = new_test_user(cls.env, "aos_review_accountant",
                                       groups="account.group_account_user,base.group_user")
        cls.Ignored = cls.env["online.transaction.ignored"]

    def synced(self, **options):
        link = self.connect(first_sync_date=FIRST_SYNC, **options)
        return link, link.account_ids.filtered("journal_ids")

    def as_accountant(self, records):
        return records.with_user(self.accountant)

    def find_missing(self, account, date_from=FIRST_SYNC):
        wizard = self.env["online.missing.transactions"].with_user(self.accountant).create({
            "journal_id": account.journal_id.id, "date_from": date_from,
        })
        wizard.action_search()
        return wizard

    @staticmethod
    def listed(wizard, kind):
        return set(wizard.line_ids.filtered(lambda line: line.kind == kind).mapped("transaction_identifier"))

    def withheld(self, link, account):
        """The posted transactions the ``late`` scenario kept out of the first synchronization."""
        withheld = [t for t in bank_transactions(link, account)
                    if t.is_posted and (TODAY - t.booking_date).days in LATE_DAYS]
        self.assertTrue(withheld, "six days of three transactions a day on average")
        return withheld


@tagged("post_install", "-at_install", "online_sync")
class TestPendingTransactions(ReviewCase):

    def test_pending_are_shown_never_imported_and_come_once_when_posted(self):
        link, account = self.synced(volume=3, bank_settings={"pending_days": 6})
        pending = [t for t in bank_transactions(link, account) if not t.is_posted]
        self.assertTrue(pending, "six days of pending transactions")
        shown = self.as_accountant(account).pending_transaction_ids
        self.assertEqual(set(shown.mapped("transaction_identifier")), {t.id for t in pending})
        first = min(pending, key=lambda t: t.id)
        row = shown.filtered(lambda p: p.transaction_identifier == first.id)
        self.assertEqual((row.date, row.label, row.partner_name, row.amount),
                         (first.booking_date, first.label, first.counterparty_name, float(first.amount)))
        self.assertFalse(self.StatementLine.search_count([
            ("online_transaction_identifier", "in", [t.id for t in pending])]), "pending is never a line")

        # The bank posts all but today's: they leave the list and each becomes one line.
        link._set_tokens(dict(link._get_tokens(), pending_days=1))
        click(self.env, link.with_user(self.accountant).action_fetch_transactions)
        still_pending = {t.id for t in bank_transactions(link, account) if not t.is_posted}
        self.assertEqual(set(account.pending_transaction_ids.mapped("transaction_identifier")), still_pending)
        self.assertImportedExactly(account, bank_posted_ids(link, account, FIRST_SYNC))
        self.assertEqual(account.pending_count, len(still_pending))

    def test_hostile_pending_rows_are_shown_as_text_or_left_out(self):
        link, account = self.synced()
        markup = "<img src=x onerror=alert(1)> Rent " + "x" * 4000
        hostile = [
            Transaction("p-1", TODAY, Decimal("-10.00"), "EUR", status=PENDING, label=markup),
            Transaction("p-2", TODAY, Decimal("-99.00"), "USD", status=PENDING, label="Wrong currency"),
            Transaction("p-3", TODAY, Decimal("5.00"), "EUR", status=PENDING, counterparty_name="No label"),
        ]
        account._show_pending(hostile)
        rows = {row.transaction_identifier: row for row in account.pending_transaction_ids}
        self.assertEqual(set(rows), {"p-1", "p-3"}, "an amount in another currency would be shown wrong")
        self.assertEqual(rows["p-1"].label, markup, "kept as text, whole")
        self.assertEqual(rows["p-3"].label, "No label")


@tagged("post_install", "-at_install", "online_sync")
class TestMissingTransactions(ReviewCase):

    def test_transactions_listed_late_are_found_and_imported_once(self):
        link, account = self.synced(volume=3, scenario="late")
        withheld = self.withheld(link, account)
        link.sandbox_scenario = "normal"
        click(self.env, link.action_fetch_transactions)
        imported = set(self.lines_of(account).mapped("online_transaction_identifier"))
        self.assertFalse(imported & {t.id for t in withheld}, "a regular run reads the last days only")
        # A line the bank withdrew since it was imported.
        withdrawn = self.StatementLine.sudo().create({
            "journal_id": account.journal_id.id, "date": TODAY - timedelta(days=5), "payment_ref": "Withdrawn",
            "amount": -1.0, "online_account_id": account.id, "online_transaction_identifier": "withdrawn-by-bank",
        })

        wizard = self.find_missing(account)
        self.assertEqual(self.listed(wizard, "missing"), {t.id for t in withheld})
        self.assertEqual(self.listed(wizard, "pending"),
                         {t.id for t in bank_transactions(link, account) if not t.is_posted})
        self.assertEqual(wizard.line_ids.filtered(lambda line: line.kind == "not_at_bank").statement_line_id,
                         withdrawn)
        self.assertEqual(account.last_sync, TODAY)

        click(self.env, wizard.action_import)
        self.assertImportedExactly(account, bank_posted_ids(link, account, FIRST_SYNC) | {"withdrawn-by-bank"})
        self.assertTrue(withdrawn.exists(), "a line the bank no longer lists is reported, never deleted")
        self.assertEqual(account.last_sync, TODAY)
        found = self.listed(wizard, "missing")
        for line in self.lines_of(account).filtered(lambda l: l.online_transaction_identifier in found):
            self.assertEqual({d.replace(day=1) for d in line.statement_id.line_ids.mapped("date")},
                             {line.date.replace(day=1)}, "filed into the statement of its month")
        self.assertFalse(self.listed(self.find_missing(account), "missing"))

    def test_period_is_bounded_by_the_history_kept(self):
        link, account = self.synced(institution="sandbox_short")
        action = self.as_accountant(account).action_find_missing_transactions()
        self.assertEqual((action["res_model"], action["context"]["default_journal_id"]),
                         ("online.missing.transactions", account.journal_id.id), "also from the connection")
        wizard = self.env["online.missing.transactions"].with_user(self.accountant).create({
            "journal_id": account.journal_id.id, "date_from": FIRST_SYNC - timedelta(days=1),
        })
        self.assertEqual(wizard.oldest_date, FIRST_SYNC)
        with self.assertRaises(UserError):
            wizard.action_search()


@tagged("post_install", "-at_install", "online_sync")
class TestIgnoredTransactions(ReviewCase):

    def test_deleted_line_stays_deleted_until_restored(self):
        link, account = self.synced(volume=3)
        line = self.lines_of(account)[:1]
        self.assertTrue(line)
        identifier = line.online_transaction_identifier
        self.as_accountant(line).unlink()
        ignored = self.Ignored.search([("online_account_id", "=", account.id)])
        self.assertEqual((ignored.transaction_identifier, ignored.reason, ignored.user_id),
                         (identifier, "deleted", self.accountant))
        self.assertTrue(ignored.ignored_on)

        # Read again from the start: the deleted line does not come back.
        self.assertEqual(self.listed(self.find_missing(account), "ignored"), {identifier})
        account.sudo()._read_again_from(FIRST_SYNC)
        click(self.env, link.action_fetch_transactions)
        self.assertImportedExactly(account, bank_posted_ids(link, account, FIRST_SYNC) - {identifier})

        click(self.env, self.as_accountant(ignored).action_restore)
        self.assertFalse(ignored.exists())
        self.assertImportedExactly(account, bank_posted_ids(link, account, FIRST_SYNC))

    def test_deleting_the_entry_also_ignores_the_transaction(self):
        link, account = self.synced(volume=3)
        line = self.lines_of(account)[:1]
        identifier = line.online_transaction_identifier
        line.move_id.button_draft()
        self.as_accountant(line.move_id).unlink()
        self.assertEqual(self.Ignored.search([("online_account_id", "=", account.id)]).transaction_identifier,
                         identifier)

    def test_line_entered_by_hand_first_is_held_not_imported_twice(self):
        link, account = self.synced(volume=3, scenario="late")
        target = self.withheld(link, account)[0]
        hand = self.as_accountant(self.StatementLine).create({
            "journal_id": account.journal_id.id, "date": target.booking_date - timedelta(days=1),
            "payment_ref": "Paid by hand", "amount": float(target.amount),
        })
        link.sandbox_scenario = "normal"
        click(self.env, self.find_missing(account).action_import)
        held = self.Ignored.search([("online_account_id", "=", account.id), ("reason", "=", "held")])
        self.assertEqual((held.transaction_identifier, held.hand_line_id), (target.id, hand))
        self.assertImportedExactly(account, bank_posted_ids(link, account, FIRST_SYNC) - {target.id})
        self.assertIn("look like lines entered by hand", " ".join(self.chatter(link)))

        # The accountant confirms: the hand line is that bank transaction.
        self.as_accountant(held).action_keep_hand_line()
        self.assertEqual((hand.online_transaction_identifier, hand.online_account_id), (target.id, account))
        account.sudo()._read_again_from(FIRST_SYNC)
        click(self.env, link.action_fetch_transactions)
        self.assertImportedExactly(account, bank_posted_ids(link, account, FIRST_SYNC))
        self.assertFalse(self.Ignored.search_count([("online_account_id", "=", account.id)]))

    def test_held_transaction_restored_is_imported_and_the_hand_line_kept(self):
        link, account = self.synced(volume=3, scenario="late")
        target = self.withheld(link, account)[0]
        hand = self.as_accountant(self.StatementLine).create({
            "journal_id": account.journal_id.id, "date": target.booking_date + timedelta(days=2),
            "payment_ref": "Another payment", "amount": float(target.amount),
        })
        link.sandbox_scenario = "normal"
        click(self.env, self.find_missing(account).action_import)
        held = self.Ignored.search([("online_account_id", "=", account.id), ("reason", "=", "held")])
        self.assertEqual(held.transaction_identifier, target.id)
        click(self.env, self.as_accountant(held).action_restore)
        self.assertImportedExactly(account, bank_posted_ids(link, account, FIRST_SYNC))
        self.assertTrue(hand.exists())
        self.assertFalse(hand.online_transaction_identifier)


@tagged("post_install", "-at_install", "online_sync")
class TestDuplicateTransactions(ReviewCase):

    def find_duplicates(self, account):
        wizard = self.env["online.duplicate.transactions"].with_user(self.accountant).create({
            "journal_id": account.journal_id.id, "date_from": FIRST_SYNC,
        })
        wizard.action_search()
        return wizard

    @staticmethod
    def group_of(wizard, lines):
        rows = wizard.line_ids.filtered(lambda row: row.statement_line_id in lines)
        return rows, set(rows.mapped("group")), set(rows.mapped("reason"))

    def test_true_pair_is_proposed_then_kept(self):
        link, account = self.synced(scenario="twins")
        twins = self.lines_of(account).filtered(lambda line: "twin" in line.online_transaction_identifier)
        self.assertEqual(len(twins), 2, "two transactions of the same amount and day are both imported")
        wizard = self.find_duplicates(account)
        rows, groups, reasons = self.group_of(wizard, twins)
        self.assertEqual((len(rows), len(groups), reasons), (2, 1, {"same_content"}))
        wizard.action_keep()
        self.assertFalse(self.group_of(wizard, twins)[0], "a kept group is not proposed again")
        self.assertTrue(all(twins.mapped("online_duplicate_kept")))

    def test_hand_line_entered_after_the_feed_is_proposed_and_deleting_ignores(self):
        link, account = self.synced(volume=3)
        synced = self.lines_of(account).filtered(lambda line: line.date < TODAY - timedelta(days=3))[:1]
        self.assertTrue(synced)
        hand = self.as_accountant(self.StatementLine).create({
            "journal_id": account.journal_id.id, "date": synced.date + timedelta(days=1),
            "payment_ref": "Entered by hand", "amount": synced.amount,
        })
        wizard = self.find_duplicates(account)
        rows, groups, reasons = self.group_of(wizard, synced | hand)
        self.assertEqual(len(groups), 1)
        self.assertIn(reasons.pop(), ("hand_line", "same_content"))
        row = rows.filtered(lambda r: r.statement_line_id == synced)
        wizard.write({"line_ids": [Command.update(row.id, {"to_delete": True})]})
        wizard.action_delete_selected()
        self.assertFalse(synced.exists())
        self.assertTrue(hand.exists())
        self.assertEqual(self.Ignored.search([("online_account_id", "=", account.id)]).reason, "deleted")
        self.assertFalse(self.group_of(wizard, hand)[0])


@tagged("post_install", "-at_install", "online_sync")
class TestReviewAccess(ReviewCase):

    def test_roles_companies_and_rpc_writes(self):
        link, account = self.synced(volume=3)
        line = self.lines_of(account)[:1]
        line.unlink()
        ignored = self.Ignored.search([("online_account_id", "=", account.id)])
        journal = account.journal_id

        billing = new_test_user(self.env, "aos_review_billing", groups="account.group_account_invoice")
        for model in ("online.missing.transactions", "online.duplicate.transactions"):
            with self.assertRaises(AccessError, msg=model):
                self.env[model].with_user(billing).create({"journal_id": journal.id, "date_from": FIRST_SYNC})

        other = self.env["res.company"].create({"name": "Other Review Co", "currency_id": self.company.currency_id.id})
        stranger = new_test_user(self.env, "aos_review_stranger", groups="account.group_account_user,base.group_user",
                                 company_id=other.id, company_ids=[Command.set(other.ids)])
        stranger_env = self.env(user=stranger, context={"allowed_company_ids": [other.id]})
        self.assertFalse(stranger_env["online.transaction.ignored"].search([]))
        self.assertFalse(stranger_env["online.transaction.pending"].search([]))
        for model in ("online.missing.transactions", "online.duplicate.transactions"):
            with self.assertRaises(AccessError, msg=model):
                stranger_env[model].create({"journal_id": journal.id, "date_from": FIRST_SYNC}).action_search()
        with self.assertRaises(AccessError):
            ignored.with_env(stranger_env).action_restore()

        # What the engine alone writes, refused through RPC to an accountant of the company.
        acc_env = self.env(user=self.accountant)
        with self.assertRaises(AccessError):
            acc_env["online.transaction.ignored"].create({
                "online_account_id": account.id, "transaction_identifier": "x", "reason": "deleted"})
        for records, vals in ((ignored, {"reason": "held"}), (ignored, {"transaction_identifier": "x"})):
            with self.assertRaises(AccessError):
                records.with_env(acc_env).write(vals)
        with self.assertRaises(AccessError):
            ignored.with_env(acc_env).unlink()
        with self.assertRaises(AccessError):
            acc_env["online.transaction.pending"].create({"online_account_id": account.id, "amount": 5})
        missing = acc_env["online.missing.transactions"].create({"journal_id": journal.id, "date_from": FIRST_SYNC})
        with self.assertRaises(AccessError):
            missing.write({"line_ids": [Command.create({"kind": "missing", "transaction_identifier": "forged",
                                                        "amount": 1e9})]})
        with self.assertRaises(AccessError):
            missing.write({"journal_id": self.env["account.journal"].search([("type", "=", "sale")], limit=1).id})
        duplicates = acc_env["online.duplicate.transactions"].create({"journal_id": journal.id, "date_from": FIRST_SYNC})
        foreign_line = self.StatementLine.sudo().create({
            "journal_id": self.env["account.journal"].sudo().search([("company_id", "=", other.id),
                                                                      ("type", "=", "bank")], limit=1).id or journal.id,
            "date": TODAY, "payment_ref": "Other company", "amount": 1.0,
        })
        with self.assertRaises(AccessError):
            duplicates.write({"line_ids": [Command.create({"statement_line_id": foreign_line.id, "to_delete": True})]})
        self.assertTrue(foreign_line.exists())
