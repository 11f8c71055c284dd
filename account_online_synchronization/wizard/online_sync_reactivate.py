import hashlib
import logging
import secrets
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..models.online_sync_event import MAX_REACTIVATION_FAILURES
from ..models.online_sync_protected import check_company_allowed

_logger = logging.getLogger(__name__)

#: How long the code sent by SMS stays valid.
CODE_VALIDITY = timedelta(minutes=10)


def _digest(company, code):
    """What is kept of a code: bound to the company and to the number it was sent to (its hash)."""
    bound = f"{company.id}:{company.sudo().online_sync_phone_hash}:{code}"
    return hashlib.sha256(bound.encode()).hexdigest()


class OnlineSyncReactivate(models.TransientModel):
    """Lift the block of a company's bank synchronization, proving who you are with its phone number.

    The accounting administrator types the company's registered phone number;
    when Odoo's SMS module is installed, a code is sent to that number and
    must be typed back as well.
    """

    _name = "online.sync.reactivate"
    _inherit = ["online.sync.protected", "online.sync.dialog"]
    _description = "Reactivate Bank Synchronization"
    # The company is fixed at creation (one of the user's); the code's state is the wizard's own.
    _user_creatable = {"account.group_account_manager": {"company_id", "phone"}}
    _user_writable = {"account.group_account_manager": {"phone", "code"}}

    company_id = fields.Many2one("res.company", required=True, readonly=True, default=lambda self: self.env.company)
    block_reason = fields.Char(related="company_id.online_sync_block_reason", compute_sudo=False)
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
        """The reactivation dialog for ``company``, one of the companies the user selected."""
        check_company_allowed(self.env, company.ids)
        return self.create({"company_id": company.id})._reopen()

    def _check_allowed(self):
        """Refuse the attempt unless it may be checked; hold the company's row until the transaction ends.

        The lock serializes the attempts on a company: a refused attempt updates the row, so an
        attempt that waited for it fails to serialize and is retried with the new count.
        """
        self.env["online.link"]._check_manager()
        company = self.company_id
        check_company_allowed(self.env, company.ids)
        self.env.cr.execute(SQL("SELECT id FROM res_company WHERE id = %s FOR NO KEY UPDATE", company.id))
        if not company.online_sync_blocked:
            raise UserError(_("Bank synchronization of %(company)s is not blocked.", company=company.name))
        failures = self.env["online.sync.event"]._count_recent(company, "reactivation_refused", timedelta(hours=1))
        if failures >= MAX_REACTIVATION_FAILURES:
            raise UserError(_("Too many failed attempts: try again in an hour."))

    def _refuse(self, message):
        """Log a failed attempt and tell the user; the log survives the refusal."""
        self.env["online.sync.event"]._record(self.company_id, "reactivation_refused", detail=message)
        self.company_id.sudo().online_sync_refused_at = fields.Datetime.now()
        self.env["online.link"]._commit()
        raise UserError(message)

    def action_confirm_phone(self):
        """Check the phone number; send the SMS code when SMS is available, otherwise reactivate."""
        self.ensure_one()
        self._check_allowed()
        company = self.company_id
        try:
            typed = company._online_sync_normalize_phone(self.phone)
        except UserError as error:
            return self._refuse(error.args[0])
        if not company._online_sync_phone_matches(typed):
            return self._refuse(_("This is not the phone number registered for %(company)s.", company=company.name))
        if not self.sms_available:
            company._online_sync_reactivate(_("confirming the registered phone number"))
            return {"type": "ir.actions.act_window_close"}
        self._send_code(typed)
        return self._reopen()

    def _send_code(self, number):
        """Send a new code to ``number`` (the registered one) by SMS; only its digest is kept."""
        code = f"{secrets.randbelow(10**6):06d}"
        self.sudo().write({
            "code_sent": True,
            "code_digest": _digest(self.company_id, code),
            "code_expiry": fields.Datetime.now() + CODE_VALIDITY,
            "phone": False,
        })
        sms = self.env["sms.sms"].sudo().create({
            "number": number,
            "body": _("Your bank synchronization reactivation code for %(company)s: %(code)s",
                      company=self.company_id.name, code=code),
        })
        # Sent now rather than queued, and forgotten whatever the outcome: the code never stays readable.
        sms.send(unlink_failed=True, unlink_sent=True, raise_exception=False)
        failed = sms.exists().filtered(lambda record: record.state == "error")
        sms.exists().unlink()
        if failed:
            _logger.warning("The bank synchronization reactivation code of company %s could not be sent by SMS",
                            self.company_id.id)
            raise UserError(_(
                "The code could not be sent by SMS: check the SMS credits of the database, then try again.",
            ))
        self.env["online.sync.event"]._record(self.company_id, "code_sent")

    def action_confirm_code(self):
        """Check the code sent by SMS and reactivate."""
        self.ensure_one()
        self._check_allowed()
        wizard = self.sudo()
        if not (wizard.code_sent and wizard.code_digest and wizard.code_expiry):
            raise UserError(_("Confirm the phone number first: the code is sent to it."))
        if wizard.code_expiry < fields.Datetime.now():
            return self._refuse(_("The code has expired: confirm the phone number again to receive a new one."))
        code = (self.code or "").strip()
        if not code or not secrets.compare_digest(_digest(self.company_id, code), wizard.code_digest):
            return self._refuse(_("This code is not the one sent by SMS."))
        self.company_id._online_sync_reactivate(_("confirming the registered phone number and the code sent to it by SMS"))
        return {"type": "ir.actions.act_window_close"}
