from odoo import api, fields, models


class OnlineTransactionSummary(models.AbstractModel):
    """What Odoo shows of a bank transaction that is not a statement line: date, label, counterparty, amount."""

    _name = "online.transaction.summary"
    _description = "Bank Transaction Summary"
    _order = "date desc, id desc"
    _check_company_auto = True
    _rec_name = "label"

    online_account_id = fields.Many2one(
        "online.account", string="Online Account", required=True, readonly=True, ondelete="cascade", index=True,
    )
    company_id = fields.Many2one(related="online_account_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="online_account_id.currency_id")
    transaction_identifier = fields.Char(string="Bank Transaction ID", required=True, readonly=True)
    date = fields.Date(readonly=True)
    label = fields.Char(readonly=True)
    partner_name = fields.Char(string="Counterparty", readonly=True)
    amount = fields.Monetary(readonly=True)

    @api.model
    def _summary_vals(self, transaction):
        """The values shown of the provider's ``transaction``."""
        return {
            "transaction_identifier": transaction.id,
            "date": transaction.booking_date,
            "label": transaction.label or transaction.counterparty_name or "/",
            "partner_name": transaction.counterparty_name or False,
            "amount": float(transaction.amount),
        }
