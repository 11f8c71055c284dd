from odoo import _, api, fields, models

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
    account_types = fields.Char(
        help="The kinds of accounts the aggregator connects at this bank (Business, Personal), when it tells.",
    )

    _sql_constraints = [
        ("provider_identifier_unique", "unique(provider, identifier)", "This institution is already known."),
    ]

    @api.depends("name", "country_code", "beta")
    def _compute_display_name(self):
        for institution in self:
            suffix = f" ({institution.country_code})" if institution.country_code else ""
            institution.display_name = f"{institution.name}{suffix}" + (" [beta]" if institution.beta else "")

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
        for code in to_ask:
            try:
                # The sandbox's demo banks are offered in every country.
                self._refresh_from_provider(code, country=None if code == "sandbox" else country, text=text,
                                            company=company)
            except ProviderError as error:
                links = self.env["online.link"]
                secrets = links._known_secrets(links._provider_for(code, company))
                errors.append(_("%(aggregator)s: %(error)s", aggregator=dict(provider_selection())[code],
                                error=links._scrub(error.message, secrets)))
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
                "account_types": ", ".join(ACCOUNT_TYPES[kind] for kind in institution.account_types
                                           if kind in ACCOUNT_TYPES) or False,
            }
            if institution.id in known:
                known[institution.id].write(vals)
                records |= known[institution.id]
            else:
                new_vals.append(dict(vals, provider=provider_code, identifier=institution.id))
        return (records | self.sudo().create(new_vals)).sudo(False)
