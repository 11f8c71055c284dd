from odoo import fields, models


class AccountOnlineJournal(models.Model):
    """A bank account read through a legacy connection, feeding one journal."""

    _name = "account.online.journal"
    _description = "Online Account (before December 2020)"
    _order = "name, id"

    name = fields.Char(required=True)
    account_online_provider_id = fields.Many2one(
        "account.online.provider", string="Connection", required=True, ondelete="cascade", index=True,
    )
    company_id = fields.Many2one(related="account_online_provider_id.company_id", store=True)
    journal_ids = fields.One2many("account.journal", "account_online_journal_id", string="Journals")
    account_number = fields.Char()
    online_identifier = fields.Char(string="Account ID", help="The account's id at the aggregator.")
    balance = fields.Float()
    last_sync = fields.Date(string="Last Synchronization")
