from markupsafe import Markup

from odoo import Command, _, models


class OnlineLink(models.Model):
    """Who is told when a bank connection needs attention, and how."""

    _inherit = "online.link"

    def _mail_managers(self, subject, paragraphs):
        """Queue an e-mail to the accounting managers: ``paragraphs`` then a link to the connection."""
        self.ensure_one()
        partners = self._company_managers().partner_id.filtered("email")
        if not partners:
            return
        url = f"{self.get_base_url()}/odoo/action-account_online_synchronization.action_online_link/{self.id}"
        body = Markup("").join(Markup("<p>%s</p>") % paragraph for paragraph in paragraphs)
        body += Markup('<p><a href="%s">%s</a></p>') % (url, _("Open the connection"))
        self.env["mail.mail"].sudo().create({
            "subject": subject,
            "body_html": body,
            "email_from": self.company_id.email_formatted or self.env.user.email_formatted,
            "recipient_ids": [Command.set(partners.ids)],
            "model": self._name,
            "res_id": self.id,
            "auto_delete": False,
        })
