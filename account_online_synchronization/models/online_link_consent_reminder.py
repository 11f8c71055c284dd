"""Reminders to renew a bank consent before it ends."""
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools.misc import format_date

#: Days before the end of a consent of the last reminder.
LAST_REMINDER_DAYS = 3
ACTIVITY_TYPE = "account_online_synchronization.mail_activity_type_consent_renewal"


class OnlineLink(models.Model):
    _name = "online.link"
    _inherit = ["online.link", "mail.activity.mixin"]

    sandbox_scenario = fields.Selection(
        selection_add=[("consent_ending", "Consent ends in 10 days")], ondelete={"consent_ending": "set default"},
    )
    consent_reminder = fields.Selection(
        [("first", "First reminder"), ("last", "Last reminder")], readonly=True, copy=False,
        help="The last reminder sent about the current end of the consent.",
    )
    consent_reminder_expiry = fields.Datetime(
        readonly=True, copy=False, help="The end of the consent the reminders were sent about.",
    )
    consent_ending_soon = fields.Boolean(
        compute="_compute_consent_ending_soon",
        help="The consent ends within the company's reminder delay: click Reconnect to renew it.",
    )
    consent_ending_message = fields.Char(compute="_compute_consent_ending_soon")

    @api.depends("consent_expiry", "state", "company_id.online_sync_consent_reminder_days")
    def _compute_consent_ending_soon(self):
        now = fields.Datetime.now()
        for link in self:
            link.consent_ending_soon = link._consent_reminder_due(now) is not None
            link.consent_ending_message = link.consent_ending_soon and _(
                "Bank consent ends on %(date)s", date=format_date(self.env, link.consent_expiry.date()),
            )

    def _consent_reminder_due(self, now):
        """The reminder due now for the consent (``first`` or ``last``), or None."""
        if not self.consent_expiry or self.state == "disconnected" or self.consent_expiry <= now:
            return None
        days_left = (self.consent_expiry.date() - now.date()).days
        if days_left <= LAST_REMINDER_DAYS:
            return "last"
        if days_left <= self.company_id.online_sync_consent_reminder_days:
            return "first"
        return None

    @api.model
    def _cron_remind_consent_end(self):
        """Remind the accounting managers of the consents ending soon: once at N days, once at 3 days."""
        now = fields.Datetime.now()
        longest = max(self.env["res.company"].sudo().search([]).mapped("online_sync_consent_reminder_days") +
                      [LAST_REMINDER_DAYS])
        links = self.sudo().search([
            ("state", "!=", "disconnected"),
            ("consent_expiry", ">", now),
            ("consent_expiry", "<=", now + timedelta(days=longest + 1)),
        ])
        for link in links:
            due = link._consent_reminder_due(now)
            sent = link.consent_reminder if link.consent_reminder_expiry == link.consent_expiry else False
            if due and due != sent and sent != "last":
                link._remind_consent_end(due, now)

    def _remind_consent_end(self, level, now):
        """Give each accounting manager an activity on the connection and an e-mail."""
        self.ensure_one()
        end = format_date(self.env, self.consent_expiry.date())
        days = (self.consent_expiry.date() - now.date()).days
        summary = _("Renew the bank consent of %(bank)s", bank=self.name)
        note = _(
            "The consent given to %(bank)s ends on %(date)s. Open the connection and click Reconnect before "
            "then: the connection, its accounts, journals and imported lines are kept.", bank=self.name, date=end,
        )
        # The e-mail below tells it: no second e-mail about the assignment.
        self = self.with_context(mail_activity_quick_update=True)
        open_activities = self.activity_ids.filtered(lambda activity: activity.activity_type_id == self.env.ref(
            ACTIVITY_TYPE))
        for user in self._company_managers():
            activity = open_activities.filtered(lambda activity: activity.user_id == user)
            if activity:
                activity.write({"date_deadline": self.consent_expiry.date(), "note": note})
            else:
                self.activity_schedule(ACTIVITY_TYPE, date_deadline=self.consent_expiry.date(), summary=summary,
                                       note=note, user_id=user.id)
        self._mail_managers(
            _("Bank consent of %(bank)s ends on %(date)s", bank=self.name, date=end),
            [
                _("The consent that lets Odoo read the transactions of %(bank)s ends on %(date)s, in %(days)s days.",
                  bank=self.name, date=end, days=days),
                _("After that date no transaction is imported until the consent is renewed. Open the connection "
                  "and click Reconnect: you confirm the consent at your bank, and the connection, its accounts, "
                  "journals and imported lines stay as they are."),
            ],
        )
        self.write({"consent_reminder": level, "consent_reminder_expiry": self.consent_expiry})

    def _consent_renewed(self, mode):
        """A renewed consent closes the reminders about the end of the previous one."""
        if self.provider == "sandbox" and self.sandbox_scenario == "consent_ending":
            self.sandbox_scenario = "normal"  # before the renewal reads the accounts with it
        super()._consent_renewed(mode)
        if self.consent_reminder_expiry and self.consent_expiry != self.consent_reminder_expiry:
            reminders = self.sudo().activity_ids.filtered(
                lambda activity: activity.activity_type_id == self.env.ref(ACTIVITY_TYPE))
            reminders.action_feedback(feedback=_("Consent renewed."))
            self.sudo().write({"consent_reminder": False, "consent_reminder_expiry": False})
