"""The run log of a connection, and the alarm when its scheduled runs keep failing."""
from odoo import _, fields, models
from odoo.tools.misc import format_datetime

from ..providers import ProviderError


class OnlineLink(models.Model):
    _inherit = "online.link"

    run_ids = fields.One2many("online.sync.run", "link_id", string="Synchronization Runs")
    run_count = fields.Integer(compute="_compute_run_count", string="Runs")
    unattended_failures = fields.Integer(
        string="Failed Scheduled Runs", readonly=True, copy=False,
        help="Scheduled synchronizations that failed in a row since the last successful one.",
    )
    failure_alarm_sent = fields.Boolean(readonly=True, copy=False)

    def _compute_run_count(self):
        counts = dict(self.env["online.sync.run"]._read_group(
            [("link_id", "in", self.ids)], ["link_id"], ["__count"],
        ))
        for link in self:
            link.run_count = counts.get(link, 0)

    def action_open_runs(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Synchronization Runs"),
            "res_model": "online.sync.run",
            "view_mode": "list,form",
            "domain": [("link_id", "=", self.id)],
        }

    def _synchronize(self, unattended, accounts=None):
        """Synchronize; log the failure of the run with its reference, and count failed scheduled runs."""
        Run = self.env["online.sync.run"].sudo()
        last_run = Run.search([], order="id desc", limit=1).id
        started = fields.Datetime.now()
        ok = super()._synchronize(unattended, accounts)
        runs = Run.search([("link_id", "=", self.id), ("id", ">", last_run)])
        if not ok:
            failed = runs.filtered(lambda run: run.state == "failed")
            if not failed:
                # Stopped before or after the accounts (consent, tokens, account list): one run tells it.
                trigger, user = self._run_origin(unattended)
                failed = Run.create({
                    "link_id": self.id, "company_id": self.company_id.id, "started": started,
                    "duration": (fields.Datetime.now() - started).total_seconds(),
                    "trigger": trigger, "user_id": user,
                    "state": "failed", "error_message": self.error_message and self.error_message[:500],
                })
            failed.write({"error_reference": self.error_reference})
            runs |= failed
        self._runs_logged(runs, ok, unattended)
        return ok

    def _runs_logged(self, runs, ok, unattended):
        """Act on the ``runs`` a synchronization of the link has just logged."""
        self._count_scheduled_result(ok, unattended)

    def _run_origin(self, unattended):
        """What started a run: ``(trigger, user id)``; no user for the scheduler."""
        if unattended:
            return "scheduler", False
        if self.import_state == "running":
            return "background", self.import_user_id.id
        return "user", self.env.uid

    def _consent_renewed(self, mode):
        """A renewed consent ends the streak of failed scheduled runs: the cause has been acted on."""
        super()._consent_renewed(mode)
        if self.unattended_failures or self.failure_alarm_sent:
            self.sudo().write({"unattended_failures": 0, "failure_alarm_sent": False})

    def _count_scheduled_result(self, ok, unattended):
        """Count failed scheduled runs in a row; e-mail the managers once when they reach the company's limit."""
        if ok:
            if self.unattended_failures or self.failure_alarm_sent:
                self.sudo().write({"unattended_failures": 0, "failure_alarm_sent": False})
            return
        if not unattended:
            return
        failures = self.unattended_failures + 1
        vals = {"unattended_failures": failures}
        if failures >= self.company_id.online_sync_failure_alarm_runs and not self.failure_alarm_sent:
            self._mail_failure_alarm(failures)
            vals["failure_alarm_sent"] = True
        self.sudo().write(vals)

    def _mail_failure_alarm(self, failures):
        error = ProviderError(self.error_message or "")
        error.code = self.error_code
        since = (format_datetime(self.env, self.last_refresh, dt_format="short") if self.last_refresh
                 else _("the connection was made"))
        self._mail_managers(
            _("%(bank)s: %(count)s scheduled synchronizations failed in a row", bank=self.name, count=failures),
            [
                _("The last %(count)s scheduled synchronizations of %(bank)s failed: no new transaction was "
                  "imported since %(since)s.", count=failures, bank=self.name, since=since),
                _("Last error: %(error)s", error=self.error_message),
                _("What to do: %(advice)s", advice=self._error_advice(error)),
                _("Reference: %(reference)s. Give it to support if the problem persists: it identifies this "
                  "failure in the connection's history and in the server logs.", reference=self.error_reference),
            ],
        )
