from odoo import api, fields, models

from .online_sync_protected import check_writable

#: Set by the synchronization only: they identify the bank transaction a line was imported from.
ONLINE_FIELDS = {"online_transaction_identifier", "online_account_id"}


class AccountBankStatementLine(models.Model):
    _inherit = "account.bank.statement.line"

    online_transaction_identifier = fields.Char(
        string="Online Transaction ID", readonly=True, copy=False, index="btree_not_null",
        help="The bank's own identifier of the transaction; it prevents importing it twice.",
    )
    online_account_id = fields.Many2one(
        "online.account", string="Online Account", readonly=True, copy=False, index="btree_not_null",
        ondelete="set null",
    )

    _sql_constraints = [
        ("online_transaction_unique", "unique(online_account_id, online_transaction_identifier)",
         "This bank transaction has already been imported."),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        check_writable(self, vals_list, {}, ONLINE_FIELDS, creating=True)
        return super().create(vals_list)

    def write(self, vals):
        check_writable(self, [vals], {}, ONLINE_FIELDS)
        return super().write(vals)
