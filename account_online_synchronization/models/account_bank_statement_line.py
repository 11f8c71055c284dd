from odoo import fields, models


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
