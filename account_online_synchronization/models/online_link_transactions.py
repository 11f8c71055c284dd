from odoo import api, fields, models


class OnlineLink(models.Model):
    _inherit = "online.link"

    transaction_count = fields.Integer(compute="_compute_transaction_count", string="Bank Transactions")

    @api.depends("account_ids")
    def _compute_transaction_count(self):
        counts = dict(self.env["account.bank.statement.line"]._read_group(
            [("online_account_id", "in", self.account_ids.ids)], ["online_account_id"], ["__count"],
        ))
        for link in self:
            link.transaction_count = sum(counts.get(account, 0) for account in link.account_ids)

    def action_open_transactions(self):
        self.ensure_one()
        return self.env["account.bank.statement.line"]._action_bank_transactions(
            [("online_account_id", "in", self.account_ids.ids)], {"search_default_group_journal": 1},
        )
