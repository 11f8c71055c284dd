from odoo import fields, models

#: Context key of a look at the bank that changes nothing (Find Missing Transactions): the pending
#: list, the resume cursor and the held duplicates are left as they are.
LOOKUP_CONTEXT = "online_sync_lookup"


class OnlineAccount(models.Model):
    """The bank's pending transactions, listed again by each synchronization."""

    _inherit = "online.account"

    pending_transaction_ids = fields.One2many(
        "online.transaction.pending", "online_account_id", string="Pending at the Bank", readonly=True,
    )

    def _fetch_bank_transactions(self, provider, tokens, date_from, unattended, changes=None):
        posted, waiting, history_start = super()._fetch_bank_transactions(
            provider, tokens, date_from, unattended, changes=changes)
        if not self.env.context.get(LOOKUP_CONTEXT):
            self._show_pending(waiting)
        return posted, waiting, history_start

    def _show_pending(self, transactions):
        """Replace the account's pending list by ``transactions`` (those in its currency: the others cannot be
        shown with a right amount)."""
        self.ensure_one()
        self.sudo().pending_transaction_ids.unlink()
        Pending = self.env["online.transaction.pending"].sudo()
        Pending.create([dict(Pending._summary_vals(transaction), online_account_id=self.id)
                        for transaction in transactions if transaction.currency == self.currency_id.name])
