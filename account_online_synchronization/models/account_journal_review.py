from odoo import _, models


class AccountJournal(models.Model):
    """The review actions of a synchronized journal: missing, duplicate and ignored transactions."""

    _inherit = "account.journal"

    def _open_review_wizard(self, model, name):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "view_mode": "form",
            "target": "new",
            "context": {"default_journal_id": self.id},
        }

    def action_find_missing_transactions(self):
        return self._open_review_wizard("online.missing.transactions", _("Find Missing Transactions"))

    def action_find_duplicate_transactions(self):
        return self._open_review_wizard("online.duplicate.transactions", _("Find Duplicate Transactions"))

    def action_open_ignored_transactions(self):
        self.ensure_one()
        return self.online_account_id.action_open_ignored_transactions()
