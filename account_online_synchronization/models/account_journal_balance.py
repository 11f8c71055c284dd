from odoo import fields, models


class AccountJournal(models.Model):
    """The balance finding of the journal's online account, for its dashboard card."""

    _inherit = "account.journal"

    online_balance_finding = fields.Boolean(related="online_account_id.balance_finding")
    online_balance_finding_message = fields.Char(related="online_account_id.balance_finding_message")

    def action_open_online_account(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "online.account",
            "res_id": self.online_account_id.id,
            "view_mode": "form",
        }
