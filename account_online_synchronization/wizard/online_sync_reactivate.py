import hashlib
import secrets
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..models.online_sync_event import MAX_REACTIVATION_FAILURES

#: How long the code sent by SMS stays valid.
CODE_VALIDITY = timedelta(minutes=10)


def _digest(code):
    return hashlib.sha256(code.encode()).hexdigest()


class OnlineSyncReactivate(models.TransientModel):
    """Lift the block of a company's bank synchronization, proving who you are with its phone number.

    The accounting administrator types the company's registered phone number;
    when Odoo's SMS module is installed, a code is sent to that number and
    must be typed back as well.
    """

    _name = "online.sync.reactivate"
    _description = "Reactivate Bank Synchronization"

    company_id = fields.Many2one("res.company", required=True, readonly=True, default=lambda self: self.env.company)
    block_reason = fields.Char(related="company_id.online_sync_block_reason")
    phone = fields.Char(string="Registered Phone Number")
    sms_available = fields.Boolean(compute="_compute_sms_available")
    code_sent = fields.Boolean(readonly=True)
    code = fields.Char(string="Code Received by SMS")
    code_digest = fields.Char(groups="base.group_system")
    code_expiry = fields.Datetime(groups="base.group_system")

    def _compute_sms_available(self):
        available = "sms.sms" in self.env
        for wizard in self:
            wizard.sms_available = available

    @api.model
    def _open_for(self, company):
        """The reactivation dialog for ``company``."""
        return self.create({"company_id": company.id})._reopen()

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": _("Reactivate Bank Synchronization"),
        }

    def _check_allowed(self):
        self.env["online.link"]._check_manager()
        company = self.company_id
        if not company.online_sync_blocked:
            raise UserError(_("Bank synchronization of %(company)s is not blocked.", company=company.name))
        failures = self.env["online.sync.event"]._count_recent(company, "reactivation_refused", timedelta(hours=1))
        if failures >= MAX_REACTIVATION_FAILURES:
            raise UserError(_("Too many failed attempts: try again in an hour."))

    def _refuse(self, message):
        """Log a failed attempt and tell the user; the log survives the refusal."""
        self.env["online.sync.event"]._record(self.company_id, "reactivation_refused", detail=message)
        self.env["online.link"]._commit()
        raise UserError(message)

    def action_confirm_phone(self):
        """Check the phone number; send the SMS code when SMS is available, otherwise reactivate."""
        self.ensure_one()
        self._check_allowed()
        company = self.company_id
        registered = company.sudo().online_sync_phone
        try:
            typed = company._online_sync_normalize_phone(self.phone)
        except UserError as error:
            return self._refuse(error.args[0])
        if typed != registered:
            return self._refuse(_("This is not the phone number registered for %(company)s.", company=company.name))
        if not self.sms_available:
            company._online_sync_reactivate(_("confirming the registered phone number"))
            return {"type": "ir.actions.act_window_close"}
        self._send_code(registered)
        return self._reopen()

    def _send_code(self, number):
        code = f"{secrets.randbelow(10**6):06d}"
        self.sudo().write({
            "code_sent": True,
            "code_digest": _digest(code),
            "code_expiry": fields.Datetime.now() + CODE_VALIDITY,
        })
        # Queued for Odoo's SMS queue, which sends it within a minute through the company's SMS account.
        self.env["sms.sms"].sudo().create({
            "number": number,
            "body": _("Your bank synchronization reactivation code for %(company)s: %(code)s",
                      company=self.company_id.name, code=code),
        })
        self.env.ref("sms.ir_cron_sms_scheduler_action").sudo()._trigger()
        self.env["online.sync.event"]._record(self.company_id, "code_sent")

    def action_confirm_code(self):
        """Check the code sent by SMS and reactivate."""
        self.ensure_one()
        self._check_allowed()
        wizard = self.sudo()
        if not wizard.code_sent:
            raise UserError(_("Confirm the phone number first."))
        if wizard.code_expiry < fields.Datetime.now():
            return self._refuse(_("The code has expired: confirm the phone number again to receive a new one."))
        if not self.code or not secrets.compare_digest(_digest(self.code.strip()), wizard.code_digest):
            return self._refuse(_("This code is not the one sent by SMS."))
        self.company_id._online_sync_reactivate(_("confirming the registered phone number and the code sent to it by SMS"))
        return {"type": "ir.actions.act_window_close"}
