from datetime import timedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..models.online_sync_protected import check_company_allowed
from ..providers import ProviderError, provider_selection


class OnlineLinkConnect(models.TransientModel):
    """Connect a bank: choose the institution, then link its accounts to journals."""

    _name = "online.link.connect"
    _inherit = ["online.sync.protected", "online.sync.dialog"]
    _description = "Connect a Bank"
    _user_creatable = {"account.group_account_manager": {
        "company_id", "provider", "country_id", "institution_id", "search_text", "phone", "first_sync_date",
    }}
    # The company is chosen once; the steps and the connection are the wizard's own doing.
    _user_writable = {"account.group_account_manager": {
        "provider", "country_id", "institution_id", "search_text", "phone", "first_sync_date", "account_line_ids",
    }}

    step = fields.Selection(
        [("institution", "Choose your bank"), ("accounts", "Link accounts")], default="institution", readonly=True,
    )
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company, required=True)
    provider = fields.Selection(
        selection=provider_selection, default="sandbox", required=True,
    )
    country_id = fields.Many2one("res.country", string="Country")
    institution_id = fields.Many2one(
        "online.institution", string="Bank",
        domain="[('provider', '=', provider)] + ([('country_code', '=', country_code)] if country_code else [])",
    )
    country_code = fields.Char(related="country_id.code")
    search_text = fields.Char(string="Bank Name")
    institution_logo_url = fields.Char(related="institution_id.logo_url")
    institution_beta = fields.Boolean(related="institution_id.beta")
    phone_required = fields.Boolean(compute="_compute_phone_required")
    phone = fields.Char(help="Secures the company's bank connections; used to reactivate them if they are blocked.")
    link_id = fields.Many2one("online.link", string="Connection", readonly=True)
    confirmed = fields.Boolean(readonly=True, help="Link and Synchronize was clicked: the accounts are linked.")
    account_line_ids = fields.One2many("online.link.connect.account", "wizard_id")
    first_sync_date = fields.Date(
        string="Synchronize From",
        default=lambda self: (fields.Date.context_today(self) - timedelta(days=90)).replace(day=1),
        help="Pick the date from which you record accounting in Odoo: older transactions are not imported.",
    )

    @api.depends("company_id")
    def _compute_phone_required(self):
        for wizard in self:
            wizard.phone_required = not wizard.company_id._online_sync_has_phone()

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        provider = values.get("provider") or "sandbox"
        if not self.env["online.institution"].search_count([("provider", "=", provider)], limit=1):
            self._load_institutions(provider)
        return values

    @api.model
    def _load_institutions(self, provider, country=None, text=None):
        try:
            return self.env["online.institution"]._refresh_from_provider(provider, country=country, text=text)
        except ProviderError as error:
            links = self.env["online.link"]
            message = links._scrub(error.message, links._known_secrets(links._provider_for(provider, self.env.company)))
            raise UserError(_("The bank list cannot be loaded: %(error)s", error=message)) from None

    def action_search(self):
        """Refresh the provider's bank list for the chosen country and name."""
        self.ensure_one()
        institutions = self._load_institutions(self.provider, country=self.country_id.code, text=self.search_text)
        if len(institutions) == 1:
            self.institution_id = institutions
        return self._reopen()

    def action_connect(self):
        """Create the connection to the chosen bank and list its accounts."""
        self.ensure_one()
        self.env["online.link"]._check_manager()
        institution = self.institution_id
        if not institution:
            raise UserError(_("Choose your bank first."))
        company = self.company_id
        check_company_allowed(self.env, company.ids)
        if self.phone_required:
            company._online_sync_set_phone(self.phone)
        consent, redirect_url = self.env["online.link.consent"]._begin(self.provider, company, institution=institution)
        if isinstance(redirect_url, dict):  # the aggregator's widget, opened in the web client
            return redirect_url
        if redirect_url:
            return {"type": "ir.actions.act_url", "url": redirect_url, "target": "self"}
        link = consent._finish({})
        accounts = link.account_ids
        self._prepare_account_step(link, accounts)
        return self._reopen()

    def _prepare_account_step(self, link, accounts):
        self.sudo().write({
            "step": "accounts",
            "link_id": link.id,
            "account_line_ids": [Command.clear()] + [
                Command.create({"online_account_id": account.id}) for account in accounts
            ],
        })

    @api.model
    def _open_account_step(self, link, accounts):
        """Open the wizard on its second step for ``accounts`` of an existing ``link``."""
        wizard = self.create({"company_id": link.company_id.id, "provider": link.provider})
        wizard._prepare_account_step(link, accounts)
        return wizard._reopen()

    def action_confirm(self):
        """Link the accounts to journals and queue their first import."""
        self.ensure_one()
        self.env["online.link"]._check_manager()
        # A second click waits for the first one here; Odoo retries it, and it links nothing more.
        self.flush_recordset(["confirmed"])
        self.env.cr.execute(SQL("SELECT confirmed FROM online_link_connect WHERE id = %s FOR UPDATE", self.id),
                            log_exceptions=False)
        if not self.env.cr.fetchone()[0]:
            self._link_accounts()
        return {
            "type": "ir.actions.act_window",
            "res_model": "online.link",
            "res_id": self.link_id.id,
            "view_mode": "form",
            "target": "current",
        }

    def _link_accounts(self):
        if self.link_id.import_state == "running":
            raise UserError(_("%(status)s Link the accounts once it ends.", status=self.link_id.import_status))
        self.sudo().confirmed = True
        linked = self.env["online.account"]
        for line in self.account_line_ids.filtered(
                lambda line: line.action != "skip" and not line.online_account_id.journal_ids):
            if line.action == "existing" and not line.journal_id:
                raise UserError(_("Choose the journal of %(account)s.", account=line.online_account_id.name))
            line.online_account_id._link_to_journal(
                line.journal_id if line.action == "existing" else None, self.first_sync_date,
            )
            linked |= line.online_account_id
        if linked:
            self.link_id._queue_import(linked)


class OnlineLinkConnectAccount(models.TransientModel):
    _name = "online.link.connect.account"
    _inherit = ["online.sync.protected"]
    _description = "Account to link when connecting a bank"
    # The wizard lists the connection's accounts itself; the user only decides what to do with each.
    _user_writable = {"account.group_account_manager": {"action", "journal_id"}}

    wizard_id = fields.Many2one("online.link.connect", required=True, ondelete="cascade")
    online_account_id = fields.Many2one("online.account", required=True, ondelete="cascade")
    name = fields.Char(related="online_account_id.name")
    account_number = fields.Char(related="online_account_id.account_number")
    currency_id = fields.Many2one(related="online_account_id.currency_id")
    balance = fields.Monetary(related="online_account_id.balance")
    action = fields.Selection(
        [("new", "New journal"), ("existing", "Existing journal"), ("skip", "Do not synchronize")],
        default="new", required=True,
    )
    journal_id = fields.Many2one(
        "account.journal",
        domain="[('type', '=', 'bank'), ('online_account_id', '=', False), ('company_id', '=', company_id)]",
    )
    company_id = fields.Many2one(related="online_account_id.company_id")
