import logging
import time
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import psycopg2

from odoo import _, api, fields, models
from odoo.addons.base.models.res_bank import sanitize_account_number
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..providers import MalformedResponse, ProviderError
from ..providers.errors import UnexpectedError
from .account_move import BATCH_NUMBERING
from .online_link import ImportPaused

_logger = logging.getLogger(__name__)

#: Days re-requested before the last synchronized date, so late-booked lines are never lost.
OVERLAP_DAYS = 7
#: Statement lines created (and committed) at a time.
CHUNK_SIZE = 500
#: Default history of a new account when no first synchronization date is given.
DEFAULT_HISTORY_DAYS = 90

#: Context that skips what a bank import does not need: the "created" chatter message per entry.
IMPORT_CONTEXT = {"mail_create_nolog": True, "mail_create_nosubscribe": True, "tracking_disable": True}


def _is_exact(amount, decimal_places):
    """True when the ``Decimal`` ``amount`` has no non-zero digit beyond ``decimal_places``."""
    try:
        return amount.quantize(Decimal(1).scaleb(-decimal_places)) == amount
    except InvalidOperation:
        return False


class OnlineAccount(models.Model):
    """A bank account reached through an online connection."""

    _name = "online.account"
    _description = "Online Bank Account"
    _inherit = ["online.sync.protected"]
    _order = "link_id, name, id"
    _check_company_auto = True
    # Accounts come from the bank: users only rename them and choose where their history starts.
    _user_writable = {"account.group_account_manager": {"name", "first_sync_date", "balance_difference_note"}}

    name = fields.Char(required=True)
    link_id = fields.Many2one("online.link", string="Connection", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="link_id.company_id", store=True, index=True)
    provider_account_id = fields.Char(string="Provider Account ID", required=True, readonly=True)
    account_number = fields.Char(readonly=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    balance = fields.Monetary(string="Bank Balance", readonly=True)
    journal_balance = fields.Monetary(compute="_compute_journal_balance")
    balance_difference = fields.Monetary(
        compute="_compute_journal_balance",
        help="The bank's booked balance minus the journal's: its opening balance plus its posted statement lines.",
    )
    journal_ids = fields.One2many("account.journal", "online_account_id", string="Journals")
    journal_id = fields.Many2one("account.journal", compute="_compute_journal_id")
    first_sync_date = fields.Date(
        string="First Synchronization Date",
        help="Transactions booked before this date are not imported.",
    )
    last_sync = fields.Date(
        string="Synchronized Until", readonly=True,
        help="Every transaction booked up to this date has been imported.",
    )
    last_sync_imported = fields.Integer(string="Imported by Last Synchronization", readonly=True)
    transaction_count = fields.Integer(compute="_compute_transaction_count", string="Bank Transactions")
    pending_count = fields.Integer(
        string="Pending Transactions", readonly=True,
        help="Transactions the bank has not posted yet, or booked on a later date; they are imported then.",
    )
    pending_since = fields.Date(
        string="Pending Since", readonly=True,
        help="Oldest date of the transactions still pending at the last synchronization: the next one reads "
             "again from there, so that a transaction the bank books late under its original date is not lost.",
    )
    history_start = fields.Date(
        string="Bank History Starts", readonly=True,
        help="The first day the bank gave transactions for, when it gave less history than asked.",
    )
    content_match_until = fields.Date(
        readonly=True,
        help="After a reconnection: transactions up to this date that were imported under the ids of the "
             "previous consent are recognised by their date, amount, counterparty and label.",
    )

    _sql_constraints = [
        ("provider_account_unique", "unique(link_id, provider_account_id)",
         "This bank account is already part of the connection."),
    ]

    @api.depends("journal_ids")
    def _compute_journal_id(self):
        for account in self:
            account.journal_id = account.journal_ids[:1]

    @api.depends("balance", "journal_ids")
    def _compute_journal_balance(self):
        totals = dict(self.env["account.bank.statement.line"]._read_group(
            [("journal_id", "in", self.journal_ids.ids), ("state", "=", "posted")],
            ["journal_id"], ["amount:sum"],
        ))
        for account in self:
            opening = account._journal_opening(account.journal_id) if account.journal_id else 0.0
            account.journal_balance = opening + totals.get(account.journal_id, 0.0)
            account.balance_difference = account.balance - account.journal_balance

    def _compute_transaction_count(self):
        counts = dict(self.env["account.bank.statement.line"]._read_group(
            [("online_account_id", "in", self.ids)], ["online_account_id"], ["__count"],
        ))
        for account in self:
            account.transaction_count = counts.get(account, 0)

    def action_open_transactions(self):
        self.ensure_one()
        return self.env["account.bank.statement.line"]._action_bank_transactions(
            [("online_account_id", "=", self.id)], {"search_default_group_statement": 1},
        )

    # synchronization ---------------------------------------------------------

    def _synchronize(self, provider, tokens, unattended):
        """Import the account's new posted transactions into its journal, a chunk at a time.

        After each committed chunk the synchronized date moves to the last
        booking date it holds; it reaches today only once everything is in.
        A background import whose run is out of time stops after such a chunk.
        """
        self.ensure_one()
        today = fields.Date.today()
        changes = {}
        date_from = self._fetch_start_date()
        posted, waiting, history_start = self._fetch_bank_transactions(
            provider, tokens, date_from, unattended, changes=changes,
        )
        self._check_transactions(posted)
        self._notify_history_start(date_from, history_start)
        posted = self._recognise_reimported(posted, date_from)
        imported = 0
        statements = {}
        book = self._keep_for_bank_balances(posted, date_from, statements)
        sync_time = fields.Datetime.now()
        analyze_at = CHUNK_SIZE
        # Known transactions are dropped up front: a re-synchronization of a long period commits no empty chunks.
        to_import = self._filter_new(posted)
        size, start = self.link_id._chunk_size(), 0
        while start < len(to_import):
            chunk = to_import[start:start + size]
            start += len(chunk)
            started = time.monotonic()
            # A database error leaves nothing of the chunk, and the transaction usable.
            with self.env.cr.savepoint():
                new = self._filter_new(chunk)
                if new:
                    filed = self._create_statement_lines(new, statements, sync_time)
                    self._end_statements_on_bank_balances(book, filed)
                if not self.last_sync or chunk[-1].booking_date > self.last_sync:
                    self.last_sync = min(chunk[-1].booking_date, today)
            imported += len(new)
            self.link_id._import_progress(self)
            self.link_id._commit()
            # What the chunk left in the cache is no longer needed: a large import keeps a flat memory use.
            self.env.invalidate_all()
            if imported >= analyze_at:
                self._refresh_planner_statistics()
                analyze_at *= 2
            self.link_id._check_import_time()
            size = self.link_id._chunk_size(len(chunk), time.monotonic() - started)
        self._apply_bank_changes(changes, posted)
        self.write({
            "last_sync": today,
            "last_sync_imported": imported,
            "pending_count": len(waiting),
            "pending_since": min((t.booking_date for t in waiting), default=False),
            "content_match_until": False,
        })
        self.link_id._import_progress(self, finished=True)

    def _synchronize_safely(self, provider, tokens, unattended):
        """Synchronize; return the error that stopped this account alone, if any.

        Errors concerning the whole connection (consent, bank down, ...) are
        raised: the other accounts would meet them too.
        """
        try:
            self._synchronize(provider, tokens, unattended)
        except ProviderError as error:
            if error.link_wide:
                raise
            error.message = f"{self.name}: {error.message}"
            return error
        except ImportPaused:
            raise
        except Exception as error:  # noqa: BLE001 - one account must not lose the others
            self.link_id._log_unexpected_error(error)
            if not isinstance(error, psycopg2.Error):
                return UnexpectedError(_("%(account)s: the data received could not be processed.", account=self.name))
            # A database error stops the import at the chunk it was in; that chunk's savepoint undid it.
            return ProviderError(_("%(account)s: unexpected error: %(error)s", account=self.name,
                                   error=error.diag.message_primary or error))
        return None

    def _refresh_planner_statistics(self):
        """Tell PostgreSQL how much the journal grew during a large import.

        Odoo numbers every entry with queries on the journal's entries; with
        statistics from before the import, their plan scans the whole journal
        and the import slows down as it grows. Refreshed each time the import
        doubles, the plan stays a short index walk.
        """
        self.env.cr.execute(SQL("ANALYZE account_move, account_bank_statement_line"))
        self.link_id._commit()

    def _fetch_start_date(self):
        """First booking date to ask the bank for, clamped to what the bank keeps.

        A synchronized account is read again from a few days before its last
        synchronized date, or from the oldest transaction still pending then
        (never before the first synchronization date nor what the bank keeps).
        """
        today = fields.Date.today()
        first = self.first_sync_date or today - timedelta(days=DEFAULT_HISTORY_DAYS)
        start = first
        if self.last_sync:
            start = max(start, self.last_sync - timedelta(days=OVERLAP_DAYS))
        limit = self.link_id.institution_max_history_days
        oldest = limit and today - timedelta(days=limit)
        if self.pending_since and self.last_sync:
            start = min(start, max(self.pending_since, first, oldest or first))
        if limit and start < oldest:
            self.link_id.message_post(body=_(
                "%(bank)s only gives the last %(days)s days of history: transactions of %(account)s booked "
                "before %(oldest)s could not be fetched. Import them from a bank statement file if you need them.",
                bank=self.link_id.name, days=limit, account=self.name, oldest=oldest,
            ))
            self.history_start = oldest
            start = oldest
        return start

    def _fetch_bank_transactions(self, provider, tokens, date_from, unattended, changes=None):
        """Return the posted transactions (unique ids, sorted by date), the waiting ones, and the
        first day of the bank's history when it gave less than asked (else None).

        Transactions booked after today wait like pending ones: the run on or
        after their booking date imports them. Listings read by changes start
        where the last run ended; ``changes`` collects their modified and
        removed ids and the cursor to resume from.
        """
        today = fields.Date.today()
        posted = {}
        waiting = {}
        history_start = None
        cursor = self._resume_cursor()
        while True:
            page = provider.list_transactions(
                tokens, self.provider_account_id, date_from, cursor=cursor, unattended=unattended,
            )
            if changes is not None:
                self._collect_bank_changes(page, changes)
            for transaction in page.transactions:
                if transaction.is_posted and transaction.booking_date <= today:
                    posted.setdefault(transaction.id, transaction)
                else:
                    waiting.setdefault(transaction.id, transaction)
            history_start = page.history_start or history_start
            if not page.next_cursor:
                break
            if page.next_cursor == cursor:
                raise MalformedResponse(_("The bank returned the same page twice; the synchronization stopped."))
            cursor = page.next_cursor
        waiting = [transaction for key, transaction in waiting.items() if key not in posted]
        return sorted(posted.values(), key=lambda t: (t.booking_date, t.id)), waiting, history_start

    def _notify_history_start(self, date_from, history_start):
        """Say once from which date the bank really gave history, when it is later than asked.

        Not again when the start told before is the same give or take a day
        (banks count today in or out of their "last N days").
        """
        if not history_start or history_start <= date_from:
            return
        if self.history_start and abs(history_start - self.history_start) <= timedelta(days=1):
            return
        self.history_start = history_start
        self.link_id.message_post(body=_(
            "%(bank)s gave less history than asked for %(account)s: transactions start on %(start)s only, not "
            "from %(asked)s, as the bank keeps no older history for this connection. Import older transactions "
            "from a bank statement file if you need them.",
            bank=self.link_id.name, account=self.name, start=history_start, asked=date_from,
        ))

    def _recognise_reimported(self, transactions, date_from):
        """Drop the transactions already imported under the id of a previous consent.

        Some ids do not survive a reconnection (GoCardless' ``internalTransactionId``
        is unique within one account id only). Up to ``content_match_until``, a
        transaction unknown by id that has the date, amount, counterparty and
        label of a line whose id the bank no longer reports is that line: the
        line takes the new id, so that later runs recognise it by id.
        """
        if not self.content_match_until:
            return transactions
        candidates = [t for t in transactions if t.booking_date <= self.content_match_until]
        new_ids = {t.id for t in self._filter_new(candidates)}
        if not new_ids:
            return transactions
        reported = [t.id for t in transactions]
        orphans = self.env["account.bank.statement.line"].search([
            ("online_account_id", "=", self.id),
            ("date", ">=", date_from),
            ("date", "<=", self.content_match_until),
            ("online_transaction_identifier", "not in", reported),
        ], order="id")
        by_content = {}
        for line in orphans:
            by_content.setdefault(self._content_key(line.date, line.amount, line.partner_name, line.payment_ref),
                                  []).append(line)
        matched = {}
        for transaction in candidates:
            if transaction.id not in new_ids:
                continue
            lines = by_content.get(self._content_key(*self._line_content(transaction)))
            if lines:
                matched[transaction.id] = lines.pop(0)
        for identifier, line in matched.items():
            line.online_transaction_identifier = identifier
        return [t for t in transactions if t.id not in matched]

    def _content_key(self, day, amount, counterparty, label):
        return day, self.currency_id.round(float(amount)), counterparty or "", label or ""

    @staticmethod
    def _line_content(transaction):
        """Date, amount, counterparty and label of the statement line ``transaction`` becomes."""
        return (transaction.booking_date, transaction.amount, transaction.counterparty_name,
                transaction.label or transaction.counterparty_name or "/")

    def _check_transactions(self, transactions):
        """Refuse the whole import when one transaction cannot be recorded exactly.

        Checked before any line is created, so that nothing is half-imported:
        known currencies, the journal's currency, and amounts without more
        decimals than their currency has (trailing zeros aside: money is never
        rounded silently).
        """
        journal = self.journal_id
        currency = journal.currency_id or journal.company_id.currency_id
        currencies = self._get_currencies({t.currency for t in transactions} | {
            t.foreign_currency for t in transactions if t.foreign_currency})
        for transaction in transactions:
            if transaction.currency != currency.name:
                raise MalformedResponse(_(
                    "Transaction %(id)s is in %(currency)s but %(journal)s is in %(journal_currency)s.",
                    id=transaction.id, currency=transaction.currency, journal=journal.name,
                    journal_currency=currency.name,
                ))
            amounts = [(transaction.amount, currency)]
            if transaction.foreign_currency and transaction.foreign_amount is not None:
                amounts.append((transaction.foreign_amount, currencies[transaction.foreign_currency]))
            for amount, amount_currency in amounts:
                if not _is_exact(amount, amount_currency.decimal_places):
                    raise MalformedResponse(_(
                        "Transaction %(id)s has the amount %(amount)s %(currency)s, more precise than the currency "
                        "allows: it is not rounded silently, and nothing new was imported into %(journal)s.",
                        id=transaction.id, amount=amount, currency=amount_currency.name, journal=journal.name,
                    ))

    def _filter_new(self, transactions):
        """Drop the transactions already imported into this account, in one indexed query."""
        self.env["account.bank.statement.line"].flush_model(["online_account_id", "online_transaction_identifier"])
        self.env.cr.execute(SQL(
            """SELECT online_transaction_identifier FROM account_bank_statement_line
                WHERE online_account_id = %s AND online_transaction_identifier = ANY(%s)""",
            self.id, [t.id for t in transactions],
        ))
        known = {row[0] for row in self.env.cr.fetchall()}
        return [t for t in transactions if t.id not in known]

    def _create_statement_lines(self, transactions, statements, sync_time):
        """Create the statement lines of ``transactions``, file them into statements and return these.

        ``statements`` maps a period label to its statement for the run started at ``sync_time``.
        """
        journal = self.journal_id
        currency = journal.currency_id or journal.company_id.currency_id
        foreign_currencies = self._get_currencies({t.foreign_currency for t in transactions if t.foreign_currency})
        partners = self._match_partners(transactions)
        vals_list = []
        for transaction in transactions:
            vals = {
                "journal_id": journal.id,
                "date": transaction.booking_date,
                "payment_ref": self._line_content(transaction)[3],
                "amount": float(transaction.amount),
                "partner_name": transaction.counterparty_name or False,
                "account_number": transaction.counterparty_account or False,
                "partner_id": partners.get(sanitize_account_number(transaction.counterparty_account), False),
                "online_transaction_identifier": transaction.id,
                "online_account_id": self.id,
                "transaction_details": transaction.payload,
            }
            foreign = foreign_currencies.get(transaction.foreign_currency)
            if foreign and foreign != currency and transaction.foreign_amount is not None:
                vals.update(foreign_currency_id=foreign.id, amount_currency=float(transaction.foreign_amount))
            vals_list.append(vals)
        statement_lines = self.env["account.bank.statement.line"].with_context(**IMPORT_CONTEXT, **{BATCH_NUMBERING: True})
        lines = statement_lines.create(statement_lines._online_sync_complete_entries(vals_list))
        return journal._online_sync_file_into_statements(lines, statements, sync_time)

    def _get_currencies(self, codes):
        """Map ISO codes to currencies, activating the inactive ones; an unknown code stops the import."""
        currencies = self.env["res.currency"].with_context(active_test=False).search([("name", "in", list(codes))])
        unknown = set(codes) - set(currencies.mapped("name"))
        if unknown:
            raise MalformedResponse(_("The bank sent an unknown currency code: %(codes)s.", codes=", ".join(sorted(unknown))))
        inactive = currencies.filtered(lambda currency: not currency.active)
        if inactive:
            try:
                with self.env.cr.savepoint():
                    inactive.sudo().active = True
            except psycopg2.errors.SerializationFailure:
                # Another worker activated them after this transaction began. Nothing of this
                # account is imported yet: commit, so that the next reads see them active.
                self.link_id._commit()
        return {currency.name: currency for currency in currencies}

    def _match_partners(self, transactions):
        """Map sanitized counterparty account numbers to the partner owning them, when there is one."""
        numbers = {sanitize_account_number(t.counterparty_account) for t in transactions if t.counterparty_account}
        if not numbers:
            return {}
        bank_accounts = self.env["res.partner.bank"].search([
            ("sanitized_acc_number", "in", list(numbers)),
            ("company_id", "in", (False, self.company_id.id)),
        ])
        owners = {}
        for bank_account in bank_accounts:
            owners.setdefault(bank_account.sanitized_acc_number, set()).add(bank_account.partner_id.id)
        return {number: partner_ids.pop() for number, partner_ids in owners.items() if len(partner_ids) == 1}

    # journal linking ---------------------------------------------------------

    def _link_to_journal(self, journal=None, first_sync_date=None):
        """Link the account to ``journal``, or to a new bank journal when none is given."""
        self.ensure_one()
        if not journal:
            journal = self.env["account.journal"].create({
                "name": self.name,
                "type": "bank",
                "company_id": self.company_id.id,
                "currency_id": self.currency_id != self.company_id.currency_id and self.currency_id.id,
            })
        journal_currency = journal.currency_id or journal.company_id.currency_id
        if journal_currency != self.currency_id:
            raise UserError(_(
                "%(account)s is in %(currency)s: it cannot feed %(journal)s, which is in %(journal_currency)s.",
                account=self.name, currency=self.currency_id.name, journal=journal.name,
                journal_currency=journal_currency.name,
            ))
        if not self.currency_id.active:
            self.currency_id.active = True
        journal.check_access("write")
        link = self.link_id
        first_link = not link.accounts_linked
        journal.sudo().write({"online_account_id": self.id, "bank_statements_source": "online_sync"})
        self._fill_journal_bank(journal)
        if first_link:
            # Automatic synchronization starts with the first account linked to a journal.
            link.sudo().auto_sync = link.institution_unattended_refresh
        self.first_sync_date = first_sync_date or self.first_sync_date or date.today() - timedelta(
            days=DEFAULT_HISTORY_DAYS)
        return journal
