from datetime import timedelta
from decimal import Decimal

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import format_date, formatLang

from .bank_book import BankBook

#: Key of the cursor's cache holding each account's run until the bank's balances are read.
BANK_RUNS = "online_sync_bank_runs"


class OnlineAccount(models.Model):
    """Balances: the journal starts where the bank started, its statements end where the bank's do,
    and a difference between the two is told with the day it begins."""

    _inherit = "online.account"

    balance_date = fields.Date(
        string="Bank Balance Date", readonly=True,
        help="The day whose end the bank's booked balance refers to.",
    )
    available_balance = fields.Monetary(
        readonly=True,
        help="For information: the bank's available balance counts pending transactions and credit lines, "
             "which are not in the journal. The booked balance is the one compared.",
    )
    opening_balance = fields.Monetary(
        readonly=True,
        help="The bank's booked balance before the first imported transaction: the starting balance of the "
             "journal's first statement.",
    )
    opening_date = fields.Date(
        readonly=True, help="The day whose end balance is the opening balance, the day before the first import.",
    )
    balance_difference_since = fields.Date(
        string="Differs Since", compute="_compute_balance_finding",
        help="The first day the journal's statements disagree with the bank's balances.",
    )
    balance_finding = fields.Boolean(
        string="Disagrees with Bank", compute="_compute_balance_finding",
        help="The journal and the bank disagree and nobody has acknowledged why.",
    )
    balance_finding_message = fields.Char(compute="_compute_balance_finding")
    balance_checked_difference = fields.Monetary(
        readonly=True, help="The difference found by the last synchronization, told once in the chatter.",
    )
    balance_acknowledged_difference = fields.Monetary(string="Acknowledged Difference", readonly=True)
    balance_difference_note = fields.Char(
        string="Explanation", help="Why the journal and the bank differ, e.g. history not imported on purpose.",
    )

    @api.depends("balance", "balance_date", "journal_ids", "balance_acknowledged_difference", "last_sync",
                 "link_id.import_state")
    def _compute_balance_finding(self):
        for account in self:
            currency = account.currency_id
            difference = account.balance_difference
            # Compared once the journal holds what the bank sent: not before the first import ends.
            imported = account.last_sync and not account.link_id.import_state
            account.balance_finding = bool(
                account.journal_id and imported and account.balance_date and not currency.is_zero(difference)
                and currency.compare_amounts(difference, account.balance_acknowledged_difference)
            )
            account.balance_difference_since = account.balance_finding and account._difference_since()
            account.balance_finding_message = account.balance_finding and _(
                "Bank and journal differ by %(amount)s since %(day)s",
                amount=formatLang(self.env, difference, currency_obj=currency),
                day=format_date(self.env, account.balance_difference_since),
            )

    def _journal_opening(self, journal):
        """The journal's own opening: the starting balance of the statement holding its first line (the opening
        balance recorded while it has none)."""
        first_line = self.env["account.bank.statement.line"].search(
            [("journal_id", "=", journal.id)], order="internal_index", limit=1)
        if not first_line:
            return self.opening_balance
        statement = first_line.statement_id
        return statement.balance_start if statement.first_line_index == first_line.internal_index else 0.0

    def _difference_since(self):
        """The first day of the first statement that disagrees with the bank (incomplete, or not starting
        where the previous one ended); else the day after the last statement, today at the latest."""
        journal = self.journal_id
        statements = self.env["account.bank.statement"]
        wrong = statements.search([
            ("journal_id", "=", journal.id), "|", ("is_complete", "=", False), ("is_valid", "=", False),
        ], order="first_line_index", limit=1)
        if wrong:
            return min(wrong.line_ids.mapped("date"))
        last = statements.search([("journal_id", "=", journal.id)], order="first_line_index desc", limit=1)
        today = fields.Date.context_today(self)
        return min((last.date or self.opening_date or today) + timedelta(days=1), today)

    # synchronization ---------------------------------------------------------

    def _is_first_import(self):
        """True before the first synchronization into a journal without lines, which records an opening balance."""
        return not self.opening_date and not self.env["account.bank.statement.line"].search_count(
            [("journal_id", "=", self.journal_id.id)], limit=1)

    def _keep_for_bank_balances(self, transactions, date_from, statements):
        """Keep what this run fetches and files (``statements`` fills as it goes) until the bank's balances
        are read after every account's transactions, even if this account stops on an error.

        Return the bank's balances as last read: each committed chunk ends its statements on them, and the
        opening balance of a first import is recorded at once, so that a run that never ends leaves
        statements that chain.
        """
        first_import = self._is_first_import()
        book = self._bank_book(transactions, date_from)
        if first_import:
            self._record_opening_balance(book, transactions, date_from)
        self.env.cr.cache.setdefault(BANK_RUNS, {})[self.id] = (transactions, date_from, statements, first_import)
        return book

    def _settle_bank_balances(self):
        """With the balances just read from the bank: record the opening balance of a first import, end the
        statements filed on the bank's balances, and tell a difference."""
        runs = self.env.cr.cache.get(BANK_RUNS, {})
        for account in self:
            if account.id not in runs:
                continue
            transactions, date_from, statements, first_import = runs.pop(account.id)
            book = account._bank_book(transactions, date_from)
            if first_import:
                account._record_opening_balance(book, transactions, date_from)
            filed = account.env["account.bank.statement"].union(*statements.values())
            account._end_statements_on_bank_balances(book, filed)
            account._check_balance_difference()

    def _bank_book(self, transactions, date_from):
        """The bank's balances over a synchronization's window, with the account's last booked balance."""
        balance = Decimal(str(self.balance)) if self.balance_date else None
        return BankBook(transactions, date_from, balance, self.balance_date)

    def _record_opening_balance(self, book, transactions, date_from):
        """Record the bank's balance before the first imported line as the journal's opening balance.

        Like a bank statement file's opening balance, it becomes the starting
        balance of the journal's first statement. A journal that already had
        lines keeps its own balance and the statements continue from it.
        """
        day = (transactions[0].booking_date if transactions else date_from) - timedelta(days=1)
        opening = book.at(day)
        if opening is None:
            return
        self.sudo().write({"opening_balance": float(opening), "opening_date": day})

    def _end_statements_on_bank_balances(self, book, statements):
        """End ``statements``, and the journal's latest one, on the bank's balance of their last day, then chain
        their starting balances and those of the later statements.

        Each chunk ends only the statements it filed lines into: the others keep their last day and balance.
        """
        journal = self.journal_id
        self.env.flush_all()
        ending = statements | self.env["account.bank.statement"].search(
            [("journal_id", "=", journal.id)], order="first_line_index desc", limit=1)
        for statement in ending.filtered("date"):
            balance = book.at(statement.date)
            if balance is not None and statement.currency_id.compare_amounts(statement.balance_end_real,
                                                                              float(balance)):
                statement._online_sync_write({"balance_end_real": float(balance)})
        if ending:
            journal._online_sync_chain_balances(ending)

    def _check_balance_difference(self):
        """Tell the connection when the journal and the bank start, change or stop disagreeing."""
        self.ensure_one()
        self.invalidate_recordset()
        currency = self.currency_id
        difference = currency.round(self.balance_difference) if self.balance_date else 0.0
        if not currency.compare_amounts(difference, self.balance_checked_difference):
            return
        self.sudo().balance_checked_difference = difference
        if currency.is_zero(difference):
            self.link_id.message_post(body=_(
                "%(account)s: the journal agrees with the bank again (%(balance)s).",
                account=self.name, balance=formatLang(self.env, self.balance, currency_obj=currency),
            ))
        elif self.balance_finding:
            self.link_id.message_post(body=Markup("<p><b>%s: %s</b></p><p>%s</p><p>%s</p>") % (
                self.name, self.balance_finding_message,
                _("The bank's booked balance is %(bank)s; the journal's is %(journal)s.",
                  bank=formatLang(self.env, self.balance, currency_obj=currency),
                  journal=formatLang(self.env, self.journal_balance, currency_obj=currency)),
                self._difference_advice(),
            ))

    @api.model
    def _difference_advice(self):
        return _(
            "Open the journal's statements from that day: a line deleted, edited or entered by hand in Odoo, "
            "or a transaction the bank did not send, shows as a statement whose ending balance is not reached. "
            "Fix the line, or use Find Missing Transactions (in the journal's menu) to import a transaction the "
            "bank sent late. If the difference is expected (e.g. history not imported on purpose), acknowledge it "
            "on the account."
        )

    # buttons -----------------------------------------------------------------

    def action_acknowledge_balance_difference(self):
        """Accept the current difference, with its explanation; a new difference is a finding again."""
        self.ensure_one()
        self.link_id.check_access("write")
        if not self.balance_difference_note:
            raise UserError(_("Explain the difference first, e.g. \"history not imported on purpose\"."))
        self.sudo().balance_acknowledged_difference = self.currency_id.round(self.balance_difference)
        self.link_id.message_post(body=_(
            "%(account)s: %(user)s acknowledged a difference of %(amount)s between bank and journal: %(note)s",
            account=self.name, user=self.env.user.name, note=self.balance_difference_note,
            amount=formatLang(self.env, self.balance_difference, currency_obj=self.currency_id),
        ))
        return True
