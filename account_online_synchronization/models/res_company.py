import logging

import phonenumbers
from markupsafe import Markup

from odoo import _, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)


class ResCompany(models.Model):
    _inherit = "res.company"

    online_sync_phone = fields.Char(
        string="Bank Synchronization Phone",
        groups="account.group_account_manager",
        help="Phone number that secures this company's bank connections (E.164).",
    )
    online_sync_blocked = fields.Boolean(
        string="Bank Synchronization Blocked", readonly=True,
        help="Suspicious activity was detected: nothing is fetched from the banks until an accounting "
             "administrator reactivates the synchronization by confirming the company's phone number.",
    )
    online_sync_block_reason = fields.Char(string="Blocked Because", readonly=True)

    def _online_sync_normalize_phone(self, number):
        """Return ``number`` in E.164, or raise a clear error when it is not a valid phone number."""
        self.ensure_one()
        region = self.country_id.code or None
        try:
            parsed = phonenumbers.parse(number or "", region)
        except phonenumbers.NumberParseException:
            parsed = None
        if not parsed or not phonenumbers.is_valid_number(parsed):
            raise UserError(_(
                "%(number)s is not a valid phone number. Enter it with its country code, e.g. +32 470 12 34 56.",
                number=number or _("An empty value"),
            ))
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)

    def _online_sync_check_not_blocked(self):
        """Refuse any bank access for a company whose synchronization is blocked."""
        blocked = self.sudo().filtered("online_sync_blocked")
        if blocked:
            raise UserError(_(
                "Bank synchronization of %(company)s is blocked because %(reason)s. An accounting administrator "
                "must reactivate it with the company's registered phone number: open a connection and click "
                "Reactivate.",
                company=blocked[0].name, reason=blocked[0].online_sync_block_reason,
            ))

    def _online_sync_block(self, reason):
        """Block every bank connection of the company and explain why in each connection's chatter."""
        self.ensure_one()
        self.sudo().write({"online_sync_blocked": True, "online_sync_block_reason": reason})
        _logger.warning("Bank synchronization of company %s blocked: %s", self.id, reason)
        self.env["online.sync.event"]._record(self, "block", detail=reason)
        body = Markup("<p><b>%s</b></p><p>%s</p>") % (
            _("Bank synchronization of %(company)s is blocked: %(reason)s.", company=self.name, reason=reason),
            _("Nothing is fetched from the banks until an accounting administrator reactivates it by clicking "
              "Reactivate and confirming the company's registered phone number. If you did not cause this "
              "activity, check who has access to the database first."),
        )
        for link in self._online_sync_active_links():
            link.message_post(body=body)

    def _online_sync_reactivate(self, detail):
        """Lift the block; ``detail`` says how the administrator proved who they are."""
        self.ensure_one()
        self.sudo().write({"online_sync_blocked": False, "online_sync_block_reason": False})
        _logger.warning("Bank synchronization of company %s reactivated by user %s (%s)", self.id, self.env.uid, detail)
        self.env["online.sync.event"]._record(self, "reactivation", detail=detail)
        for link in self._online_sync_active_links():
            link.message_post(body=_(
                "Bank synchronization reactivated by %(user)s after %(proof)s.", user=self.env.user.name, proof=detail,
            ))

    def _online_sync_active_links(self):
        return self.env["online.link"].sudo().search([
            ("company_id", "=", self.id), ("state", "!=", "disconnected"),
        ])
