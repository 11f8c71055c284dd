from datetime import timedelta

from odoo import Command, _, fields, models
from odoo.exceptions import UserError

from ..models.online_account_ignored import HAND_MATCH_DAYS
from .online_review_base import REVIEWERS

REASONS = [
    ("same_id", "Same bank transaction ID"),
    ("same_content", "Same date, amount and counterparty"),
    ("hand_line", "Entered by hand and synchronized (same amount, 2 days apart at most)"),
]


class OnlineDuplicateTransactions(models.TransientModel):
    """Find Duplicate Transactions: groups of lines of one journal that may be the same bank transaction.

    Nothing is decided for the accountant: each group is kept or some of its
    lines are deleted. A deleted synchronized line is ignored by the next
    runs; a kept group is not proposed again.
    """

    _name = "online.duplicate.transactions"
    _inherit = ["online.review.base"]
    _description = "Find Duplicate Transactions"
    # Ticking lines to delete saves them through the wizard.
    _user_writable = {group: {"date_from", "date_to", "line_ids"} for group in REVIEWERS}

    date_from = fields.Date(default=lambda self: fields.Date.context_today(self) - timedelta(days=90))
    line_ids = fields.One2many("online.duplicate.transactions.line", "wizard_id")
    group_count = fields.Integer(compute="_compute_group_count")

    def _compute_group_count(self):
        for wizard in self:
            wizard.group_count = len(set(wizard.line_ids.mapped("group")))

    def action_search(self):
        """List the groups of likely duplicates among the journal's lines of the period."""
        self._checked_account()
        lines = self.env["account.bank.statement.line"].search([
            ("journal_id", "=", self.journal_id.id), ("date", ">=", self.date_from), ("date", "<=", self.date_to),
        ], order="date, id")
        vals = []
        for number, (reason, group) in enumerate(self._groups(lines), start=1):
            vals += [{"group": number, "reason": reason, "statement_line_id": line.id} for line in group]
        self.sudo().write({"searched": True, "line_ids": [Command.clear()] + [Command.create(v) for v in vals]})
        return self._reopen()

    def _groups(self, lines):
        """(reason, lines) of each group of two lines or more, unless all of them were kept already."""
        currency = self.journal_id.currency_id or self.journal_id.company_id.currency_id
        parent = {line: line for line in lines}
        reasons = {}

        def root(line):
            while parent[line] != line:
                line = parent[line]
            return line

        def join(group, reason):
            for line in group[1:]:
                first, other = root(group[0]), root(line)
                if first != other:
                    parent[other] = first
                    reasons.setdefault(first, reasons.pop(other, reason))

        by_key = {}
        for line in lines:
            if line.online_transaction_identifier:
                by_key.setdefault(("same_id", line.online_transaction_identifier), []).append(line)
            counterparty = line.partner_id.id or (line.partner_name or "").strip().lower()
            by_key.setdefault(("same_content", line.date, currency.round(line.amount), counterparty), []).append(line)
        for (reason, *_key), group in by_key.items():
            join(group, reason)
        hand = lines.filtered(lambda line: not line.online_transaction_identifier)
        for line in lines - hand:
            for other in hand:
                if (abs(other.date - line.date) <= timedelta(days=HAND_MATCH_DAYS)
                        and not currency.compare_amounts(other.amount, line.amount)):
                    join([line, other], "hand_line")
        groups = {}
        for line in lines:
            groups.setdefault(root(line), []).append(line)
        return [
            (reasons.get(first, "same_content"), self.env["account.bank.statement.line"].union(*group))
            for first, group in groups.items()
            if len(group) > 1 and not all(line.online_duplicate_kept for line in group)
        ]

    def _selected(self):
        """The lines ticked for deletion, which must be lines of the journal the user reviews."""
        lines = self.line_ids.filtered("to_delete").statement_line_id
        if lines.journal_id - self.journal_id:
            raise UserError(_("Only lines of %(journal)s can be deleted here.", journal=self.journal_id.name))
        return lines

    def action_delete_selected(self):
        """Delete the ticked lines: a synchronized one is then ignored by the next runs."""
        self._checked_account()
        lines = self._selected()
        if not lines:
            raise UserError(_("Tick the lines to delete first."))
        reconciled = lines.filtered("is_reconciled")
        if reconciled:
            raise UserError(_("Reset these lines to draft in the reconciliation before deleting them: %(lines)s",
                              lines=", ".join(reconciled.mapped("display_name"))))
        lines.unlink()
        return self.action_search()

    def action_keep(self):
        """Keep the listed lines that are not ticked: they are not proposed as duplicates again."""
        self._checked_account()
        kept = self.line_ids.filtered(lambda line: not line.to_delete).statement_line_id.exists()
        kept.online_duplicate_kept = True
        return self.action_search()


class OnlineDuplicateTransactionsLine(models.TransientModel):
    _name = "online.duplicate.transactions.line"
    _inherit = ["online.sync.protected"]
    _description = "Likely Duplicate Transaction"
    _order = "group, date, id"
    _user_writable = {group: {"to_delete"} for group in REVIEWERS}

    wizard_id = fields.Many2one("online.duplicate.transactions", required=True, ondelete="cascade", readonly=True)
    group = fields.Integer(readonly=True)
    reason = fields.Selection(REASONS, readonly=True)
    statement_line_id = fields.Many2one(
        "account.bank.statement.line", string="Line", required=True, readonly=True, ondelete="cascade")
    date = fields.Date(related="statement_line_id.date")
    label = fields.Char(related="statement_line_id.payment_ref")
    partner_name = fields.Char(string="Counterparty", compute="_compute_partner_name")
    amount = fields.Monetary(related="statement_line_id.amount")
    currency_id = fields.Many2one(related="statement_line_id.currency_id")
    transaction_identifier = fields.Char(related="statement_line_id.online_transaction_identifier",
                                         string="Bank Transaction ID")
    is_reconciled = fields.Boolean(related="statement_line_id.is_reconciled")
    to_delete = fields.Boolean(string="Delete")

    def _compute_partner_name(self):
        for line in self:
            line.partner_name = line.statement_line_id.partner_id.name or line.statement_line_id.partner_name
