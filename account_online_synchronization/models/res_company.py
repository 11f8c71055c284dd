import hashlib
import hmac
import logging
import secrets

import phonenumbers
from markupsafe import Markup

from odoo import _, fields, models
from odoo.exceptions import UserError


_logger = logging.getLogger(__name__)

#: PBKDF2 rounds of the registered phone number's hash: phone numbers are few enough to be guessed.
PHONE_HASH_ROUNDS = 200_000
#: Set by the synchronization itself (blocks) or through its dialogs (phone number), never directly.
GUARDED_FIELDS = {
    "online_sync_phone_hash", "online_sync_phone_hint", "online_sync_blocked", "online_sync_block_reason",
    "online_sync_refused_at",
}


def hash_phone(number, salt=None, rounds=PHONE_HASH_ROUNDS):
    """The stored form of an E.164 ``number``: ``pbkdf2_sha256$rounds$salt$digest``."""
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", number.encode(), bytes.fromhex(salt), rounds).hex()
    return f"pbkdf2_sha256${rounds}${salt}${digest}"


def phone_hint(number):
    """What is shown of a registered number: its last two digits."""
    return f"\N{HORIZONTAL ELLIPSIS}{number[-2:]}"


class ResCompany(models.Model):
    _name = "res.company"
    _inherit = ["res.company", "online.sync.guarded"]
    _online_guarded_fields = GUARDED_FIELDS

    # Only a hash of the number is kept: who reactivates must know it, not read it.
    online_sync_phone_hash = fields.Char(groups="base.group_system", copy=False)
    online_sync_phone_hint = fields.Char(
        string="Bank Synchronization Phone", readonly=True, copy=False,
        groups="account.group_account_manager",
        help="Last digits of the phone number that secures this company's bank connections.",
    )
    online_sync_refused_at = fields.Datetime(
        readonly=True, copy=False, groups="base.group_system",
        help="Last refused reactivation attempt.",
    )
    online_sync_blocked = fields.Boolean(
        string="Bank Synchronization Blocked", readonly=True,
        help="Suspicious activity was detected: nothing is fetched from the banks until an accounting "
             "administrator reactivates the synchronization by confirming the company's phone number.",
    )
    online_sync_block_reason = fields.Char(string="Blocked Because", readonly=True)

    def _online_sync_set_phone(self, number):
        """Register ``number`` (any format, checked) as the phone number securing the bank connections."""
        self.ensure_one()
        number = self._online_sync_normalize_phone(number)
        self.sudo().write({"online_sync_phone_hash": hash_phone(number), "online_sync_phone_hint": phone_hint(number)})

    def _online_sync_has_phone(self):
        self.ensure_one()
        return bool(self.sudo().online_sync_phone_hash)

    def _online_sync_phone_matches(self, number):
        """True when the E.164 ``number`` is the registered one."""
        self.ensure_one()
        stored = self.sudo().online_sync_phone_hash
        if not stored:
            return False
        _algorithm, rounds, salt, _digest = stored.split("$")
        return hmac.compare_digest(hash_phone(number, salt, int(rounds)), stored)

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

    def setting_init_bank_account_action(self):
        """Add a Bank Account (Configuration menu, setup steps, a journal's Bank Setup): connect a bank online.

        Odoo's manual setup (an account number, statements imported from files)
        stays one click away in the dialog: Set Up Manually.
        """
        if self.env.context.get("online_sync_manual_setup"):
            return super().setting_init_bank_account_action()
        journal = self.env["account.journal"].browse(self.env.context.get("default_linked_journal_id"))
        return self.env["online.link.connect"]._action_open(journal.exists())
