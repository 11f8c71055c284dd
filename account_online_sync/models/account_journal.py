from odoo import _, fields, models


class AccountJournal(models.Model):
    _inherit = "account.journal"

    account_online_journal_id = fields.Many2one(
        "account.online.journal", string="Online Account (before December 2020)",
        copy=False, ondelete="set null", index="btree_not_null",
    )
    account_online_provider_id = fields.Many2one(
        related="account_online_journal_id.account_online_provider_id", string="Online Provider (before December 2020)",
    )

    def __get_bank_statements_available_sources(self):
        # account builds the selection from this name-mangled hook: the class
        # must keep the name AccountJournal for the override to be found.
        sources = super().__get_bank_statements_available_sources()
        if "online_sync" not in dict(sources):
            sources.append(("online_sync", _("Online Synchronization")))
        return sources
