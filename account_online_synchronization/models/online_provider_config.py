from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..providers import PROVIDERS, InstitutionUnavailable, InvalidConfiguration, ProviderError, RateLimited
from .online_sync_protected import check_company_allowed

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
    client_id = fields.Char(
        string="Client / Application ID",
        help="The application's identifier at the aggregator: the form says where its dashboard shows it.",
    )
    # The secrets are write-only: these fields always read empty, ``*_set`` tells whether one is stored.
    client_secret = fields.Char(
        string="Secret", groups="base.group_system", compute="_compute_secrets", inverse="_inverse_client_secret",
        help="The secret the aggregator's dashboard gives with the client ID; stored encrypted, never shown again.",
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
    keys_help = fields.Html(string="Where to Find the Keys", compute="_compute_keys_help")

    _sql_constraints = [
        ("provider_company_unique", "unique(provider, company_id)", "Each aggregator is configured once per company."),
    ]

    @api.depends("provider")
    def _compute_display_name(self):
        labels = dict(self._fields["provider"]._description_selection(self.env))
        for config in self:
            config.display_name = labels.get(config.provider) or _("New Aggregator Settings")

    @api.depends("provider", "client_id", "admin_login", *(f"{key}_encrypted" for key in SECRET_KEYS))
    def _compute_settings_help(self):
        for config in self:
            provider = PROVIDERS.get(config.provider)
            missing = [label for key, label in (provider.CONFIG_FIELDS.items() if provider else ())
                       if not (config[f"{key}_set"] if key in SECRET_KEYS else config[key])]
            config.settings_help = bool(missing) and _(
                "%(provider)s still needs: %(fields)s", provider=provider.name, fields=", ".join(missing),
            )

    @api.depends("provider")
    def _compute_keys_help(self):
        guides = self._keys_guides()
        for config in self:
            guide = guides.get(config.provider)
            config.keys_help = guide and Markup('%s <a href="%s" target="_blank" rel="noopener">%s</a>') % (
                guide[0], guide[1], guide[1])

    @api.model
    def _keys_guides(self):
        """Per aggregator: where its dashboard shows each key, and the address of that page."""
        return {
            "plaid": (_("Plaid Dashboard, Developers > Keys: the client_id, and the Secret of the environment "
                        "chosen here (Sandbox and Production have different secrets)."),
                      "https://dashboard.plaid.com/developers/keys"),
            "yodlee": (_("Yodlee Developer Portal, API Dashboard: the clientId (Client / Application ID), the "
                         "secret, the admin loginName and, in the sandbox, the preset users."),
                       "https://developer.yodlee.com/"),
            "saltedge": (_("Salt Edge client dashboard, API Keys: the App ID and the Secret; the private key is "
                           "the one whose public key you added there for request signatures."),
                         "https://docs.saltedge.com/account_information/v5/"),
            "ponto": (_("Ponto dashboard, Integrations (custom integration): the client ID and secret. Ponto "
                        "Connect: the Ibanity Developer Portal, Applications, also gives the certificate and its "
                        "private key."),
                      "https://documentation.myponto.com/developers/custom-integrations"),
            "enable_banking": (_("Enable Banking Control Panel, Applications: register the application with "
                                 "its public key; its application ID goes in Client / Application ID, and the "
                                 "private key you generated for it below."),
                               "https://enablebanking.com/cp/applications"),
            "gocardless": (_("GoCardless Bank Account Data portal, Developers > User secrets: the Secret ID and "
                             "the Secret Key (shown once, when created)."),
                           "https://bankaccountdata.gocardless.com/user-secrets/"),
        }

    def action_test_connection(self):
        """Call the aggregator with these settings (its list of banks) and say what works or what is wrong."""
        self.ensure_one()
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(_("Only administrators can test the aggregator settings."))
        check_company_allowed(self.env, self.company_id.ids)
        links = self.env["online.link"]
        if links._is_neutralized():
            raise UserError(links._neutralized_message())
        provider = links._provider_for(self.provider, self.company_id)
        name = self.display_name
        try:
            institutions = provider.search_institutions()
        except InvalidConfiguration as error:
            return self._test_result(_("%(provider)s refused these settings: %(error)s", provider=name,
                                       error=self._error_text(error)), "danger")
        except RateLimited as error:
            return self._test_result(_(
                "%(provider)s limits how often it can be called and refused the call now: try again in a few "
                "minutes. %(error)s", provider=name, error=self._error_text(error)), "warning")
        except InstitutionUnavailable as error:
            return self._test_result(_("%(provider)s cannot be reached right now: %(error)s", provider=name,
                                       error=self._error_text(error)), "warning")
        except ProviderError as error:
            return self._test_result(_("%(provider)s answered with an error: %(error)s", provider=name,
                                       error=self._error_text(error)), "danger")
        return self._test_result(_(
            "%(provider)s accepted these settings (%(environment)s): %(count)s banks offered.", provider=name,
            environment=dict(self._fields["environment"]._description_selection(self.env))[self.environment],
            count=len(institutions)), "success")

    def _error_text(self, error):
        if error.request_id:
            return _("%(error)s (request %(request)s)", error=error.message, request=error.request_id)
        return error.message

    def _test_result(self, message, kind):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": _("Test Connection"), "message": message, "type": kind, "sticky": kind != "success"},
        }

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
        # Computed with the input, "*_set" is not recomputed within the write that sets it.
        self.invalidate_recordset([key, f"{key}_set"])

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
