import calendar
from datetime import timedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL


#: Set by linking an online account (Add a Bank Account, Fetch Accounts), never directly.
ONLINE_FIELDS = {"online_account_id", "online_link_id", "online_link_state", "online_last_refresh"}


class AccountJournal(models.Model):
    _name = "account.journal"
    _inherit = ["account.journal", "online.sync.guarded"]
    _online_guarded_fields = ONLINE_FIELDS

    online_account_id = fields.Many2one(
        "online.account", string="Online Account", copy=False, index="btree_not_null",
        check_company=True, ondelete="set null",
    )
    online_link_id = fields.Many2one(related="online_account_id.link_id", store=True, string="Online Connection")
    online_link_state = fields.Selection(related="online_link_id.state", string="Connection State")
    online_last_refresh = fields.Datetime(related="online_link_id.last_refresh", string="Last Synchronization")
    online_import_status = fields.Char(related="online_link_id.import_status", string="Import Progress")
    online_status_message = fields.Char(related="online_link_id.status_message", string="Connection Status")
    online_can_connect = fields.Boolean(
        compute="_compute_online_can_connect",
        help="A bank journal without a working connection, and the user may connect banks.",
    )
    online_card_action = fields.Selection(
        [("connect", "Connect"), ("synchronize", "Synchronize Now")], compute="_compute_online_card_action",
        help="The button the journal's dashboard card highlights instead of Transactions.",
    )
    online_first_sync_date = fields.Date(
        related="online_account_id.first_sync_date", readonly=False, string="First Synchronization Date",
    )
    bank_statement_creation_groupby = fields.Selection(
        selection=[
            ("none", "One statement per synchronization"),
            ("day", "Daily"),
            ("week", "Weekly"),
            ("bimonthly", "Every two weeks (1st-15th, 16th-end)"),
            ("month", "Monthly"),
        ],
        string="Statement Creation", default="month", required=True,
        help="How the synchronized transactions are grouped into bank statements.",
    )

    _sql_constraints = [
        ("online_account_unique", "unique(online_account_id)",
         "An online account can feed a single journal."),
    ]

    @api.depends("type", "online_link_id", "online_link_state")
    @api.depends_context("uid")
    def _compute_online_can_connect(self):
        manager = self.env.user.has_group("account.group_account_manager")
        for journal in self:
            journal.online_can_connect = manager and journal._online_sync_free()

    @api.depends("online_can_connect", "online_link_id", "online_link_state")
    @api.depends_context("uid")
    def _compute_online_card_action(self):
        may_sync = self.env.user.has_groups("account.group_account_user,account.group_account_manager")
        for journal in self:
            if journal.online_can_connect:
                journal.online_card_action = "connect"
            elif may_sync and journal.online_link_id and journal.online_link_state != "disconnected":
                journal.online_card_action = "synchronize"
            else:
                journal.online_card_action = False

    def _online_sync_free(self):
        """A bank journal without a working connection: one a new connection may feed."""
        self.ensure_one()
        return self.type == "bank" and (not self.online_link_id or self.online_link_state == "disconnected")

    def _online_sync_check_connectable(self, company):
        """Refuse to connect this journal to a new connection of ``company`` unless it is free and ``company``'s."""
        self.ensure_one()
        if self.company_id != company or not self._online_sync_free():
            raise UserError(_(
                "%(journal)s cannot be connected: only a bank journal of %(company)s without a working bank "
                "connection can be.", journal=self.display_name, company=company.name,
            ))

    def _online_sync_account_for(self, accounts):
        """The first of ``accounts`` in the journal's currency: the one a journal connected from its card gets."""
        currency = self.currency_id or self.company_id.currency_id
        return accounts.filtered(lambda account: account.currency_id == currency)[:1]

    def __get_bank_statements_available_sources(self):
        # account builds the selection from this name-mangled hook: the class
        # must keep the name AccountJournal for the override to be found.
        sources = super().__get_bank_statements_available_sources()
        sources.append(("online_sync", _("Online Synchronization")))
        return sources

    def manual_sync(self):
        """Synchronize the journal's online account now ("Synchronize Now" on the dashboard)."""
        self.ensure_one()
        link = self.online_link_id
        link._check_resynchronizable()
        return link._synchronize_or_queue(self.online_account_id)

    def action_connect_bank(self):
        """Connect this journal to its bank ("Connect" on the dashboard card and the journal form)."""
        self.ensure_one()
        return self.env["online.link.connect"]._action_open(self)

    def action_open_online_link(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "online.link",
            "res_id": self.online_link_id.id,
            "view_mode": "form",
        }

    def action_open_bank_transactions(self):
        """The journal's synchronized lines ("Bank Transactions" on the dashboard card)."""
        self.ensure_one()
        return self.env["account.bank.statement.line"]._action_bank_transactions(
            [("journal_id", "=", self.id)], {"search_default_group_statement": 1},
        )

    # statements ------------------------------------------------------------

    def _online_sync_period(self, day, sync_time):
        """Return the (first day, last day, label) of the statement period holding ``day``."""
        groupby = self.bank_statement_creation_groupby
        if groupby == "day":
            return day, day, day.isoformat()
        if groupby == "week":
            start = day - timedelta(days=day.weekday())
            year, week, _weekday = day.isocalendar()
            return start, start + timedelta(days=6), f"{year}-W{week:02d}"
        last_of_month = day.replace(day=calendar.monthrange(day.year, day.month)[1])
        if groupby == "bimonthly":
            if day.day <= 15:
                return day.replace(day=1), day.replace(day=15), f"{day:%Y-%m} (1-15)"
            return day.replace(day=16), last_of_month, f"{day:%Y-%m} (16-{last_of_month.day})"
        if groupby == "month":
            return day.replace(day=1), last_of_month, f"{day:%Y-%m}"
        return None, None, fields.Datetime.to_string(sync_time)[:16]

    def _online_sync_file_into_statements(self, lines, statements, sync_time):
        """Put ``lines`` in the statement of their period, appending to the one already open; return these
        statements, whose balances are then to be chained (``_online_sync_chain_balances``).

        ``statements`` maps period labels to statements created or found during
        the synchronization run started at ``sync_time``; it is updated in place.
        """
        self.ensure_one()
        by_period = {}
        for line in lines:
            period = self._online_sync_period(line.date, sync_time)
            by_period.setdefault(period, self.env["account.bank.statement.line"])
            by_period[period] |= line
        touched = self.env["account.bank.statement"]
        for (start, end, label), period_lines in sorted(by_period.items(), key=lambda item: item[1][0].date):
            statement = statements.get(label) or self._online_sync_open_statement(start, end)
            if statement:
                statement._online_sync_file_lines(period_lines)
            else:
                statement = self.env["account.bank.statement"].create({
                    "name": _("%(journal)s Statement %(period)s", journal=self.code, period=label),
                    "journal_id": self.id,
                    "reference": _("Online synchronization"),
                    "line_ids": [Command.set(period_lines.ids)],
                })
            statements[label] = statement
            touched |= statement
        return touched

    def _online_sync_chain_balances(self, statements):
        """Recompute the starting balances of ``statements`` and of the later ones, oldest first.

        Odoo computes a statement's starting balance once, at creation; lines
        added by a synchronization change it. The ending balances are the
        bank's and are kept; the journal's first statement starts at the
        opening balance recorded at the first synchronization.
        """
        self.env.flush_all()
        first_index = min(statements.mapped("first_line_index"))
        chain = self.env["account.bank.statement"].search([
            ("journal_id", "=", self.id), ("first_line_index", ">=", first_index),
        ]).sorted("first_line_index")
        bank_ends = {statement: statement.balance_end_real for statement in chain}
        account = self.online_account_id
        opening = account.opening_date and account.opening_balance
        for statement in chain:
            if opening is not False and not self._online_sync_line_before(statement.first_line_index):
                balance_start = opening
            else:
                balance_start = self._online_sync_balance_before(statement)
            statement._online_sync_write({"balance_start": balance_start, "balance_end_real": bank_ends[statement]})

    def _online_sync_balance_before(self, statement):
        """The starting balance Odoo computes for ``statement``: the previous statement's ending balance plus
        the posted lines between the two.

        Odoo's own computation also compares each line of the previous
        statement with each line of this one, for lines moved between them in
        memory; once written, a line is in one statement only, and that
        comparison, which grows with the product of their sizes, finds nothing.
        """
        lines = self.env["account.bank.statement.line"]
        domain = [("journal_id", "=", self.id), ("state", "=", "posted"),
                  ("internal_index", "<", statement.first_line_index)]
        previous = lines.browse(self._online_sync_line_before(statement.first_line_index, in_posted_statement=True))
        if previous:
            domain.append(("internal_index", ">", previous.internal_index))
        [(between,)] = lines._read_group(domain, aggregates=["amount:sum"])
        return previous.statement_id.balance_end_real + (between or 0.0)

    def _online_sync_line_before(self, index, in_posted_statement=False):
        """The id of the journal's last statement line before ``index`` (posted and in a statement if asked), or None.

        Odoo's ORM filters a line's journal through its entry; read on the
        line's own journal and company, Odoo's index on these and the line
        index finds it at once in a journal of any size.
        """
        lines = self.env["account.bank.statement.line"]
        lines.flush_model(["journal_id", "company_id", "internal_index", "statement_id", "move_id"])
        self.env["account.move"].flush_model(["state"])
        condition = SQL("AND line.statement_id IS NOT NULL AND move.state = 'posted'") if in_posted_statement else SQL()
        found = []
        # One ordered index scan per company: the journal's company and its branches.
        for company_id in self.env["res.company"].search([("id", "child_of", self.company_id.id)]).ids:
            self.env.cr.execute(SQL(
                """SELECT line.internal_index, line.id FROM account_bank_statement_line line
                     JOIN account_move move ON move.id = line.move_id
                    WHERE line.journal_id = %s AND line.company_id = %s AND line.internal_index < %s %s
                    ORDER BY line.internal_index DESC LIMIT 1""",
                self.id, company_id, index, condition,
            ))
            found += self.env.cr.fetchall()
        return max(found)[1] if found else None

    def _online_sync_open_statement(self, start, end):
        """The latest statement of this journal holding lines of the period, if any."""
        if not start:
            return self.env["account.bank.statement"]
        last_line = self.env["account.bank.statement.line"].search([
            ("journal_id", "=", self.id),
            ("statement_id", "!=", False),
            ("date", ">=", start),
            ("date", "<=", end),
        ], order="internal_index desc", limit=1)
        return last_line.statement_id
