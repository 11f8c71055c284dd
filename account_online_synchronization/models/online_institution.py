from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import escape_psql

from ..providers import ProviderError, provider_selection

#: Labels of the kinds of accounts an aggregator may say a bank offers.
ACCOUNT_TYPES = {"business": "Business", "personal": "Personal"}
#: Most banks a search shows.
SEARCH_LIMIT = 80


class OnlineInstitution(models.Model):
    """A bank offered by an aggregator, cached from the aggregator's institution list."""

    _name = "online.institution"
    _inherit = ["online.sync.protected"]
    _description = "Online Banking Institution"
    _order = "name, id"
    # Shared by every company: only the aggregator's list (read by the engine) fills it.

    provider = fields.Selection(
        selection=provider_selection, required=True, index=True,
    )
    identifier = fields.Char(required=True)
    name = fields.Char(required=True, index="trigram")
    country_code = fields.Char(string="Country", index=True)
    logo_url = fields.Char()
    beta = fields.Boolean(help="Not fully supported by the provider yet: problems may arise.")
    max_history_days = fields.Integer(string="History Limit (days)", help="0 when the bank states no limit.")
    unattended_refresh = fields.Boolean(string="Allows Automatic Refresh", default=True)
    bic = fields.Char(string="BIC", help="The bank's identifier code, when the aggregator tells.")
    account_types = fields.Char(
        help="The kinds of accounts the aggregator connects at this bank (Business, Personal), when it tells.",
    )

    # The bank list of the Add a Bank Account dialog (``online_link_connect_id`` in the context).
    other_institution_ids = fields.Many2many(
        "online.institution", compute="_compute_other_institution_ids", string="Also Served By",
        help="The same bank through the other aggregators configured for the company.",
    )
    other_providers = fields.Char(string="Also Via", compute="_compute_other_institution_ids")
    support = fields.Selection(
        [("beta", "Beta")], compute="_compute_support",
        help="Beta: the aggregator does not fully support this bank yet; synchronization may be incomplete.",
    )

    _sql_constraints = [
        ("provider_identifier_unique", "unique(provider, identifier)", "This institution is already known."),
    ]

    @api.depends("name", "country_code", "beta")
    def _compute_display_name(self):
        for institution in self:
            suffix = f" ({institution.country_code})" if institution.country_code else ""
            institution.display_name = f"{institution.name}{suffix}" + (" [beta]" if institution.beta else "")

    def _bank_key(self):
        """What makes two aggregators' institutions the same bank: its name and country."""
        return self.name.strip().casefold(), self.country_code or ""

    @api.depends("name", "country_code")
    @api.depends_context("company")
    def _compute_other_institution_ids(self):
        labels = dict(provider_selection())
        providers = self._search_providers(self.env.company)
        for institution in self:
            same = self.search([
                ("provider", "in", providers), ("id", "!=", institution.id),
                ("name", "=ilike", escape_psql(institution.name.strip())),
                ("country_code", "=", institution.country_code),
            ]).filtered(lambda other, key=institution._bank_key(): other._bank_key() == key)
            institution.other_institution_ids = same
            institution.other_providers = ", ".join(labels[code] for code in same.mapped("provider"))

    @api.depends("beta")
    def _compute_support(self):
        for institution in self:
            institution.support = "beta" if institution.beta else False

    def _connect_wizard(self):
        wizard = self.env["online.link.connect"].browse(self.env.context.get("online_link_connect_id")).exists()
        if not wizard:
            raise UserError(_("Open Add a Bank Account again: this bank list is no longer shown."))
        return wizard

    def action_connect_bank(self):
        """Connect this bank, picked in the bank list of Add a Bank Account."""
        self.ensure_one()
        return self._connect_wizard()._choose(self)

    def action_switch_provider(self):
        """Show this bank through the next aggregator serving it, in the bank list of Add a Bank Account."""
        self.ensure_one()
        wizard = self._connect_wizard()
        if not self.other_institution_ids:
            return wizard._reopen()
        return wizard._switch(self, self.other_institution_ids[0])

    @api.model
    def _search_providers(self, company):
        """The sandbox and the aggregators whose application credentials ``company`` has entered."""
        configs = self.env["online.provider.config"].sudo().search([
            ("company_id", "=", company.id), ("client_id", "!=", False),
        ])
        return ["sandbox", *configs.mapped("provider")]

    @api.model
    def _search_cached(self, providers, country=None, text=None):
        """The known institutions of ``providers`` matching ``text``, in ``country`` (the sandbox's in any)."""
        domain = [("provider", "in", providers)]
        if text:
            domain.append(("name", "ilike", text))
        if country:
            domain += ["|", ("provider", "=", "sandbox"), ("country_code", "=", country.upper())]
        return self.search(domain, limit=SEARCH_LIMIT)

    @api.model
    def _search_everywhere(self, company, country=None, text=None, ask_all=False):
        """Search the banks of ``company``'s aggregators; return them and the aggregators' refusals.

        An aggregator without any known bank matching the search is asked for
        its list (``ask_all``: every aggregator is), and the answers are cached.
        """
        providers = self._search_providers(company)
        found = self._search_cached(providers, country, text)
        to_ask = providers if ask_all else [code for code in providers if code not in set(found.mapped("provider"))]
        errors = []
        links = self.env["online.link"]
        for code in to_ask:
            label = dict(provider_selection())[code]
            try:
                # The sandbox's demo banks are offered in every country.
                self._refresh_from_provider(code, country=None if code == "sandbox" else country, text=text,
                                            company=company)
            except ProviderError as error:
                message = links._scrub(error.message, links._known_secrets(links._provider_for(code, company)))
                errors.append(_("%(aggregator)s: %(error)s", aggregator=label, error=message))
            except UserError as error:  # e.g. its settings cannot be decrypted any more
                errors.append(_("%(aggregator)s: %(error)s", aggregator=label, error=error.args[0]))
        if to_ask:
            found = self._search_cached(providers, country, text)
        return found, errors

    @api.model
    def _refresh_from_provider(self, provider_code, country=None, text=None, company=None):
        """Store the provider's institutions matching ``country`` and ``text``; return them."""
        provider = self.env["online.link"]._provider_for(provider_code, company or self.env.company)
        institutions = provider.search_institutions(country=country, text=text)
        known = {inst.identifier: inst for inst in self.sudo().search([
            ("provider", "=", provider_code), ("identifier", "in", [i.id for i in institutions]),
        ])}
        records = self.browse()
        new_vals = []
        for institution in institutions:
            vals = {
                "name": institution.name,
                "country_code": institution.country,
                "logo_url": institution.logo_url,
                "beta": institution.beta,
                "max_history_days": institution.max_history_days or 0,
                "unattended_refresh": institution.unattended_refresh,
                "bic": institution.bic or False,
                "account_types": ", ".join(ACCOUNT_TYPES[kind] for kind in institution.account_types
                                           if kind in ACCOUNT_TYPES) or False,
            }
            if institution.id in known:
                known[institution.id].write(vals)
                records |= known[institution.id]
            else:
                new_vals.append(dict(vals, provider=provider_code, identifier=institution.id))
        return (records | self.sudo().create(new_vals)).sudo(False)
