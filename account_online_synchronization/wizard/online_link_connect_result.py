from odoo import api, fields, models


class OnlineLinkConnectResult(models.TransientModel):
    """A bank found by the search of the Add a Bank Account dialog, through one of the aggregators serving it."""

    _name = "online.link.connect.result"
    _inherit = ["online.sync.protected"]
    _description = "Bank found when adding a bank account"
    _order = "id"
    # The search fills the lines; the user only picks one (or switches its aggregator).
    _user_creatable = {"account.group_account_manager": {"wizard_id", "institution_id", "other_institution_ids"}}

    wizard_id = fields.Many2one("online.link.connect", required=True, ondelete="cascade")
    institution_id = fields.Many2one("online.institution", string="Bank", required=True, ondelete="cascade")
    other_institution_ids = fields.Many2many(
        "online.institution", string="Also Served By",
        help="The same bank through other aggregators configured for the company.",
    )
    name = fields.Char(related="institution_id.name")
    logo_url = fields.Char(related="institution_id.logo_url")
    country_code = fields.Char(related="institution_id.country_code")
    provider = fields.Selection(related="institution_id.provider", string="Aggregator")
    beta = fields.Boolean(related="institution_id.beta")
    account_types = fields.Char(related="institution_id.account_types")
    max_history_days = fields.Integer(related="institution_id.max_history_days")
    other_providers = fields.Char(string="Also Via", compute="_compute_other_providers")
    support = fields.Selection([("beta", "Beta")], compute="_compute_support", help="Beta: the aggregator does not "
                               "fully support this bank yet; synchronization may be incomplete.")

    @api.depends("beta")
    def _compute_support(self):
        for line in self:
            line.support = "beta" if line.beta else False

    @api.depends("other_institution_ids")
    def _compute_other_providers(self):
        labels = dict(self.env["online.institution"]._fields["provider"]._description_selection(self.env))
        for line in self:
            line.other_providers = ", ".join(labels[code] for code in line.other_institution_ids.mapped("provider"))

    def action_choose(self):
        """Connect this bank through the aggregator shown on its line."""
        self.ensure_one()
        wizard = self.wizard_id
        wizard.institution_id = self.institution_id
        return wizard.action_connect()

    def action_switch_provider(self):
        """Serve this bank through the next aggregator that offers it."""
        self.ensure_one()
        if not self.other_institution_ids:
            return self.wizard_id._reopen()
        others = self.other_institution_ids
        self.sudo().write({
            "institution_id": others[0].id,
            "other_institution_ids": [fields.Command.set((others[1:] | self.institution_id).ids)],
        })
        return self.wizard_id._reopen()
