from odoo import _, fields, models
from odoo.exceptions import UserError

from ..models.online_sync_protected import check_company_allowed

#: The groups that review a synchronized journal (accountants; in Community, accounting administrators).
REVIEWERS = ("account.group_account_user", "account.group_account_manager")


class OnlineReviewBase(models.AbstractModel):
    """What the review wizards of a synchronized journal share: the journal and period, checked for the user."""

    _name = "online.review.base"
    _inherit = ["online.sync.protected", "online.sync.dialog"]
    _description = "Review of a Synchronized Journal"
    _user_creatable = {group: {"journal_id", "date_from", "date_to"} for group in REVIEWERS}
    _user_writable = {group: {"date_from", "date_to"} for group in REVIEWERS}

    journal_id = fields.Many2one(
        "account.journal", required=True, readonly=True, domain=[("online_account_id", "!=", False)],
    )
    company_id = fields.Many2one(related="journal_id.company_id")
    account_id = fields.Many2one(related="journal_id.online_account_id", string="Online Account")
    currency_id = fields.Many2one(related="account_id.currency_id")
    date_from = fields.Date(string="From", required=True)
    date_to = fields.Date(string="To", required=True, default=fields.Date.context_today)
    searched = fields.Boolean(readonly=True)

    def _checked_account(self):
        """The journal's online account, after checking the user may review it."""
        self.ensure_one()
        journal = self.journal_id
        check_company_allowed(self.env, journal.company_id.ids)
        journal.check_access("read")
        account = journal.online_account_id
        if not account:
            raise UserError(_("%(journal)s is not synchronized with a bank.", journal=journal.name))
        account.link_id.check_access("write")
        if self.date_from > self.date_to:
            raise UserError(_("The period ends before it starts."))
        return account
