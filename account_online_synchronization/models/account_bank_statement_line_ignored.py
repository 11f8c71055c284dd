from odoo import fields, models


class AccountBankStatementLine(models.Model):
    """A synchronized line deleted by an accountant stays deleted: its bank id is remembered as ignored."""

    _inherit = "account.bank.statement.line"

    online_duplicate_kept = fields.Boolean(
        string="Kept as Not a Duplicate", copy=False,
        help="Reviewed in Find Duplicate Transactions and kept: not proposed again.",
    )

    def unlink(self):
        self.env["online.transaction.ignored"]._ignore_deleted_lines(self)
        return super().unlink()
