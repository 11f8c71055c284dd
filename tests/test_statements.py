from datetime import date, timedelta

from freezegun import freeze_time

from odoo.tests import tagged

from online_sync_case import OnlineSyncCase

TODAY = date(2026, 3, 18)  # a Wednesday
FIRST = date(2026, 1, 20)


@tagged("post_install", "-at_install", "online_sync")
class TestStatementPeriodicity(OnlineSyncCase):

    def sync_with(self, groupby):
        with freeze_time(TODAY):
            link = self.connect(volume=2, accounts=())
            account = link.account_ids.filtered(lambda a: a.name == "Current Account")
            journal = account._link_to_journal(None, FIRST)
            journal.bank_statement_creation_groupby = groupby
            link.action_fetch_transactions()
            self.run_queued_imports()
        lines = self.lines_of(account)
        self.assertTrue(lines)
        self.assertTrue(all(lines.mapped("statement_id")), "every line is in a statement")
        return journal, lines

    def assertPeriods(self, lines, period_of):
        for statement in lines.statement_id:
            periods = {period_of(d) for d in statement.line_ids.mapped("date")}
            self.assertEqual(len(periods), 1, f"{statement.name} spans {periods}")
        self.assertEqual(len(lines.statement_id), len({period_of(d) for d in lines.mapped("date")}))

    def test_month_is_the_default(self):
        self.assertEqual(self.env["account.journal"].create({"name": "B", "type": "bank", "code": "BX"})
                         .bank_statement_creation_groupby, "month")
        journal, lines = self.sync_with("month")
        self.assertPeriods(lines, lambda d: (d.year, d.month))
        self.assertEqual(sorted(lines.statement_id.mapped("name")),
                         [f"{journal.code} Statement 2026-0{m}" for m in (1, 2, 3)])
        statements = lines.statement_id.sorted("first_line_index")
        account = journal.online_account_id
        self.assertAlmostEqual(statements[0].balance_start, account.opening_balance, places=2,
                               msg="the first statement starts where the bank started")
        for previous, statement in zip(statements, statements[1:]):
            self.assertAlmostEqual(statement.balance_start, previous.balance_end_real, places=2,
                                   msg="each statement starts where the previous one ended")
        self.assertAlmostEqual(statements[-1].balance_end_real, account.balance, places=2)
        self.assertTrue(all(statements.mapped("is_complete")))
        self.assertTrue(all(statements.mapped("is_valid")))

    def test_day(self):
        journal, lines = self.sync_with("day")
        self.assertPeriods(lines, lambda d: d)
        day = lines[0].date
        self.assertEqual(lines.filtered(lambda l: l.date == day).statement_id.name,
                         f"{journal.code} Statement {day.isoformat()}")

    def test_week(self):
        journal, lines = self.sync_with("week")
        self.assertPeriods(lines, lambda d: d.isocalendar()[:2])
        self.assertIn(f"{journal.code} Statement 2026-W04", lines.statement_id.mapped("name"))

    def test_bimonthly(self):
        journal, lines = self.sync_with("bimonthly")
        self.assertPeriods(lines, lambda d: (d.year, d.month, d.day <= 15))
        names = lines.statement_id.mapped("name")
        self.assertIn(f"{journal.code} Statement 2026-02 (1-15)", names)
        self.assertIn(f"{journal.code} Statement 2026-02 (16-28)", names)

    def test_one_statement_per_synchronization(self):
        journal, lines = self.sync_with("none")
        self.assertEqual(len(lines.statement_id), 1)
        with freeze_time(TODAY + timedelta(days=3)):
            journal.manual_sync()
        new_lines = self.lines_of(journal.online_account_id) - lines
        self.assertTrue(new_lines)
        self.assertEqual(len(new_lines.statement_id), 1)
        self.assertNotEqual(new_lines.statement_id, lines.statement_id)

    def test_new_lines_append_to_the_open_statement_of_the_period(self):
        journal, lines = self.sync_with("month")
        march = lines.filtered(lambda l: l.date.month == 3).statement_id
        with freeze_time(TODAY + timedelta(days=5)):
            journal.manual_sync()
        new_lines = self.lines_of(journal.online_account_id) - lines
        self.assertTrue(new_lines)
        self.assertEqual(new_lines.statement_id, march, "March lines go to the March statement")
        self.assertAlmostEqual(march.balance_end_real, march.balance_end, places=2)
        self.assertTrue(march.is_complete)
