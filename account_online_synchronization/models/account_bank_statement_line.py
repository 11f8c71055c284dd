import json

from markupsafe import Markup

from odoo import Command, api, fields, models


#: Set by the synchronization only: they identify the bank transaction a line was imported from.
ONLINE_FIELDS = {"online_transaction_identifier", "online_account_id"}
#: The statement line's fields its journal items are made from.
MOVE_LINE_SOURCE_FIELDS = ("journal_id", "date", "payment_ref", "partner_id", "amount", "amount_currency", "foreign_currency_id")


class AccountBankStatementLine(models.Model):
    _name = "account.bank.statement.line"
    _inherit = ["account.bank.statement.line", "online.sync.guarded"]
    _online_guarded_fields = ONLINE_FIELDS

    online_transaction_identifier = fields.Char(
        string="Online Transaction ID", readonly=True, copy=False, index="btree_not_null",
        help="The bank's own identifier of the transaction; it prevents importing it twice.",
    )
    online_account_id = fields.Many2one(
        "online.account", string="Online Account", readonly=True, copy=False, index="btree_not_null",
        ondelete="set null",
    )

    # Foreign amounts are in each line's own currency: their sum means nothing.
    amount_currency = fields.Monetary(aggregator=None)
    transaction_details_html = fields.Html(
        string="Bank Data", compute="_compute_transaction_details_html",
        help="The transaction exactly as the bank sent it.",
    )

    _sql_constraints = [
        ("online_transaction_unique", "unique(online_account_id, online_transaction_identifier)",
         "This bank transaction has already been imported."),
    ]

    @api.depends("transaction_details")
    def _compute_transaction_details_html(self):
        for line in self:
            rows = _flatten(line.transaction_details) if line.transaction_details else []
            line.transaction_details_html = rows and Markup(
                '<table class="table table-sm o_online_transaction_details"><tbody>%s</tbody></table>'
            ) % Markup().join(Markup("<tr><th>%s</th><td>%s</td></tr>") % row for row in rows)

    @api.model
    def _action_bank_transactions(self, domain, context=None):
        """The Bank Transactions list, on the synchronized lines matching ``domain``."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_online_synchronization.action_online_bank_transactions")
        action["domain"] = [("online_account_id", "!=", False), *domain]
        action["context"] = context or {}
        return action
    @api.model
    def _online_sync_complete_entries(self, vals_list):
        """Complete ``vals_list`` with what Odoo would otherwise write on each entry, one at a time.

        The journal items (``line_ids``), computed by Odoo's own method on
        unsaved lines, are then created with the entries instead of entry by
        entry; the "checked" flag that posting sets is given at creation.
        """
        journals = self.env["account.journal"].browse({vals["journal_id"] for vals in vals_list})
        autocheck = {journal.id: journal.autocheck_on_post for journal in journals}
        # Without distribution models, Odoo's search for one per journal item finds nothing.
        no_analytic = not self.env["account.analytic.distribution.model"].search_count([], limit=1)
        for vals in vals_list:
            draft = self.new({key: vals[key] for key in MOVE_LINE_SOURCE_FIELDS if key in vals})
            items = draft._prepare_move_line_default_vals()
            for item in items:
                del item["move_id"]
                if no_analytic:
                    item["analytic_distribution"] = False
            vals["line_ids"] = [Command.create(item) for item in items]
            vals["checked"] = autocheck[vals["journal_id"]]
        return vals_list


def _flatten(value, path=""):
    """The (path, text) rows of a JSON value: nested keys joined by dots, list items numbered from 1."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((str(index), item) for index, item in enumerate(value, 1))
    else:
        return [(path, value if isinstance(value, str) else json.dumps(value))]
    rows = [row for key, item in items for row in _flatten(item, f"{path}.{key}" if path else str(key))]
    return rows or [(path, json.dumps(value))]
