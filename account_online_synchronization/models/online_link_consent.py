import logging
import secrets
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..providers import ProviderError

_logger = logging.getLogger(__name__)

#: How long a user has to give consent at the aggregator.
CONSENT_VALIDITY = timedelta(hours=1)
CALLBACK_PATH = "/online_sync/callback"


class OnlineLinkConsent(models.Model):
    """A consent being given at an aggregator's page, awaiting its callback.

    The ``state`` sent to the aggregator is a random token bound to the user
    who started the consent; the callback is refused for anyone else, after
    expiry, or a second time.
    """

    _name = "online.link.consent"
    _description = "Bank Consent in Progress"
    _check_company_auto = True

    state_token = fields.Char(required=True, index=True, groups="base.group_system")
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade")
    provider = fields.Char(required=True)
    mode = fields.Selection([("new", "New"), ("update", "Update"), ("renew", "Renew")], required=True)
    institution_id = fields.Many2one("online.institution", ondelete="set null")
    link_id = fields.Many2one("online.link", ondelete="cascade", check_company=True)
    pending = fields.Json(groups="base.group_system")
    done = fields.Boolean()

    @api.autovacuum
    def _gc_expired_consents(self):
        """Forget consents that were completed or abandoned."""
        self.sudo().search([("create_date", "<", fields.Datetime.now() - CONSENT_VALIDITY)]).unlink()

    @api.model
    def _begin(self, provider_code, company, institution=None, link=None, mode="new"):
        """Start a consent; return it and the URL to send the user to (None when done at once)."""
        link_model = self.env["online.link"]
        link_model._check_manager()
        state_token = secrets.token_urlsafe(32)
        consent = self.sudo().create({
            "state_token": state_token,
            "user_id": self.env.uid,
            "company_id": company.id,
            "provider": provider_code,
            "mode": mode,
            "institution_id": institution and institution.id,
            "link_id": link and link.id,
        })
        provider = link._get_provider() if link else link_model._provider_for(provider_code, company)
        tokens = None
        if link:
            try:
                tokens = link._refresh_tokens(provider)
            except ProviderError:
                # An ended consent may refuse the refresh too: the consent page is what renews it.
                tokens = link._get_tokens()
        institution_identifier = link.institution_identifier if link else institution.identifier
        try:
            start = provider.start_connection(
                institution_identifier, mode=mode, tokens=tokens,
                redirect_url=consent.get_base_url() + CALLBACK_PATH, state=state_token,
            )
        except ProviderError as error:
            raise UserError(_("The connection failed: %(error)s", error=error.message)) from None
        consent.pending = start.pending
        if link and start.pending:
            # Some aggregators rotate the connection's tokens when a renewal starts: keep them at once.
            link._set_tokens(dict(tokens or {}, **start.pending))
        return consent, start.redirect_url

    @api.model
    def _from_callback(self, state_token):
        """The consent waiting for ``state_token`` for the current user; raise when there is none."""
        consent = self.sudo().search([("state_token", "=", state_token or "-"), ("done", "=", False)], limit=1)
        valid = (
            consent
            and consent.user_id == self.env.user
            and consent.company_id in self.env.user.company_ids
            and consent.create_date + CONSENT_VALIDITY > fields.Datetime.now()
        )
        if not valid:
            _logger.warning("Refused a bank consent callback for user %s: unknown, expired or foreign state",
                            self.env.uid)
            raise UserError(_("This bank connection request is not valid any more. Start again from Odoo."))
        return consent.sudo(False)

    def _finish(self, params):
        """Complete the consent with the aggregator's callback ``params``; return the connection."""
        self.ensure_one()
        consent = self.sudo()
        consent.done = True
        link_model = self.env["online.link"]
        link = consent.link_id
        provider = link._get_provider() if link else link_model._provider_for(consent.provider, consent.company_id)
        tokens = dict(link._get_tokens() if link else {}, **(consent.pending or {}))
        identifier = link.institution_identifier if link else consent.institution_id.identifier
        try:
            tokens = provider.complete_connection(identifier, params, tokens=tokens)
        except ProviderError as error:
            raise UserError(_("The connection failed: %(error)s", error=error.message)) from None
        if link:
            link._set_tokens(tokens)
            link._consent_renewed(consent.mode)
            return link
        return link_model._create_from_consent(consent, tokens)
