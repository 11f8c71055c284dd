from datetime import timedelta

from odoo import _, fields, models
from odoo.exceptions import UserError

from .online_account_pending import LOOKUP_CONTEXT

#: A new bank transaction with the amount of a line entered by hand at most this many days apart is held.
HAND_MATCH_DAYS = 2


class OnlineAccount(models.Model):
    """Transactions the synchronization skips: deleted by an accountant, or held as a likely duplicate of a line
    entered by hand."""

    _inherit = "online.account"

    ignored_transaction_ids = fields.One2many(
        "online.transaction.ignored", "online_account_id", string="Ignored Transactions", readonly=True,
    )
    ignored_count = fields.Integer(compute="_compute_ignored_count", string="Ignored")

    def _compute_ignored_count(self):
        counts = dict(self.env["online.transaction.ignored"]._read_group(
            [("online_account_id", "in", self.ids)], ["online_account_id"], ["__count"]))
        for account in self:
            account.ignored_count = counts.get(account, 0)

    def _filter_new(self, transactions):
        """Also drop the ignored transactions, and hold those that look like a line entered by hand."""
        new = super()._filter_new(transactions)
        if not new:
            return new
        ignored = set(self.env["online.transaction.ignored"].sudo().search_fetch([
            ("online_account_id", "=", self.id), ("transaction_identifier", "in", [t.id for t in new]),
        ], ["transaction_identifier"]).mapped("transaction_identifier"))
        new = [t for t in new if t.id not in ignored]
        if new and not self.env.context.get(LOOKUP_CONTEXT):
            held = self._hold_hand_duplicates(new)
            new = [t for t in new if t.id not in held]
        return new

    def _recognise_reimported(self, transactions, date_from):
        """After a reconnection, the ignored transactions come back under new ids too: they stay ignored."""
        if self.content_match_until:
            self._rekey_ignored(transactions, date_from)
        return super()._recognise_reimported(transactions, date_from)

    def _rekey_ignored(self, transactions, date_from):
        """Give the ignored transactions whose id the bank no longer reports the new id of the same content.

        The content is the one ``_recognise_reimported`` compares: date, amount, counterparty and label.
        """
        reported = [t.id for t in transactions]
        Ignored = self.env["online.transaction.ignored"].sudo()
        ignored = Ignored.search([("online_account_id", "=", self.id), ("date", ">=", date_from),
                                  ("date", "<=", self.content_match_until)], order="id")
        orphans = ignored.filtered(lambda record: record.transaction_identifier not in reported)
        if not orphans:
            return
        imported = set(self.env["account.bank.statement.line"].sudo().search_fetch([
            ("online_account_id", "=", self.id), ("online_transaction_identifier", "in", reported),
        ], ["online_transaction_identifier"]).mapped("online_transaction_identifier"))
        taken = imported | set(ignored.mapped("transaction_identifier"))
        by_content = {}
        for record in orphans:
            key = self._content_key(record.date, record.amount, record.partner_name, record.label)
            by_content.setdefault(key, []).append(record)
        for transaction in transactions:
            if transaction.id in taken or transaction.booking_date > self.content_match_until:
                continue
            records = by_content.get(self._content_key(*self._line_content(transaction)))
            if records:
                records.pop(0).transaction_identifier = transaction.id

    def _hold_hand_duplicates(self, transactions):
        """Hold the ``transactions`` that look like a line of the journal entered by hand; return their ids.

        Such a line has no bank id, the same amount, and a date at most
        HAND_MATCH_DAYS apart (people enter the day they paid, banks book a
        day or two later). Each hand line is matched once, to the closest date; one reviewed as not a
        duplicate (kept in Find Duplicate Transactions, or its held transaction restored) holds nothing.
        """
        days = [t.booking_date for t in transactions]
        margin = timedelta(days=HAND_MATCH_DAYS)
        Ignored = self.env["online.transaction.ignored"].sudo()
        hand_lines = self.env["account.bank.statement.line"].sudo().search([
            ("journal_id", "=", self.journal_id.id), ("online_transaction_identifier", "=", False),
            ("online_duplicate_kept", "=", False), ("date", ">=", min(days) - margin), ("date", "<=", max(days) + margin),
        ], order="date, id")
        hand_lines -= Ignored.search([("hand_line_id", "in", hand_lines.ids)]).hand_line_id
        if not hand_lines:
            return set()
        currency = self.currency_id
        held = []
        for transaction in transactions:
            candidates = hand_lines.filtered(lambda line: (
                abs(line.date - transaction.booking_date) <= margin
                and not currency.compare_amounts(line.amount, float(transaction.amount))))
            if not candidates:
                continue
            line = min(candidates, key=lambda line: abs(line.date - transaction.booking_date))
            hand_lines -= line
            held.append(dict(Ignored._summary_vals(transaction), online_account_id=self.id, reason="held",
                             hand_line_id=line.id, ignored_on=fields.Datetime.now()))
        if held:
            Ignored.create(held)
            self.link_id.message_post(body=_(
                "%(count)s new transactions of %(account)s look like lines entered by hand in %(journal)s: they "
                "were not imported. Review them in Ignored Transactions: restore the ones that are different "
                "transactions, or keep the hand lines.",
                count=len(held), account=self.name, journal=self.journal_id.name,
            ))
        return {vals["transaction_identifier"] for vals in held}

    def _read_again_from(self, day):
        """Make the next synchronization read the bank again from ``day``, from scratch where it reads changes."""
        self.ensure_one()
        if day and self.last_sync and (not self.pending_since or day < self.pending_since):
            self.pending_since = day
        self.resume_cursor_encrypted = False

    def _resume_cursor(self):
        if self.env.context.get(LOOKUP_CONTEXT):
            return None
        return super()._resume_cursor()

    def action_find_missing_transactions(self):
        self.ensure_one()
        if not self.journal_id:
            raise UserError(_("Link %(account)s to a journal first.", account=self.name))
        return self.journal_id.action_find_missing_transactions()

    def action_open_ignored_transactions(self):
        return {
            "type": "ir.actions.act_window",
            "name": _("Ignored Transactions"),
            "res_model": "online.transaction.ignored",
            "view_mode": "list",
            "domain": [("online_account_id", "in", self.ids)],
        }
