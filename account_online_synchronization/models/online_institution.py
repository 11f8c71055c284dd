from odoo import api, fields, models

from ..providers import provider_selection


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

    _sql_constraints = [
        ("provider_identifier_unique", "unique(provider, identifier)", "This institution is already known."),
    ]

    @api.depends("name", "country_code", "beta")
    def _compute_display_name(self):
        for institution in self:
            suffix = f" ({institution.country_code})" if institution.country_code else ""
            institution.display_name = f"{institution.name}{suffix}" + (" [beta]" if institution.beta else "")

    @api.model
    def _refresh_from_provider(self, provider_code, country=None, text=None):
        """Store the provider's institutions matching ``country`` and ``text``; return them."""
        provider = self.env["online.link"]._provider_for(provider_code, self.env.company)
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
            }
            if institution.id in known:
                known[institution.id].write(vals)
                records |= known[institution.id]
            else:
                new_vals.append(dict(vals, provider=provider_code, identifier=institution.id))
        return (records | self.sudo().create(new_vals)).sudo(False)
