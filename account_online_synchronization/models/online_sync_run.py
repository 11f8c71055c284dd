from datetime import timedelta

from odoo import api, fields, models

#: Runs are kept this long.
RUN_RETENTION = timedelta(days=90)


class OnlineSyncRun(models.Model):
    """One synchronization of one bank account: what was asked, what came, what was imported.

    Written by the synchronization engine only (as superuser); read-only for users.
    A run that failed before reaching the accounts is logged without an account.
    """

    _name = "online.sync.run"
    _description = "Bank Synchronization Run"
    _order = "started desc, id desc"
    _check_company_auto = True
    _rec_name = "started"

    link_id = fields.Many2one("online.link", string="Connection", required=True, readonly=True,
                              ondelete="cascade", index=True, check_company=True)
    account_id = fields.Many2one("online.account", string="Account", readonly=True, ondelete="cascade",
                                 check_company=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    started = fields.Datetime(required=True, readonly=True)
    duration = fields.Float(string="Duration (s)", readonly=True, digits=(16, 1))
    trigger = fields.Selection(
        [("scheduler", "Scheduler"), ("user", "User"), ("background", "Background import")],
        required=True, readonly=True,
    )
    user_id = fields.Many2one("res.users", string="Started By", readonly=True, ondelete="set null",
                              help="Empty for the scheduler.")
    date_from = fields.Date(string="Asked From", readonly=True)
    date_to = fields.Date(string="Asked Until", readonly=True)
    fetched_count = fields.Integer(string="Fetched", readonly=True, help="Transactions the bank listed.")
    new_count = fields.Integer(string="New", readonly=True, help="Statement lines this run created.")
    known_count = fields.Integer(string="Already Imported", readonly=True,
                                 help="Posted transactions the journal already held.")
    pending_count = fields.Integer(string="Pending", readonly=True,
                                   help="Transactions not posted yet, or booked after today: imported later.")
    ignored_count = fields.Integer(
        string="Ignored", readonly=True,
        help="Posted transactions this run did not import on purpose (e.g. booked before the first "
             "synchronization date).",
    )
    quota_told = fields.Boolean(readonly=True)
    quota_remaining = fields.Integer(string="Quota Left", readonly=True,
                                     help="Refreshes the bank still allows, as the aggregator told.")
    next_allowed_refresh = fields.Datetime(readonly=True,
                                           help="The bank allows no further refresh before this time.")
    state = fields.Selection([("done", "Done"), ("failed", "Failed")], required=True, readonly=True)
    error_message = fields.Char(string="Error", readonly=True)
    error_reference = fields.Char(readonly=True, index="btree_not_null")

    @api.autovacuum
    def _gc_old_runs(self):
        """Forget runs older than the retention period."""
        self.sudo().search([("started", "<", fields.Datetime.now() - RUN_RETENTION)]).unlink()
