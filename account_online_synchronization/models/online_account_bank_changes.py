from markupsafe import Markup

from odoo import _, fields, models
from odoo.exceptions import UserError



class OnlineAccount(models.Model):
    """What aggregators listing by changes need: where the next run starts, and changed or withdrawn lines.

    The resume cursor is encrypted like the connection's tokens, and saved
    only once the lines it covers are committed: a run that stops early
    starts again from the previous cursor, and the lines already imported
    are recognized by their transaction id.
    """

    _name = "online.account"
    _inherit = ["online.account", "online.sync.secret"]
    _secret_fields = {"resume_cursor_encrypted": None}

    resume_cursor_encrypted = fields.Text(groups="base.group_system", copy=False, exportable=False)

    def _resume_cursor(self):
        """Where the aggregator's listing of changes resumes for this account (None: from the start)."""
        self.ensure_one()
        return self._decrypt(self.sudo().resume_cursor_encrypted)

    @staticmethod
    def _collect_bank_changes(page, changes):
        """Add what a ``TransactionPage`` says beyond its transactions to ``changes``."""
        changes.setdefault("modified", set()).update(page.modified_ids)
        changes.setdefault("removed", set()).update(page.removed_ids)
        if page.resume_cursor is not None:
            changes["resume_cursor"] = page.resume_cursor

    def _apply_bank_changes(self, changes, posted):
        """Apply the bank's changes to lines already imported, then keep the resume cursor.

        A changed transaction updates its line while the line is not
        reconciled; otherwise, and for every withdrawn transaction, the line
        is kept as it is and the link's chatter says what the bank changed.
        """
        self.ensure_one()
        removed = changes.get("removed") or set()
        modified = (changes.get("modified") or set()) - removed
        if removed or modified:
            lines = self.env["account.bank.statement.line"].search([
                ("online_account_id", "=", self.id),
                ("online_transaction_identifier", "in", list(removed | modified)),
            ])
            by_id = {transaction.id: transaction for transaction in posted}
            withdrawn = lines.filtered(lambda line: line.online_transaction_identifier in removed)
            kept = self._update_changed_lines(lines - withdrawn, by_id)
            self._report_bank_changes(withdrawn, kept)
        if changes.get("resume_cursor") is not None:
            self.sudo().resume_cursor_encrypted = self._encrypt(changes["resume_cursor"])

    def _update_changed_lines(self, lines, transactions):
        """Write the bank's new version of ``transactions`` on their unreconciled ``lines``.

        Return the lines left as they were (reconciled, or refused by Odoo, e.g. a lock date).
        """
        kept = self.env["account.bank.statement.line"]
        statements = self.env["account.bank.statement"]
        for line in lines:
            transaction = transactions.get(line.online_transaction_identifier)
            if not transaction:
                continue
            vals = {
                "date": transaction.booking_date,
                "amount": float(transaction.amount),
                "payment_ref": transaction.label or transaction.counterparty_name or "/",
                "partner_name": transaction.counterparty_name or False,
                "transaction_details": transaction.payload,
            }
            if line.is_reconciled:
                kept |= line
                continue
            try:
                with self.env.cr.savepoint():
                    line.write(vals)
            except UserError:
                kept |= line
                continue
            statements |= line.statement_id
        if statements:
            self.journal_id._online_sync_chain_balances(statements)
        return kept

    def _report_bank_changes(self, withdrawn, kept):
        """Tell the accountants about imported lines the bank withdrew or changed and Odoo kept."""
        names = {"bank": self.link_id.name, "account": self.name, "journal": self.journal_id.name}
        parts = []
        if withdrawn:
            parts.append((_(
                "%(bank)s withdrew these transactions of %(account)s, already imported into %(journal)s. "
                "They are kept: check them, and delete or reverse them if they should go.", **names), withdrawn))
        if kept:
            parts.append((_(
                "%(bank)s changed these transactions of %(account)s, already reconciled in %(journal)s; they were "
                "not changed in Odoo: check them against the bank.", **names), kept))
        if not parts:
            return
        body = Markup()
        for text, lines in parts:
            items = Markup().join(
                Markup("<li>%s %s %s (%s)</li>") % (
                    line.date, line.payment_ref, line.currency_id.format(line.amount), line.online_transaction_identifier,
                ) for line in lines
            )
            body += Markup("<p>%s</p><ul>%s</ul>") % (text, items)
        self.link_id.message_post(body=body)
