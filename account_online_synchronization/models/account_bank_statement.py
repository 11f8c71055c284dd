from contextlib import contextmanager

from odoo import models

#: What Odoo computes from every line of a statement, each time one of them changes.
LINE_TOTALS = ("first_line_index", "date", "balance_end", "is_complete")


class AccountBankStatement(models.Model):
    _inherit = "account.bank.statement"

    def _online_sync_write(self, vals):
        """Write ``vals`` on these statements, then what Odoo computes from all their lines, from aggregates.

        Odoo reads every line of a statement to compute its first line, last
        day, ending balance and completeness again, each time a line is added
        or a balance set. A bank import adds lines a chunk at a time to a
        statement that may hold thousands: the same values come from three
        indexed queries instead.
        """
        with self._online_sync_totals_from_aggregates():
            self.write(vals)

    def _online_sync_file_lines(self, lines):
        """Put ``lines`` into this statement, as writing their ``statement_id`` does."""
        self.ensure_one()
        with self._online_sync_totals_from_aggregates():
            lines.statement_id = self

    @contextmanager
    def _online_sync_totals_from_aggregates(self):
        """Keep Odoo from computing these statements' totals from their lines in the block; set them after."""
        with self.env.protecting([self._fields[name] for name in LINE_TOTALS], self):
            yield
            self._online_sync_set_line_totals()

    def _online_sync_set_line_totals(self):
        """Set, as Odoo's computations define them, the first line, last posted day, ending balance and
        completeness of these statements (``_compute_date_index``, ``_compute_balance_end``, ``_compute_is_complete``)."""
        lines = self.env["account.bank.statement.line"]
        indexed = [("statement_id", "in", self.ids), ("internal_index", "!=", False)]
        first = dict(lines._read_group(indexed, ["statement_id"], ["internal_index:min"]))
        posted = {statement: (last, total, count) for statement, last, total, count in lines._read_group(
            [*indexed, ("state", "=", "posted")], ["statement_id"], ["internal_index:max", "amount:sum", "__count"])}
        last_indexes = [last for last, _total, _count in posted.values()]
        last_dates = {line.internal_index: line.date for line in lines.search_fetch(
            [("statement_id", "in", self.ids), ("internal_index", "in", last_indexes)], ["internal_index", "date"])}
        for statement in self:
            last, total, count = posted.get(statement, (False, 0.0, 0))
            balance_end = statement.balance_start + total
            statement.update({
                "first_line_index": first.get(statement, False),
                "date": last_dates.get(last, False),
                "balance_end": balance_end,
                "is_complete": bool(count) and statement.currency_id.compare_amounts(
                    balance_end, statement.balance_end_real) == 0,
            })
