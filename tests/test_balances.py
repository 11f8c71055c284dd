"""The journal agrees with the bank, or says exactly why not.

The sandbox bank's figures are recomputed here from its definition (an opening
balance when its history starts, plus every posted transaction); the
connectors run against their fakes, whose balances are their own books.
"""
from datetime import date, timedelta
from decimal import Decimal

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged

from fakes.enable_banking import FakeEnableBanking
from fakes.ponto import FakePonto
from online_sync_case import TEST_PHONE, OnlineSyncCase, choose_bank, click
from test_aggregators import FIRST_SYNC, AggregatorFlow

from odoo.addons.account_online_synchronization.models import online_account
from odoo.addons.account_online_synchronization.models.online_link import ImportPaused
from odoo.addons.account_online_synchronization.providers.sandbox import OPENING_BALANCE, SandboxProvider

#: Statement lines a chunk of the import creates in these tests: a month's statement takes several chunks.
CHUNK_SIZE = 7


def sandbox_balance_at(link, account, day, scenario="normal"):
    """The sandbox bank's booked balance at the end of ``day``: its opening balance plus its posted transactions."""
    provider = SandboxProvider({"scenario": scenario})
    tokens, total, cursor = link._get_tokens(), OPENING_BALANCE, None
    while True:
        page = provider.list_transactions(tokens, account.provider_account_id, day - timedelta(days=800), cursor)
        total += sum(t.amount for t in page.transactions if t.is_posted and t.booking_date <= day)
        if not page.next_cursor:
            return float(total)
        cursor = page.next_cursor


@tagged("post_install", "-at_install", "online_sync")
class TestSandboxBalances(OnlineSyncCase):

    def account_of(self, link, name="Current Account"):
        return link.account_ids.filtered(lambda a: a.name == name)

    def statements_of(self, account):
        return self.env["account.bank.statement"].search(
            [("journal_id", "=", account.journal_id.id)], order="first_line_index")

    def assertAgreesWithBank(self, link, account):
        """Opening and every statement end on the bank's balances; the journal ends on the bank's balance."""
        self.assertAlmostEqual(account.balance, sandbox_balance_at(link, account, date.today()), places=2)
        self.assertAlmostEqual(account.journal_balance, account.balance, places=2)
        self.assertAlmostEqual(account.balance_difference, 0.0, places=2)
        self.assertFalse(account.balance_finding)
        statements = self.statements_of(account)
        self.assertTrue(statements)
        self.assertAlmostEqual(statements[0].balance_start, account.opening_balance, places=2)
        for statement in statements:
            self.assertAlmostEqual(statement.balance_end_real, sandbox_balance_at(link, account, statement.date),
                                   places=2, msg=f"{statement.name} ends on the bank's balance of its last day")
        self.assertTrue(all(statements.mapped("is_complete")), "nothing is missing")
        self.assertTrue(all(statements.mapped("is_valid")), "each statement starts where the previous one ended")

    # 1. opening balance -----------------------------------------------------------

    def test_no_difference_is_told_before_the_first_import_has_run(self):
        wizard = self.env["online.link.connect"].create({"phone": TEST_PHONE})
        choose_bank(wizard, "sandbox_bank").action_connect()
        for line in wizard.account_line_ids:
            line.action = "new" if line.name == "Current Account" else "skip"
        wizard.action_confirm()
        account = wizard.link_id.account_ids.filtered("journal_id")
        self.assertTrue(account.balance, "the bank's balance is known from the account list")
        self.assertEqual(wizard.link_id.import_state, "queued", "the first import runs in the background")
        self.assertFalse(account.journal_id.online_balance_finding, "an empty journal waiting for its import")
        self.run_queued_imports()
        self.assertAgreesWithBank(wizard.link_id, account)

    def test_the_journal_starts_where_the_bank_started_whatever_the_first_date(self):
        for days in (10, 200):
            with self.subTest(days=days):
                first = date.today() - timedelta(days=days)
                link = self.connect(first_sync_date=first, volume=2)
                account = self.account_of(link)
                lines = self.lines_of(account)
                self.assertTrue(account.opening_date < min(lines.mapped("date")), "dated before the first line")
                self.assertGreaterEqual(account.opening_date, first - timedelta(days=1))
                self.assertAlmostEqual(account.opening_balance,
                                       sandbox_balance_at(link, account, account.opening_date), places=2)
                self.assertAgreesWithBank(link, account)
                link.action_disconnect()

    def test_an_existing_journal_keeps_its_lines_and_its_own_balance(self):
        link = self.connect(accounts=())
        account = self.account_of(link)
        account.currency_id.active = True
        journal = self.env["account.journal"].create({
            "name": "Old Bank", "type": "bank", "code": "OLDB",
            "currency_id": account.currency_id != self.company.currency_id and account.currency_id.id,
        })
        manual = self.StatementLine.create({"journal_id": journal.id, "date": date.today() - timedelta(days=60),
                                            "payment_ref": "Entered by hand", "amount": 100.0})
        self.env["account.bank.statement"].create({"name": "Old statement", "line_ids": [Command.set(manual.ids)]})
        unfiled = self.StatementLine.create({"journal_id": journal.id, "date": date.today() - timedelta(days=30),
                                             "payment_ref": "In no statement", "amount": 25.0})
        account._link_to_journal(journal, date.today() - timedelta(days=20))
        click(self.env, link.action_fetch_transactions)
        self.assertTrue(manual.exists() and unfiled.exists())
        self.assertFalse(account.opening_date, "no opening balance over the journal's own history")
        imported = sum(self.lines_of(account).mapped("amount"))
        self.assertAlmostEqual(account.journal_balance, 125.0 + imported, places=2)
        first = self.statements_of(account).filtered(lambda statement: statement.line_ids.online_account_id)[:1]
        self.assertAlmostEqual(first.balance_start, 125.0, places=2,
                               msg="it continues from the last statement and the lines entered after it")
        self.assertTrue(account.balance_finding, "the history the journal lacks is a finding")
        self.assertEqual(account.balance_difference_since, min(first.line_ids.mapped("date")))

        # 3. ... which a user can explain away.
        with self.assertRaises(UserError):
            account.action_acknowledge_balance_difference()
        account.balance_difference_note = "history not imported on purpose"
        account.action_acknowledge_balance_difference()
        self.assertFalse(account.balance_finding)
        self.assertFalse(journal.online_balance_finding)
        self.assertIn("history not imported on purpose", " ".join(self.chatter(link)))

    # 2. statement balances ------------------------------------------------------------

    def test_statements_end_on_the_bank_balances_run_after_run(self):
        link = self.connect(volume=3, first_sync_date=date.today() - timedelta(days=70))
        account = self.account_of(link)
        self.assertAgreesWithBank(link, account)
        with freeze_time(date.today() + timedelta(days=9)):
            click(self.env, account.journal_id.manual_sync)
            self.assertAgreesWithBank(link, account)

    def test_an_import_of_many_chunks_ends_every_statement_on_the_bank_balances(self):
        """Each chunk ends the statements it filled; later chunks leave the earlier ones on the bank's balances."""
        self.patch(online_account, "CHUNK_SIZE", CHUNK_SIZE)
        link = self.connect(volume=3, first_sync_date=date.today() - timedelta(days=100))
        account = self.account_of(link)
        self.assertGreater(len(self.lines_of(account)), 10 * CHUNK_SIZE)
        self.assertGreater(len(self.statements_of(account)), 3)
        self.assertAgreesWithBank(link, account)

    def test_an_import_stopped_after_some_chunks_leaves_statements_on_the_bank_balances(self):
        """A background import out of time keeps statements that chain and end on the bank's balances."""
        self.patch(online_account, "CHUNK_SIZE", CHUNK_SIZE)
        checks = []

        def out_of_time_after_ten_chunks(link):
            checks.append(link)
            if len(checks) == 10:
                raise ImportPaused()
        self.patch(type(self.env["online.link"]), "_check_import_time", out_of_time_after_ten_chunks)
        wizard = self.env["online.link.connect"].create({"phone": TEST_PHONE})
        choose_bank(wizard, "sandbox_bank").action_connect()
        link = wizard.link_id
        link._set_tokens(dict(link._get_tokens(), daily_volume=3))
        for line in wizard.account_line_ids:
            line.action = "new" if line.name == "Current Account" else "skip"
        wizard.first_sync_date = date.today() - timedelta(days=100)
        wizard.action_confirm()
        self.env["online.link"]._cron_import_queued()
        self.assertEqual(link.import_state, "running", "the import stopped midway")
        account = self.account_of(link)
        self.assertEqual(len(self.lines_of(account)), 10 * CHUNK_SIZE)
        statements = self.statements_of(account)
        self.assertGreater(len(statements), 1)
        self.assertAlmostEqual(statements[0].balance_start, account.opening_balance, places=2)
        for statement in statements:
            self.assertAlmostEqual(statement.balance_end_real, sandbox_balance_at(link, account, statement.date),
                                   places=2, msg=f"{statement.name} ends on the bank's balance of its last day")
        self.assertTrue(all(statements.mapped("is_valid")), "each statement starts where the previous one ended")
        self.assertTrue(all(statements[:-1].mapped("is_complete")), "only the statement being filled is incomplete")

    # 3. a difference is a finding ------------------------------------------------------

    def test_a_line_deleted_in_odoo_is_a_finding_from_its_statement(self):
        link = self.connect(volume=3, first_sync_date=date.today() - timedelta(days=70))
        account = self.account_of(link)
        journal = account.journal_id
        line = self.lines_of(account).filtered(lambda l: l.date < date.today() - timedelta(days=20))[-1]
        amount, statement = line.amount, line.statement_id
        line.unlink()
        self.assertTrue(account.balance_finding)
        self.assertAlmostEqual(account.balance_difference, amount, places=2)
        self.assertFalse(statement.is_complete, "Odoo itself shows the statement incomplete")
        self.assertEqual(account.balance_difference_since, min(statement.line_ids.mapped("date")))
        self.assertTrue(journal.online_balance_finding, "the dashboard card says so")
        self.assertIn("differ by", journal.online_balance_finding_message)
        self.assertTrue(link.balance_finding)
        self.assertIn("acknowledge", link.balance_finding_message)
        self.assertIn("Find Missing Transactions", link.balance_finding_message, "the review that finds late ones")

        click(self.env, link.action_fetch_transactions)
        self.assertTrue(account.balance_finding, "the next synchronization checks it again")
        told = [body for body in self.chatter(link) if "differ by" in body]
        self.assertEqual(len(told), 1, "told once")
        self.assertIn("statements from that day", told[0])
        click(self.env, link.action_fetch_transactions)
        self.assertEqual(len([body for body in self.chatter(link) if "differ by" in body]), 1, "not repeated")

    # 4. the sandbox bank forgets a transaction --------------------------------------------

    def test_a_transaction_the_bank_forgets_is_found_then_resolved(self):
        link = self.connect(volume=6)
        account = self.account_of(link)
        self.assertAgreesWithBank(link, account)
        link.sandbox_scenario = "gap"
        forgotten_id = SandboxProvider({"scenario": "gap"})._forgotten_id(
            link._get_tokens(), account.provider_account_id, "EUR")
        forgotten = next(t for t in SandboxProvider().list_transactions(
            link._get_tokens(), account.provider_account_id, date.today() - timedelta(days=2)).transactions
            if t.id == forgotten_id)
        click(self.env, link.action_fetch_transactions)
        self.assertNotIn(forgotten_id, self.lines_of(account).mapped("online_transaction_identifier"))
        self.assertTrue(account.balance_finding, "the bank booked it: its balance counts it")
        self.assertAlmostEqual(account.balance_difference, float(forgotten.amount), places=2)
        self.assertLessEqual(account.balance_difference_since, forgotten.booking_date + timedelta(days=1))
        self.assertLessEqual(account.balance_difference_since, date.today(), "never a day to come")
        self.assertTrue(account.journal_id.online_balance_finding)
        self.assertTrue(any("differ by" in body for body in self.chatter(link)))

        link.sandbox_scenario = "normal"
        click(self.env, link.action_fetch_transactions)
        self.assertAgreesWithBank(link, account)
        self.assertIn("agrees with the bank again", " ".join(self.chatter(link)))

    # 5. booked, not available ---------------------------------------------------------

    def test_the_booked_balance_is_compared_the_available_one_shown(self):
        link = self.connect(volume=6)
        account = self.account_of(link)
        pending = sum(t.amount for t in SandboxProvider().list_transactions(
            link._get_tokens(), account.provider_account_id, date.today() - timedelta(days=2)).transactions
            if not t.is_posted)
        self.assertTrue(pending, "the bank has pending transactions")
        self.assertAlmostEqual(account.available_balance, account.balance + float(pending), places=2)
        self.assertAgreesWithBank(link, account)


class ConnectorBalances(AggregatorFlow):
    """Balances through a real connector and its fake; the flows themselves are tested in test_aggregators.

    Each connector's class gives ``bank_balance_at(account_id, day)`` from its fake's book.
    """

    test_full_flow = None
    test_callback_refuses_a_forged_foreign_or_replayed_state = None

    def test_journal_and_statements_agree_with_the_bank_until_a_transaction_is_missing(self):
        link = self.connect()
        for account in link.account_ids:
            self.assertGreaterEqual(account.opening_date, FIRST_SYNC - timedelta(days=1))
            self.assertLess(account.opening_date, min(self.imported(account).mapped("date")))
            self.assertAlmostEqual(account.opening_balance,
                                   float(self.bank_balance_at(account.provider_account_id, account.opening_date)),
                                   places=2, msg="the opening balance is the bank's before the first imported line")
            self.assertAlmostEqual(account.balance, float(self.bank_balance_at(account.provider_account_id,
                                                                               date.today())), places=2)
            self.assertAlmostEqual(account.balance_difference, 0.0, places=2, msg=account.name)
            statements = self.env["account.bank.statement"].search([("journal_id", "=", account.journal_id.id)])
            self.assertTrue(statements and all(statements.mapped("is_complete")), account.name)
            self.assertTrue(all(statements.mapped("is_valid")), account.name)

        # A transaction booked long ago that the bank adds now: its balances count it, the window misses it.
        account = link.account_ids[0]
        self.fake.add_transaction(account.provider_account_id, Decimal("-250.00"), date.today() - timedelta(days=25))
        # Balances are read again by a run that imports something (the bank counts balance calls).
        self.fake.add_transaction(account.provider_account_id, Decimal("12.00"), date.today())
        click(self.env, link.action_fetch_transactions)
        self.assertTrue(account.balance_finding)
        self.assertAlmostEqual(account.balance_difference, -250.0, places=2)
        self.assertTrue(account.journal_id.online_balance_finding)
        self.assertTrue(any("differ by" in body for body in link.message_ids.mapped("body")))


@tagged("post_install", "-at_install", "online_sync")
class TestEnableBankingBalances(ConnectorBalances, HttpCase):
    """Enable Banking gives the balance after each transaction and a closing booked balance."""

    fake_class = FakeEnableBanking

    def bank_balance_at(self, account_id, day):
        rows = self.fake.transactions[self.fake._key_of(account_id)]
        return Decimal("10000.00") + sum(
            (Decimal(r["transaction_amount"]["amount"]) * (1 if r["credit_debit_indicator"] == "CRDT" else -1)
             for r in rows if r["status"] == "BOOK" and self.fake._day(r) <= day), Decimal(0))

    def test_per_transaction_balances_are_read_and_available_is_for_information(self):
        link = self.connect()
        account = link.account_ids[0]
        self.assertAlmostEqual(account.available_balance, account.balance + 500, places=2,
                               msg="the fake's interim available balance, shown only")
        self.assertAlmostEqual(account.balance_difference, 0.0, places=2)
        raw = self.imported(account)[:1].transaction_details
        self.assertIn("balance_after_transaction", raw)


@tagged("post_install", "-at_install", "online_sync")
class TestPontoBalances(ConnectorBalances, HttpCase):
    """Ponto gives only the account's current balance, with its reference date."""

    fake_class = FakePonto
    config_options = {"ponto_connect": True}

    def bank_balance_at(self, account_id, day):
        return sum((t["attributes"]["amount"] for t in self.fake.posted[account_id]
                    if date.fromisoformat(t["attributes"]["executionDate"][:10]) <= day), Decimal("10000"))
