"""What the bank lists as pending: shown on the account, never imported as statement lines."""
from odoo import fields, models


class OnlineTransactionPending(models.Model):
    """A transaction the bank has not posted yet, as listed by the account's last synchronization."""

    _name = "online.transaction.pending"
    _description = "Pending Bank Transaction"
    _order = "date desc, id desc"
    _check_company_auto = True
    _rec_name = "label"

    online_account_id = fields.Many2one(
        "online.account", string="Online Account", required=True, readonly=True, ondelete="cascade", index=True,
    )
    company_id = fields.Many2one(related="online_account_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="online_account_id.currency_id")
    transaction_identifier = fields.Char(string="Bank Transaction ID", readonly=True)
    date = fields.Date(readonly=True)
    label = fields.Char(readonly=True)
    partner_name = fields.Char(string="Counterparty", readonly=True)
    amount = fields.Monetary(readonly=True)
