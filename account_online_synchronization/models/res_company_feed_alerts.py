from odoo import fields, models


class ResCompany(models.Model):
    """When the accounting managers are warned about the company's bank feeds."""

    _inherit = "res.company"

    online_sync_consent_reminder_days = fields.Integer(
        string="Consent Reminder (days)", default=14,
        help="The accounting managers are reminded to renew a bank consent this many days before it ends, "
             "and again 3 days before.",
    )
    online_sync_failure_alarm_runs = fields.Integer(
        string="Failure Alarm (runs)", default=3,
        help="The accounting managers get an e-mail when this many scheduled synchronizations of a bank "
             "connection fail in a row.",
    )

    _sql_constraints = [
        ("online_sync_consent_reminder_days_positive", "CHECK(online_sync_consent_reminder_days >= 0)",
         "The consent reminder cannot be a negative number of days."),
        ("online_sync_failure_alarm_runs_positive", "CHECK(online_sync_failure_alarm_runs >= 1)",
         "The failure alarm needs at least one failed run."),
    ]
