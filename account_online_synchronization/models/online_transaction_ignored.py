"""Bank transactions the synchronization does not import: deleted by an accountant, or held for review."""
from odoo import _, api, fields, models
from odoo.exceptions import UserError


class OnlineTransactionIgnored(models.Model):
    """One bank transaction the next runs skip, with who decided it and when.

    A synchronized line an accountant deletes comes here ("deleted"), so that
    the bank's next listing does not bring it back. A new bank transaction
    that looks like a line entered by hand in the journal before the feed
    brought it comes here too ("held"), instead of being imported twice: the
    accountant either restores it (it is imported) or keeps the hand line
    (which takes the bank's id).
    """

    _name = "online.transaction.ignored"
    _inherit = ["online.transaction.summary"]
    _description = "Ignored Bank Transaction"

    journal_id = fields.Many2one(related="online_account_id.journal_id", string="Journal")
    reason = fields.Selection(
        [("deleted", "Deleted in Odoo"), ("held", "Held: looks like a line entered by hand")],
        required=True, readonly=True,
    )
    hand_line_id = fields.Many2one(
        "account.bank.statement.line", string="Line Entered by Hand", readonly=True, ondelete="set null",
        help="The journal's line without a bank id that has the amount of this transaction, dated at most "
             "two days apart.",
    )
    user_id = fields.Many2one("res.users", string="Ignored By", readonly=True)
    ignored_on = fields.Datetime(readonly=True)

    _sql_constraints = [
        ("transaction_unique", "unique(online_account_id, transaction_identifier)",
         "This bank transaction is already ignored."),
    ]

    @api.model
    def _ignore_deleted_lines(self, lines):
        """Remember the bank ids of synchronized ``lines`` about to be deleted, with who deletes them."""
        lines = lines.filtered(lambda line: line.online_account_id and line.online_transaction_identifier)
        if not lines:
            return
        known = {(record.online_account_id.id, record.transaction_identifier) for record in self.sudo().search([
            ("online_account_id", "in", lines.online_account_id.ids),
            ("transaction_identifier", "in", lines.mapped("online_transaction_identifier")),
        ])}
        self.sudo().create([{
            "online_account_id": line.online_account_id.id,
            "transaction_identifier": line.online_transaction_identifier,
            "date": line.date,
            "label": line.payment_ref,
            "partner_name": line.partner_name,
            "amount": line.amount,
            "reason": "deleted",
            "user_id": self.env.uid,
            "ignored_on": fields.Datetime.now(),
        } for line in lines if (line.online_account_id.id, line.online_transaction_identifier) not in known])

    def _check_can_review(self):
        """Accountants of the transactions' companies review them (read access, then write on the connections)."""
        self.check_access("read")
        self.online_account_id.link_id.check_access("write")

    def action_restore(self):
        """Import the transactions again: now when the bank can be asked at once, else at the next run.

        A held transaction's hand line is then reviewed as a different transaction: it holds no other.
        """
        self._check_can_review()
        self.filtered(lambda record: record.reason == "held").hand_line_id.sudo().online_duplicate_kept = True
        accounts = self.online_account_id
        for account in accounts:
            account.sudo()._read_again_from(min(self.filtered(lambda r: r.online_account_id == account).mapped("date")))
        self.sudo().unlink()
        results = [account.link_id._synchronize_or_queue(account) for account in accounts]
        return results[0] if len(results) == 1 else True

    def action_keep_hand_line(self):
        """The held transaction is the line entered by hand: that line takes its bank id, nothing is imported."""
        self._check_can_review()
        for record in self:
            line = record.hand_line_id
            if record.reason != "held" or not line:
                raise UserError(_("Only a held transaction whose hand line still exists can be merged into it."))
            line.check_access("write")
            if line.online_transaction_identifier:
                raise UserError(_("The line %(line)s already comes from the bank.", line=line.display_name))
            line.sudo().write({
                "online_account_id": record.online_account_id.id,
                "online_transaction_identifier": record.transaction_identifier,
            })
        self.sudo().unlink()
        return True
