from odoo import api, fields, models


class AccountOnlineProvider(models.Model):
    """A connection of the former online synchronization to an aggregator, for one company."""

    _name = "account.online.provider"
    _description = "Online Provider (before December 2020)"
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(string="Institution", required=True)
    provider_type = fields.Selection(
        selection=[("plaid", "Plaid"), ("yodlee", "Yodlee"), ("ponto", "Ponto"), ("saltedge", "Salt Edge")],
        required=True,
    )
    provider_identifier = fields.Char(string="Institution ID", help="The institution's id at the aggregator.")
    provider_account_identifier = fields.Char(string="Connection ID", help="The connection's id at the aggregator.")
    client_id = fields.Char(string="Client ID", help="The company's id at the aggregator.")
    status = fields.Selection(
        selection=[
            ("connected", "Connected"),
            ("action_required", "Action Required"),
            ("error", "Error"),
            ("disconnected", "Disconnected"),
        ],
        default="connected", required=True,
    )
    status_code = fields.Char()
    message = fields.Char()
    last_refresh = fields.Datetime()
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    account_online_journal_ids = fields.One2many(
        "account.online.journal", "account_online_provider_id", string="Synchronized Accounts",
    )

    @api.model_create_multi
    def create(self, vals_list):
        providers = super().create(vals_list)
        self._hand_over_to_online_synchronization()
        return providers

    @api.model
    def _hand_over_to_online_synchronization(self):
        """Let the new synchronization take these connections over when it is installed."""
        if "online.link" in self.env:
            self.env["online.link"]._migrate_legacy_connections()
