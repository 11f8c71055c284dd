from datetime import timedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError

from ..models.online_account import DEFAULT_HISTORY_DAYS
from ..models.online_account_pending import LOOKUP_CONTEXT
from ..providers import ProviderError

KINDS = [
    ("missing", "Missing: importable"),
    ("pending", "Pending at the bank"),
    ("ignored", "Ignored"),
    ("not_at_bank", "In the journal, no longer at the bank"),
]


class OnlineMissingTransactions(models.TransientModel):
    """Find Missing Transactions: what the bank lists over a period that the journal does not, and back.

    Asking looks at the bank without changing anything. Importing runs the
    account's synchronization from the period's start: the engine imports
    what is missing (not the ignored transactions) into the statements of
    their period, and the synchronized date ends where a run leaves it.
    """

    _name = "online.missing.transactions"
    _inherit = ["online.review.base"]
    _description = "Find Missing Transactions"

    date_from = fields.Date(compute="_compute_date_from", store=True, readonly=False, precompute=True)
    oldest_date = fields.Date(compute="_compute_oldest_date", string="Oldest Date the Bank Gives")
    history_note = fields.Char(readonly=True)
    line_ids = fields.One2many("online.missing.transactions.line", "wizard_id", readonly=True)
    missing_count = fields.Integer(compute="_compute_counts")
    not_at_bank_count = fields.Integer(compute="_compute_counts")

    @api.depends("journal_id")
    def _compute_date_from(self):
        """The last DEFAULT_HISTORY_DAYS days, or less when the journal's history or the bank's is shorter."""
        today = fields.Date.context_today(self)
        for wizard in self:
            wizard.date_from = max(today - timedelta(days=DEFAULT_HISTORY_DAYS),
                                   self._oldest_for(wizard.account_id) or today)

    @api.model
    def _oldest_for(self, account):
        """The oldest day worth asking the bank for: neither before the journal's history nor what the bank keeps."""
        if not account:
            return False
        today = fields.Date.context_today(self)
        oldest = account.first_sync_date or today - timedelta(days=DEFAULT_HISTORY_DAYS)
        limit = account.link_id.institution_max_history_days
        return max(oldest, today - timedelta(days=limit)) if limit else oldest

    @api.depends("account_id")
    def _compute_oldest_date(self):
        for wizard in self:
            wizard.oldest_date = self._oldest_for(wizard.account_id)

    @api.depends("line_ids")
    def _compute_counts(self):
        for wizard in self:
            wizard.missing_count = len(wizard.line_ids.filtered(lambda line: line.kind == "missing"))
            wizard.not_at_bank_count = len(wizard.line_ids.filtered(lambda line: line.kind == "not_at_bank"))

    def action_search(self):
        """Ask the bank for the period and list the differences with the journal."""
        account = self._checked_account()
        if self.date_from < self.oldest_date:
            raise UserError(_(
                "Choose a period from %(date)s: the journal's history starts then, or the bank keeps nothing older.",
                date=self.oldest_date))
        posted, waiting, history_start = self._ask_bank(account)
        start = max(self.date_from, history_start or self.date_from)
        posted = [t for t in posted if start <= t.booking_date <= self.date_to]
        waiting = [t for t in waiting if t.booking_date <= self.date_to and t.currency == account.currency_id.name]
        ids = [t.id for t in posted]
        imported = set(self.env["account.bank.statement.line"].sudo().search_fetch([
            ("online_account_id", "=", account.id), ("online_transaction_identifier", "in", ids),
        ], ["online_transaction_identifier"]).mapped("online_transaction_identifier"))
        ignored = set(self.env["online.transaction.ignored"].sudo().search_fetch([
            ("online_account_id", "=", account.id), ("transaction_identifier", "in", ids),
        ], ["transaction_identifier"]).mapped("transaction_identifier"))
        listed = set(ids) | {t.id for t in waiting}
        gone = self.env["account.bank.statement.line"].search([
            ("online_account_id", "=", account.id), ("date", ">=", start), ("date", "<=", self.date_to),
            ("online_transaction_identifier", "not in", list(listed)),
        ], order="date, id")
        vals = [self._line_vals(t, "ignored" if t.id in ignored else "missing")
                for t in posted if t.id not in imported]
        vals += [self._line_vals(t, "pending") for t in waiting]
        vals += [{
            "kind": "not_at_bank", "date": line.date, "label": line.payment_ref, "partner_name": line.partner_name,
            "amount": line.amount, "transaction_identifier": line.online_transaction_identifier,
            "statement_line_id": line.id,
        } for line in gone]
        self.sudo().write({
            "searched": True,
            "history_note": history_start and history_start > self.date_from and _(
                "The bank gave transactions from %(date)s only.", date=history_start) or False,
            "line_ids": [Command.clear()] + [Command.create(v) for v in vals],
        })
        return self._reopen()

    def _ask_bank(self, account):
        """The bank's posted and pending transactions of ``account`` from the period's start, changing nothing."""
        link = account.link_id
        link._check_resynchronizable()
        link = link.sudo()
        link._count_synchronization(unattended=False)
        try:
            provider = link._get_provider()
            provider.psu = link._present_user()
            tokens = link._refresh_tokens(provider)
            return account.sudo().with_context(**{LOOKUP_CONTEXT: True})._fetch_bank_transactions(
                provider, tokens, self.date_from, unattended=False)
        except ProviderError as error:
            raise UserError(_("%(bank)s did not answer: %(error)s", bank=link.name,
                              error=link._scrub(error.message, link._known_secrets()))) from None

    def _line_vals(self, transaction, kind):
        return dict(self.env["online.transaction.summary"]._summary_vals(transaction), kind=kind)

    def action_import(self):
        """Import the missing posted transactions: the account is synchronized again from the period's start."""
        account = self._checked_account()
        if not self.missing_count:
            raise UserError(_("Nothing to import: search first, or every posted transaction is already in the journal."))
        link = account.link_id
        link._check_resynchronizable()
        account.sudo()._read_again_from(self.date_from)
        return link._synchronize_or_queue(account)


class OnlineMissingTransactionsLine(models.TransientModel):
    _name = "online.missing.transactions.line"
    _inherit = ["online.sync.protected"]
    _description = "Missing Transaction"
    _order = "kind, date, id"

    wizard_id = fields.Many2one("online.missing.transactions", required=True, ondelete="cascade", readonly=True)
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    kind = fields.Selection(KINDS, required=True, readonly=True)
    date = fields.Date(readonly=True)
    label = fields.Char(readonly=True)
    partner_name = fields.Char(string="Counterparty", readonly=True)
    amount = fields.Monetary(readonly=True)
    transaction_identifier = fields.Char(string="Bank Transaction ID", readonly=True)
    statement_line_id = fields.Many2one("account.bank.statement.line", readonly=True, ondelete="cascade")
