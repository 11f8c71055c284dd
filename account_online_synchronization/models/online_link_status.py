"""What a connection's state means for the user looking at it, and who is asked to act on it."""
from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.addons.base.models.ir_cron import _intervalTypes
from odoo.tools.misc import format_date, format_datetime

from .online_link import MIN_REFRESH_INTERVAL

MANAGER_GROUP = "account.group_account_manager"
ACTIVITY_TYPE = "account_online_synchronization.mail_activity_type_online_link_admin"
#: The scheduled action retrying the connections.
FETCH_CRON = "account_online_synchronization.ir_cron_fetch_online_transactions"


class OnlineLink(models.Model):
    _inherit = ["online.link", "mail.activity.mixin"]
    _name = "online.link"

    error_needs_manager = fields.Boolean(
        string="Needs an Administrator", readonly=True, copy=False,
        help="Only an accounting administrator can fix the last failure (Reconnect, Update Credentials, settings).",
    )
    retry_time = fields.Datetime(compute="_compute_retry_time", string="Will Retry At")
    consent_expired = fields.Boolean(compute="_compute_consent_status")
    consent_status = fields.Char(compute="_compute_consent_status", string="Consent")
    next_action = fields.Selection(
        [("link_accounts", "Link Accounts"), ("reconnect", "Reconnect"),
         ("update_credentials", "Update Credentials"), ("fetch_transactions", "Fetch Transactions")],
        compute="_compute_next_action",
        help="What the user is expected to do next: the one button the connection's form highlights.",
    )
    status_message = fields.Char(
        compute="_compute_status_message", string="Status Details",
        help="What the connection's problem is and who can fix it, for the user reading it.",
    )

    @api.depends("state", "next_allowed_refresh", "last_attempt", "next_refresh")
    def _compute_retry_time(self):
        """The scheduled run that will try again: the first one after the bank's delay and the minimum interval."""
        cron = self.env.ref(FETCH_CRON, raise_if_not_found=False)
        cron = cron and cron.sudo()
        for link in self:
            retry_time = False
            if link.state == "retrying" and link.next_refresh and cron:
                earliest = max(filter(None, (link.next_allowed_refresh, link.last_attempt and
                                             link.last_attempt + MIN_REFRESH_INTERVAL, fields.Datetime.now())))
                retry_time = link.next_refresh
                interval = _intervalTypes[cron.interval_type](cron.interval_number)
                while retry_time < earliest:
                    retry_time += interval
            link.retry_time = retry_time

    @api.depends("consent_expiry", "error_code")
    def _compute_consent_status(self):
        now = fields.Datetime.now()
        for link in self:
            ended = bool(link.consent_expiry and link.consent_expiry <= now)
            link.consent_expired = ended or link.error_code == "reauth_required"
            if ended:
                link.consent_status = _("Expired on %(date)s", date=format_date(self.env, link.consent_expiry))
            else:
                link.consent_status = link.consent_expired and _("Expired: the bank asks to reconnect")

    @api.depends("state", "accounts_linked", "consent_expired", "error_code", "error_needs_manager")
    def _compute_next_action(self):
        for link in self:
            if link.state == "disconnected":
                link.next_action = False
            elif not link.accounts_linked:
                link.next_action = "link_accounts"
            elif link.consent_expired:
                link.next_action = "reconnect"
            elif link.error_code == "mfa_required" and link.error_needs_manager:
                link.next_action = "update_credentials"
            else:
                link.next_action = "fetch_transactions"

    @api.depends("state", "error_code", "error_needs_manager", "retry_time")
    @api.depends_context("uid")
    def _compute_status_message(self):
        is_manager = self.env.user.has_group(MANAGER_GROUP)
        for link in self:
            link.status_message = link._status_text(is_manager)

    def _status_text(self, is_manager):
        """One line telling the user what is wrong and what he, or whom he asks, does about it."""
        if self.state == "retrying":
            problem = (_("The bank limits its refreshes") if self.error_code == "rate_limited"
                       else _("The bank is temporarily unavailable"))
            if self.retry_time:
                time = format_datetime(self.env, self.retry_time, dt_format="HH:mm")
                in_user_tz = self.with_context(tz=self.env.user.tz)
                retry_day = fields.Datetime.context_timestamp(in_user_tz, self.retry_time).date()
                if retry_day == fields.Date.context_today(in_user_tz):
                    return _("%(problem)s: will retry at %(time)s", problem=problem, time=time)
                return _("%(problem)s: will retry on %(day)s at %(time)s", problem=problem, time=time,
                         day=format_date(self.env, retry_day))
            return _("%(problem)s: click Synchronize Now later", problem=problem)
        if self.state not in ("action_required", "error"):
            return False
        if self.error_needs_manager:
            action = {
                "reauth_required": (_("Consent ended: click Reconnect on the connection"),
                                    _("Consent ended: ask %(who)s to reconnect the bank")),
                "mfa_required": (_("Security code needed: click Update Credentials on the connection"),
                                 _("Security code needed: ask %(who)s to update the credentials")),
            }.get(self.error_code, (_("Connector settings refused: check the Aggregator Settings"),
                                    _("Connector settings refused: ask %(who)s to check them")))
            return action[0] if is_manager else action[1] % {"who": self._administrators_text()}
        if self.error_code == "mfa_required":
            return _("The bank asks for a security code: click Synchronize Now")
        return _("Synchronization error")

    @api.model
    def _needs_manager(self, error):
        """Whether only an accounting administrator can fix ``error``: a button or setting others do not have."""
        return error.code in ("reauth_required", "invalid_configuration") or bool(
            getattr(error, "update_credentials", False))

    def _company_managers(self):
        """The active internal users who administer the accounting of the connection's company."""
        self.ensure_one()
        return self.env["res.users"].sudo().search([
            ("groups_id", "in", self.env.ref(MANAGER_GROUP).id),
            ("company_ids", "in", self.company_id.id),
            ("share", "=", False),
        ], order="name").with_env(self.env)

    def _administrators_text(self):
        """"an accounting administrator (names)": whom to ask for what only they can do."""
        names = ", ".join(self._company_managers().mapped("name"))
        if not names:
            return _("an accounting administrator")
        return _("an accounting administrator (%(names)s)", names=names)

    def _schedule_manager_activities(self, message, advice, reference):
        """Give each administrator of the company one activity for a new failure only they can fix."""
        self.ensure_one()
        link = self.sudo()
        link.activity_unlink([ACTIVITY_TYPE])
        if not self.error_needs_manager:
            return
        summary = _("%(bank)s: %(problem)s", bank=self.name, problem=message)[:200]
        # Escaped: names and texts are shown as written, never as markup.
        note = Markup("<p>%s</p>") % _("%(advice)s Reference: %(reference)s", advice=advice, reference=reference)
        for user in self._company_managers():
            link.activity_schedule(ACTIVITY_TYPE, summary=summary, note=note, user_id=user.id)

    def _clear_error(self):
        self.filtered("error_needs_manager").sudo().activity_unlink([ACTIVITY_TYPE])
        return super()._clear_error()

    def write(self, vals):
        result = super().write(vals)
        if "sandbox_scenario" in vals:
            self._sandbox_scenario_set()
        return result

    def _sandbox_scenario_set(self):
        """Let the scheduled synchronization meet the scenario just set, at once, as the user who set it expects."""
        sandbox = self.filtered(lambda link: link.provider == "sandbox")
        if sandbox:
            sandbox.sudo().write({"last_attempt": False, "next_allowed_refresh": False})
            self.env.ref(FETCH_CRON).sudo()._trigger()
