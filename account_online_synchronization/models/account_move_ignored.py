from odoo import models


class AccountMove(models.Model):
    """Deleting the entry of a synchronized statement line deletes the line: its bank id is remembered as ignored."""

    _inherit = "account.move"

    def unlink(self):
        self.env["online.transaction.ignored"]._ignore_deleted_lines(self.statement_line_id.exists())
        return super().unlink()
