from datetime import timedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..models.online_sync_protected import check_company_allowed


class OnlineLinkConnect(models.TransientModel):
    """Add a bank account: search the bank at every aggregator, connect it, then link its accounts to journals."""

    _name = "online.link.connect"
    _inherit = ["online.sync.protected", "online.sync.dialog"]
    _description = "Add a Bank Account"
    _user_creatable = {"account.group_account_manager": {
        "company_id", "journal_id", "country_id", "institution_id", "search_text", "phone", "first_sync_date",
        "result_ids",
    }}
    # The company is chosen once; the steps and the connection are the wizard's own doing.
    _user_writable = {"account.group_account_manager": {
        "country_id", "institution_id", "search_text", "phone", "first_sync_date", "account_line_ids", "result_ids",
    }}

    step = fields.Selection(
        [("institution", "Choose your bank"), ("accounts", "Link accounts")], default="institution", readonly=True,
    )
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company, required=True)
    journal_id = fields.Many2one(
        "account.journal", string="Journal", check_company=True,
        domain="[('type', '=', 'bank'), ('online_account_id', '=', False), ('company_id', '=', company_id)]",
        help="The bank journal to connect: it receives the transactions of the account you link to it.",
    )
    country_id = fields.Many2one("res.country", string="Country", default=lambda self: self.env.company.country_id)
    search_text = fields.Char(string="Search")
    search_message = fields.Text(readonly=True)
    result_ids = fields.Many2many(
        "online.institution", "online_link_connect_result_rel", "wizard_id", "institution_id", string="Banks",
    )
    institution_id = fields.Many2one("online.institution", string="Bank")
    provider = fields.Selection(related="institution_id.provider", string="Aggregator")
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
        if "result_ids" in fields_list:
            company = self.env["res.company"].browse(values.get("company_id")) or self.env.company
            country = self.env["res.country"].browse(values.get("country_id"))
            values.update(self._search_values(company, country.code))
        return values

    @api.onchange("search_text", "country_id")
    def _onchange_search(self):
        self.update(self._search_values(self.company_id, self.country_id.code, self.search_text))

    @api.model
    def _search_values(self, company, country=None, text=None, ask_all=False):
        """The wizard's list of banks found for ``country`` and ``text``: one line per bank.

        A bank served by several aggregators is listed once, through one of them
        (where it is not beta); the others are offered as a switch on its line.
        """
        institutions, errors = self.env["online.institution"]._search_everywhere(
            company, country, (text or "").strip(), ask_all=ask_all,
        )
        banks = {}
        for institution in institutions.sorted(lambda inst: (inst.beta, inst.name.casefold())):
            banks.setdefault(institution._bank_key(), institution)
        return {
            "search_message": "\n".join(errors) or False,
            "result_ids": [Command.set([bank.id for bank in sorted(banks.values(), key=lambda i: i.name.casefold())])],
        }

    @api.model
    def _action_open(self, journal=None):
        """The dialog adding a bank account, connecting ``journal`` when given."""
        self.env["online.link"]._check_manager()
        context = {"dialog_size": "large"}
        if journal:
            check_company_allowed(self.env, journal.company_id.ids)
            context.update(default_journal_id=journal.id, default_company_id=journal.company_id.id)
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "name": _("Add a Bank Account"),
            "context": context,
        }

    def _reopen(self):
        return dict(super()._reopen(), context={"dialog_size": "large"})

    def action_search(self):
        """Ask every aggregator for the banks matching the country and the name, even those already known."""
        self.ensure_one()
        self.sudo().write(self._search_values(self.company_id, self.country_id.code, self.search_text, ask_all=True))
        return self._reopen()

    def _choose(self, institution):
        """Connect ``institution``, picked on a line of the bank list."""
        self.institution_id = institution
        return self.action_connect()

    def _switch(self, institution, other):
        """Show the bank of ``institution`` through the aggregator of ``other`` instead."""
        self.sudo().result_ids = [Command.unlink(institution.id), Command.link(other.id)]
        return self._reopen()

    def action_setup_manually(self):
        """Odoo's own bank account setup: type the account number, import statements by file."""
        self.ensure_one()
        return self.env["res.company"].with_context(
            online_sync_manual_setup=True, default_linked_journal_id=self.journal_id.id or False,
        ).setting_init_bank_account_action()

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
        consent, redirect_url = self.env["online.link.consent"]._begin(
            institution.provider, company, institution=institution, journal=self.journal_id,
            first_sync_date=self.first_sync_date,
        )
        if isinstance(redirect_url, dict):  # the aggregator's widget, opened in the web client
            return redirect_url
        if redirect_url:
            return {"type": "ir.actions.act_url", "url": redirect_url, "target": "self"}
        link = consent._finish({})
        accounts = link.account_ids
        self._prepare_account_step(link, accounts)
        return self._reopen()

    def _prepare_account_step(self, link, accounts):
        """List ``accounts``; the journal the wizard was opened from gets the first one in its currency."""
        journal = self.journal_id
        for_journal = journal._online_sync_account_for(accounts) if journal else None
        lines = []
        for account in accounts:
            if account == for_journal:
                lines.append({"online_account_id": account.id, "action": "existing", "journal_id": journal.id})
            else:
                lines.append({"online_account_id": account.id, "action": "skip" if journal else "new"})
        self.sudo().write({
            "step": "accounts",
            "link_id": link.id,
            "account_line_ids": [Command.clear()] + [Command.create(vals) for vals in lines],
        })

    @api.model
    def _open_account_step(self, link, accounts):
        """Open the wizard on its second step for ``accounts`` of an existing ``link``."""
        wizard = self.create({"company_id": link.company_id.id, "result_ids": []})
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
            if line.action == "existing":
                line.journal_id._online_sync_check_connectable(self.link_id.company_id)
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
