from odoo import _, api, fields, models

from ..providers import PROVIDERS

#: Fields handed to the connector as its configuration, when set.
CONFIG_KEYS = ("environment", "base_url", "client_id", "admin_login", "fastlink_url", "user_login",
               "plaid_hosted_link", "plaid_link_script_url")
#: Secret settings: stored encrypted, handed to the connector, never sent to the web client.
SECRET_KEYS = ("client_secret", "certificate", "private_key")


def _aggregator_selection(_model=None):
    return [(code, provider.name) for code, provider in PROVIDERS.items() if code != "sandbox"]


class OnlineProviderConfig(models.Model):
    """One company's application credentials at one aggregator."""

    _name = "online.provider.config"
    _inherit = ["online.sync.secret", "online.sync.protected"]
    _description = "Aggregator Settings"
    _order = "company_id, provider"
    _check_company_auto = True
    _secret_fields = {f"{key}_encrypted": key for key in SECRET_KEYS}
    # Administrators type the settings; the encrypted columns are written by the inverses only.
    _user_writable = {"base.group_system": {"environment", "base_url", *CONFIG_KEYS, *SECRET_KEYS}}
    _user_creatable = {"base.group_system": {"provider", "company_id", "environment", "base_url", *CONFIG_KEYS,
                                             *SECRET_KEYS}}

    provider = fields.Selection(selection=_aggregator_selection, required=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    environment = fields.Selection(
        [("sandbox", "Sandbox"), ("production", "Production")], default="sandbox", required=True,
    )
    base_url = fields.Char(
        string="Base URL", help="Leave empty to use the aggregator's URL for the environment.",
    )
    client_id = fields.Char(string="Client / Application ID")
    # The secrets are write-only: these fields always read empty, ``*_set`` tells whether one is stored.
    client_secret = fields.Char(
        string="Secret", groups="base.group_system", compute="_compute_secrets", inverse="_inverse_client_secret",
    )
    client_secret_set = fields.Boolean(string="Secret Set", compute="_compute_secrets")
    admin_login = fields.Char(string="Admin Login Name", help="Yodlee only.")
    user_login = fields.Char(string="Sandbox User", help="Yodlee sandbox only: one of its preset users.")
    fastlink_url = fields.Char(string="FastLink URL", help="Yodlee production only: your FastLink address.")
    plaid_hosted_link = fields.Boolean(
        string="Hosted Link",
        help="Plaid only: tick it only if Plaid enabled Hosted Link for this client_id. The bank is then "
             "connected on Plaid's own page instead of Plaid Link opened in Odoo.",
    )
    plaid_link_script_url = fields.Char(
        string="Link Script URL", help="Plaid only: where Plaid Link's web script is loaded from. Leave empty "
                                       "for Plaid's (https://cdn.plaid.com/link/v2/stable/link-initialize.js).",
    )
    certificate = fields.Text(
        string="Certificate (PEM)", groups="base.group_system", help="Ponto Connect (mTLS).",
        compute="_compute_secrets", inverse="_inverse_certificate",
    )
    certificate_set = fields.Boolean(string="Certificate Set", compute="_compute_secrets")
    private_key = fields.Text(
        string="Private Key (PEM)", groups="base.group_system",
        help="Ponto Connect (mTLS), Enable Banking (JWT signing), Salt Edge (request signatures).",
        compute="_compute_secrets", inverse="_inverse_private_key",
    )
    private_key_set = fields.Boolean(string="Private Key Set", compute="_compute_secrets")
    client_secret_encrypted = fields.Text(groups="base.group_system", copy=False, exportable=False)
    certificate_encrypted = fields.Text(groups="base.group_system", copy=False, exportable=False)
    private_key_encrypted = fields.Text(groups="base.group_system", copy=False, exportable=False)
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

    @api.depends(*(f"{key}_encrypted" for key in SECRET_KEYS))
    def _compute_secrets(self):
        for config in self:
            for key in SECRET_KEYS:
                config[key] = False
                config[f"{key}_set"] = bool(config.sudo()[f"{key}_encrypted"])

    def _inverse_secret(self, key):
        """Encrypt the typed secret; an empty input keeps the stored one. The input reads empty again."""
        for config in self.filtered(key):
            config.sudo()[f"{key}_encrypted"] = self._encrypt(config[key])
        self.invalidate_recordset([key])

    def _inverse_client_secret(self):
        self._inverse_secret("client_secret")

    def _inverse_certificate(self):
        self._inverse_secret("certificate")

    def _inverse_private_key(self):
        self._inverse_secret("private_key")

    @api.model
    def _get_for(self, provider_code, company):
        """The connector configuration of ``company`` for ``provider_code``, secrets decrypted, as a dict."""
        config = self.sudo().search([("provider", "=", provider_code), ("company_id", "=", company.id)], limit=1)
        values = {key: config[key] for key in CONFIG_KEYS if config and config[key]}
        for key in SECRET_KEYS:
            if config[f"{key}_encrypted"]:
                values[key] = self._decrypt(config[f"{key}_encrypted"])
        return values
