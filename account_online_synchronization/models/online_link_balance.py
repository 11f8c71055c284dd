from odoo import api, fields, models


class OnlineLink(models.Model):
    """The balance findings of the connection's accounts."""

    _inherit = "online.link"

    balance_finding = fields.Boolean(
        string="Disagrees with Bank", compute="_compute_balance_finding",
        help="The journal of an account disagrees with the bank and nobody has acknowledged why.",
    )
    balance_finding_message = fields.Text(compute="_compute_balance_finding")

    @api.depends("account_ids")
    def _compute_balance_finding(self):
        for link in self:
            found = link.account_ids.filtered("balance_finding")
            link.balance_finding = bool(found)
            link.balance_finding_message = "\n".join(
                f"{account.name}: {account.balance_finding_message}." for account in found
            ) + ("\n" + found._difference_advice() if found else "")
