"""What the bank lists as pending: shown on the account, never imported as statement lines."""
from odoo import models


class OnlineTransactionPending(models.Model):
    """A transaction the bank has not posted yet, as listed by the account's last synchronization."""

    _name = "online.transaction.pending"
    _inherit = ["online.transaction.summary"]
    _description = "Pending Bank Transaction"
