"""The bank import creates, numbers and posts its entries in batches: the result must be
exactly what Odoo's own one-entry-at-a-time creation of the same statement lines gives."""
from datetime import date, timedelta

from freezegun import freeze_time

from odoo import models
from odoo.tests import tagged

from odoo.addons.account_online_synchronization.models import online_account

from online_sync_case import OnlineSyncCase, click

TODAY = date(2026, 1, 9)
FIRST = date(2025, 11, 24)  # the import crosses a year: entry numbers restart
CHUNK_SIZE = 13

#: What the import gives a statement line, and Odoo's plain create is given again.
LINE_FIELDS = ("date", "payment_ref", "amount", "amount_currency", "foreign_currency_id", "partner_id",
               "partner_name", "account_number", "transaction_details")
ITEM_FIELDS = ("name", "partner_id", "currency_id", "amount_currency", "debit", "credit", "balance",
               "amount_residual", "amount_residual_currency", "reconciled", "analytic_distribution")
#: Stored fields that differ between the two journals by construction: each record's own id and
#: audit dates, and the records of its own journal (compared above through their roles).
OWN_FIELDS = {"id", "create_date", "write_date", "create_uid", "write_uid", "journal_id", "move_id",
              "statement_id", "statement_line_id", "account_id", "internal_index", "default_account_id",
              "suspense_account_id"}


@tagged("post_install", "-at_install", "online_sync")
class TestImportEntries(OnlineSyncCase):

    def setUp(self):
        super().setUp()
        self.patch(online_account, "CHUNK_SIZE", CHUNK_SIZE)

    def import_then_replay(self, account_name):
        """Import ``account_name`` in two synchronizations; replay its lines into a twin
        journal through Odoo's plain create, chunk by chunk; return both journals' lines."""
        with freeze_time(TODAY - timedelta(days=12)):
            link = self.connect(volume=2, accounts=())
            account = link.account_ids.filtered(lambda a: a.name == account_name)
            journal = account._link_to_journal(None, FIRST)
            click(self.env, link.action_fetch_transactions)
        first_run = self.lines_of(account)
        with freeze_time(TODAY):
            click(self.env, journal.manual_sync)
        lines = self.lines_of(account).sorted("id")
        self.assertGreater(len(lines), 4 * CHUNK_SIZE)
        self.assertTrue({d.year for d in lines.mapped("date")} == {2025, 2026})

        # The same lines in the order each synchronization created them, with its chunks.
        twin = journal.copy({"name": f"{journal.name} twin", "online_account_id": False})
        replayed = self.StatementLine
        statements = {}
        # Each synchronization's chunks on its own day, as Odoo computes some values from today's date.
        for run, day in ((lines & first_run, TODAY - timedelta(days=12)), (lines - first_run, TODAY)):
            with freeze_time(day):
                for chunk in (run[start:start + CHUNK_SIZE] for start in range(0, len(run), CHUNK_SIZE)):
                    vals_list = [{"journal_id": twin.id, **{field: self.value(line[field]) for field in LINE_FIELDS}}
                                 for line in chunk]
                    created = self.StatementLine.with_context(**online_account.IMPORT_CONTEXT).create(vals_list)
                    twin._online_sync_chain_balances(
                        twin._online_sync_file_into_statements(created, statements, chunk[0].create_date))
                    replayed |= created
        return journal, lines, twin, replayed

    @staticmethod
    def value(value):
        return value.id if isinstance(value, models.BaseModel) else value

    def assertSameEntries(self, journal, lines, twin, replayed):
        def own(name, code):
            return name.replace(code, "<code>", 1)

        self.assertEqual(len(lines), len(replayed))
        for line, twin_line in zip(lines, replayed):
            move, twin_move = line.move_id, twin_line.move_id
            self.assertEqual(move.state, "posted")
            self.assertEqual(
                (own(move.name, journal.code), own(move.sequence_prefix, journal.code), move.sequence_number,
                 move.made_sequence_gap, move.date, move.checked, move.currency_id, move.amount_total,
                 move.partner_id, move.ref, move.narration, move.is_manually_modified, move.journal_id == journal),
                (own(twin_move.name, twin.code), own(twin_move.sequence_prefix, twin.code), twin_move.sequence_number,
                 twin_move.made_sequence_gap, twin_move.date, twin_move.checked, twin_move.currency_id,
                 twin_move.amount_total, twin_move.partner_id, twin_move.ref, twin_move.narration,
                 twin_move.is_manually_modified, twin_move.journal_id == twin),
            )
            # The entry and its journal items point back to their statement line and statement.
            self.assertEqual((move.statement_line_id, move.statement_id), (line, line.statement_id))
            self.assertEqual((move.line_ids.statement_line_id, move.line_ids.statement_id), (line, line.statement_id))
            self.assertEqual(line.statement_id.name.replace(journal.code, twin.code), twin_line.statement_id.name)
            for field in ("amount_residual", "is_reconciled", "currency_id", "company_id"):
                self.assertEqual(line[field], twin_line[field], field)
            roles = {journal.default_account_id: "bank", twin.default_account_id: "bank",
                     journal.suspense_account_id: "suspense", twin.suspense_account_id: "suspense"}
            items = [(roles[item.account_id], item.move_name.replace(journal.code, "<code>"),
                      *(item[field] for field in ITEM_FIELDS)) for item in move.line_ids.sorted("id")]
            twin_items = [(roles[item.account_id], item.move_name.replace(twin.code, "<code>"),
                           *(item[field] for field in ITEM_FIELDS)) for item in twin_move.line_ids.sorted("id")]
            self.assertEqual(items, twin_items, f"journal items of {move.name}")
        self.assertSameStored(lines.move_id, replayed.move_id, journal, twin)
        self.assertSameStored(lines.move_id.line_ids, replayed.move_id.line_ids, journal, twin)
        self.assertSameStored(lines, replayed, journal, twin)
        statements = lines.statement_id.sorted("first_line_index")
        self.assertTotalsAsOdooComputes(statements)
        twin_statements = replayed.statement_id.sorted("first_line_index")
        # The synchronized journal's balances are the bank's (opening balance included): compare what each
        # statement holds.
        self.assertEqual(
            [(s.name.replace(journal.code, twin.code), round(s.balance_end - s.balance_start, 2)) for s in statements],
            [(s.name, round(s.balance_end - s.balance_start, 2)) for s in twin_statements],
        )
        numbers = lines.move_id.sorted(lambda m: (m.date, m.id)).mapped("name")
        self.assertEqual(len(set(numbers)), len(numbers))
        self.assertTrue(numbers[0].endswith("/2025/00001"), numbers[0])

    def assertTotalsAsOdooComputes(self, statements):
        """Each statement's first line, last day, ending balance and completeness are what Odoo's own
        computations give from its lines (the import computes them with aggregates)."""
        names = ("first_line_index", "date", "balance_start", "balance_end", "balance_end_real", "is_complete")
        statements.invalidate_recordset()
        stored = [[statement[name] for name in names] for statement in statements]
        for name in ("first_line_index", "date", "balance_end", "is_complete"):
            self.env.add_to_compute(statements._fields[name], statements)
        self.assertEqual(stored, [[statement[name] for name in names] for statement in statements])
        self.assertTrue(all(statements.mapped("is_complete")), "every statement ends on the bank's balance, "
                        "across the new year too")

    def assertSameStored(self, records, twins, journal, twin):
        """Every stored value Odoo gives ``records`` is that of its twin, journal codes aside."""
        names = [name for name, field in records._fields.items()
                 if field.store and field.type not in ("one2many", "many2many") and name not in OWN_FIELDS
                 and field._module != "account_online_synchronization"]
        self.assertEqual(len(records), len(twins))
        for record, twin_record in zip(records, twins):
            for name in names:
                value, twin_value = self.value(record[name]), self.value(twin_record[name])
                if isinstance(value, str) and isinstance(twin_value, str):
                    value, twin_value = value.replace(journal.code, "<code>"), twin_value.replace(twin.code, "<code>")
                self.assertEqual(value, twin_value, f"{records._name}.{name} of {record.display_name}")

    def test_foreign_currency_journal_with_foreign_amounts(self):
        """A EUR journal in a USD company: every amount is converted; GBP card payments keep their amount."""
        journal, lines, twin, replayed = self.import_then_replay("Current Account")
        self.assertNotEqual(journal.currency_id, journal.company_id.currency_id)
        self.assertTrue(lines.filtered("foreign_currency_id"), "some lines carry a foreign amount")
        self.assertSameEntries(journal, lines, twin, replayed)

    def test_company_currency_journal_with_foreign_amounts(self):
        """A USD journal in a USD company, with EUR and GBP foreign amounts."""
        journal, lines, twin, replayed = self.import_then_replay("Business Account USD")
        self.assertFalse(journal.currency_id)
        self.assertTrue(lines.filtered("foreign_currency_id"))
        self.assertSameEntries(journal, lines, twin, replayed)

    def test_numbers_follow_entries_posted_in_between(self):
        """An entry posted by hand between two imports takes its number; the import continues after it."""
        with freeze_time(TODAY - timedelta(days=12)):
            link = self.connect(volume=2, accounts=())
            account = link.account_ids.filtered(lambda a: a.name == "Savings Account")
            journal = account._link_to_journal(None, TODAY - timedelta(days=40))
            click(self.env, link.action_fetch_transactions)
            manual = self.StatementLine.create({"journal_id": journal.id, "date": TODAY - timedelta(days=12),
                                                "payment_ref": "Cash deposit", "amount": 50.0})
        with freeze_time(TODAY):
            click(self.env, journal.manual_sync)
        moves = (self.lines_of(account) | manual).move_id
        self.assertTrue(all(m.state == "posted" for m in moves))
        year_2025 = moves.filtered(lambda m: m.date.year == 2025)
        self.assertEqual(sorted(year_2025.mapped("sequence_number")), list(range(1, len(year_2025) + 1)))
        later = year_2025.filtered(lambda m: m.id > manual.move_id.id)
        self.assertTrue(later)
        self.assertTrue(all(m.sequence_number > manual.move_id.sequence_number for m in later))
