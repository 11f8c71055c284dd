import phonenumbers

from odoo import _, fields, models
from odoo.exceptions import UserError


class ResCompany(models.Model):
    _inherit = "res.company"

    online_sync_phone = fields.Char(
        string="Bank Synchronization Phone",
        groups="account.group_account_manager",
        help="Phone number that secures this company's bank connections (E.164).",
    )

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
