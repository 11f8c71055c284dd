from odoo import _, api, fields, models
from odoo.tools import config

from .online_sync_secret import CONFIG_KEY


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    online_sync_consent_reminder_days = fields.Integer(
        related="company_id.online_sync_consent_reminder_days", readonly=False,
    )
    online_sync_failure_alarm_runs = fields.Integer(related="company_id.online_sync_failure_alarm_runs", readonly=False)
    online_sync_key_status = fields.Char(compute="_compute_online_sync_key_status", groups="base.group_system")
    online_sync_schedule = fields.Char(compute="_compute_online_sync_schedule", groups="base.group_system")

    @api.depends("company_id")
    def _compute_online_sync_key_status(self):
        """Where the key encrypting the banks' tokens and the aggregators' secrets comes from."""
        status = _("In the server's configuration file") if config.get(CONFIG_KEY) else _(
            "Kept in the database: a copy of the database can decrypt the tokens. Set "
            "online_sync_encryption_key in the server's configuration file (README, Secrets).")
        self.online_sync_key_status = status

    @api.depends("company_id")
    def _compute_online_sync_schedule(self):
        """How often the scheduled synchronization runs, or that it is off."""
        cron = self.env.ref("account_online_synchronization.ir_cron_fetch_online_transactions",
                            raise_if_not_found=False)
        cron = cron and cron.sudo()
        if not cron or not cron.active:
            schedule = _("Off: connections are synchronized only when a user clicks")
        else:
            schedule = _("Every %(number)s %(unit)s", number=cron.interval_number,
                         unit=self._online_sync_interval_unit(cron.interval_type))
        self.online_sync_schedule = schedule

    def _online_sync_interval_unit(self, interval_type):
        """A unit of the scheduled action as it reads within a sentence ("Every 12 hours"), in every language."""
        return {
            "minutes": _("minutes"), "hours": _("hours"), "days": _("days"), "weeks": _("weeks"), "months": _("months"),
        }[interval_type]

    def action_open_online_sync_schedule(self):
        """The scheduled action of the synchronization, to change how often it runs."""
        cron = self.env.ref("account_online_synchronization.ir_cron_fetch_online_transactions")
        return {
            "type": "ir.actions.act_window", "res_model": "ir.cron", "res_id": cron.id,
            "view_mode": "form", "views": [(False, "form")], "target": "current",
        }
