from odoo import fields, models


class AccountJournal(models.Model):
    """The consent end and refresh limit of the journal's connection, for its dashboard card."""

    _inherit = "account.journal"

    online_consent_ending_soon = fields.Boolean(related="online_link_id.consent_ending_soon")
    online_consent_ending_message = fields.Char(related="online_link_id.consent_ending_message")
    online_next_allowed_refresh_text = fields.Char(related="online_link_id.next_allowed_refresh_text")

    def action_reconnect_online_link(self):
        """Renew the consent of the journal's connection (Reconnect on the dashboard card)."""
        self.ensure_one()
        return self.online_link_id.action_reconnect()
