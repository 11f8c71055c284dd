from odoo import _, api, fields, models

from ..providers import PROVIDERS

#: Fields handed to the connector as its configuration, when set.
CONFIG_KEYS = ("environment", "base_url", "client_id", "client_secret", "admin_login", "certificate",
               "private_key", "fastlink_url", "user_login")


def _aggregator_selection(_model=None):
    return [(code, provider.name) for code, provider in PROVIDERS.items() if code != "sandbox"]


class OnlineProviderConfig(models.Model):
    """One company's application credentials at one aggregator."""

    _name = "online.provider.config"
    _description = "Aggregator Settings"
    _order = "company_id, provider"
    _check_company_auto = True

    provider = fields.Selection(selection=_aggregator_selection, required=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    environment = fields.Selection(
        [("sandbox", "Sandbox"), ("production", "Production")], default="sandbox", required=True,
    )
    base_url = fields.Char(
        string="Base URL", help="Leave empty to use the aggregator's URL for the environment.",
    )
    client_id = fields.Char(string="Client / Application ID")
    client_secret = fields.Char(string="Secret", groups="base.group_system")
    admin_login = fields.Char(string="Admin Login Name", help="Yodlee only.")
    user_login = fields.Char(string="Sandbox User", help="Yodlee sandbox only: one of its preset users.")
    fastlink_url = fields.Char(string="FastLink URL", help="Yodlee production only: your FastLink address.")
    certificate = fields.Text(string="Certificate (PEM)", groups="base.group_system", help="Ponto Connect (mTLS).")
    private_key = fields.Text(
        string="Private Key (PEM)", groups="base.group_system",
        help="Ponto Connect (mTLS), Enable Banking (JWT signing), Salt Edge (request signatures).",
    )
    settings_help = fields.Char(compute="_compute_settings_help")

    _sql_constraints = [
        ("provider_company_unique", "unique(provider, company_id)", "Each aggregator is configured once per company."),
    ]

    @api.depends("provider")
    def _compute_settings_help(self):
        for config in self:
            provider = PROVIDERS.get(config.provider)
            config.settings_help = provider and _(
                "%(provider)s needs: %(fields)s", provider=provider.name,
                fields=", ".join(provider.CONFIG_FIELDS.values()),
            )

    @api.model
    def _get_for(self, provider_code, company):
        """The connector configuration of ``company`` for ``provider_code``, as a dict."""
        config = self.sudo().search([("provider", "=", provider_code), ("company_id", "=", company.id)], limit=1)
        return {key: config[key] for key in CONFIG_KEYS if config and config[key]}
