"""Refresh a connection only when its bank allows it, as its aggregator tells."""
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools.misc import format_date

from ..providers.base import quota_end


class OnlineLink(models.Model):
    _inherit = "online.link"

    sandbox_scenario = fields.Selection(
        selection_add=[("quota", "Four automatic refreshes a day (tells the quota left)")],
        ondelete={"quota": "set default"},
    )
    next_allowed_refresh = fields.Datetime(
        readonly=True, copy=False, index="btree_not_null",
        help="The bank allows no scheduled refresh before this time, as its aggregator told: the scheduler waits.",
    )
    next_allowed_refresh_text = fields.Char(compute="_compute_next_allowed_refresh_text", string="Refresh Limit")

    @api.depends("next_allowed_refresh")
    def _compute_next_allowed_refresh_text(self):
        now = fields.Datetime.now()
        for link in self:
            when = link.next_allowed_refresh
            link.next_allowed_refresh_text = link._allowed_at_text(when) if when and when > now else False

    def _allowed_at_text(self, when):
        """"Next allowed refresh at HH:MM" in the user's time zone, with the day when it is not today."""
        local = fields.Datetime.context_timestamp(self, when)
        time = local.strftime("%H:%M")
        if local.date() == fields.Datetime.context_timestamp(self, fields.Datetime.now()).date():
            return _("Next allowed refresh at %(time)s", time=time)
        return _("Next allowed refresh on %(date)s at %(time)s", date=format_date(self.env, local.date()), time=time)

    def _compute_next_refresh(self):
        super()._compute_next_refresh()
        for link in self:
            if link.next_refresh and link.next_allowed_refresh and link.next_allowed_refresh > link.next_refresh:
                link.next_refresh = link.next_allowed_refresh

    @api.model
    def _cron_due_domain(self):
        """The scheduler does not call a bank before the time its aggregator allows."""
        return super()._cron_due_domain() + [
            "|", ("next_allowed_refresh", "=", False), ("next_allowed_refresh", "<=", fields.Datetime.now()),
        ]

    def _handle_sync_error(self, error):
        """A refusal or an outage that says when to try again sets when the next refresh is allowed."""
        super()._handle_sync_error(error)
        if getattr(error, "retry_after", None):
            until = quota_end(error.retry_after)
            self.sudo().next_allowed_refresh = max(until, self.next_allowed_refresh or until)

    def _runs_logged(self, runs, ok, unattended):
        """The scheduler waits for the quota an account used up, its unattended refreshes of the day, or the
        time a refusal gave.

        A user may still click: the bank decides, and a refusal is told with its reset time.
        """
        super()._runs_logged(runs, ok, unattended)
        told = [when for when in runs.mapped("next_allowed_refresh") if when]
        limit = self._get_provider().UNATTENDED_REFRESHES_PER_DAY
        if limit:
            told += self._unattended_quota_ends(runs.account_id, limit)
        if not ok and self.next_allowed_refresh:
            told.append(self.next_allowed_refresh)
        until = max(told, default=False)
        self.sudo().next_allowed_refresh = until if until and until > fields.Datetime.now() else False

    def _unattended_quota_ends(self, accounts, limit):
        """For each account whose last ``limit`` scheduled runs reached the bank within 24 hours: when the
        oldest of them leaves that window (banks limit unattended refreshes per 24 hours)."""
        since = fields.Datetime.now() - timedelta(days=1)
        ends = []
        for account in accounts:
            runs = self.env["online.sync.run"].sudo().search([
                ("account_id", "=", account.id), ("trigger", "=", "scheduler"), ("started", ">", since),
                ("date_from", "!=", False),
            ], order="started desc", limit=limit)
            if len(runs) == limit:
                ends.append(runs[-1].started + timedelta(days=1))
        return ends
