from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    online_sync_consent_reminder_days = fields.Integer(
        related="company_id.online_sync_consent_reminder_days", readonly=False,
    )
    online_sync_failure_alarm_runs = fields.Integer(related="company_id.online_sync_failure_alarm_runs", readonly=False)
