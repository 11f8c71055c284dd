import hashlib
import logging
import secrets
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import clean_context

from ..providers import ProviderError
from .online_sync_protected import check_company_allowed

_logger = logging.getLogger(__name__)

#: How long a user has to give consent at the aggregator.
CONSENT_VALIDITY = timedelta(hours=1)
CALLBACK_PATH = "/online_sync/callback"


class ConsentFailed(UserError):
    """The aggregator did not complete a consent: the user cancelled, the bank refused, or the application
    was refused (``credentials_rejected``, the only case that is a security event)."""

    def __init__(self, message, credentials_rejected=False):
        super().__init__(message)
        self.credentials_rejected = credentials_rejected


def hash_state_token(state_token):
    """What is stored of a state token: its SHA-256, in hex (the token itself only travels in URLs)."""
    return hashlib.sha256(state_token.encode()).hexdigest()


class OnlineLinkConsent(models.Model):
    """A consent being given at an aggregator's page, awaiting its callback.

    The ``state`` sent to the aggregator is a random token bound to the user
    who started the consent; the callback is refused for anyone else, after
    expiry, or a second time. Only its hash is stored.
    """

    _name = "online.link.consent"
    _inherit = ["online.sync.secret"]
    _description = "Bank Consent in Progress"
    _check_company_auto = True
    _secret_fields = {"pending_encrypted": "pending"}

    state_token_hash = fields.Char(required=True, index=True, groups="base.group_system")
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True, ondelete="cascade")
    provider = fields.Char(required=True)
    mode = fields.Selection([("new", "New"), ("update", "Update"), ("renew", "Renew")], required=True)
    institution_id = fields.Many2one("online.institution", ondelete="set null")
    link_id = fields.Many2one("online.link", ondelete="cascade", check_company=True)
    #: The bank journal the new connection is for (Connect on its dashboard card or form), kept across the
    #: aggregator's page: it gets the connection's account in its currency when the user comes back.
    journal_id = fields.Many2one("account.journal", ondelete="cascade", check_company=True)
    first_sync_date = fields.Date(help="The date the journal's transactions are imported from.")
    #: What the provider keeps between the start of the consent and its callback (PKCE verifier, tokens...).
    pending_encrypted = fields.Text(groups="base.group_system", copy=False, exportable=False)
    done = fields.Boolean()

    @api.autovacuum
    def _gc_expired_consents(self):
        """Forget consents that were completed or abandoned."""
        self.sudo().search([("create_date", "<", fields.Datetime.now() - CONSENT_VALIDITY)]).unlink()

    @api.model
    def _begin(self, provider_code, company, institution=None, link=None, mode="new", journal=None,
               first_sync_date=None):
        """Start a consent; return it and where to send the user.

        That is the URL of the aggregator's page, the client action opening its
        widget in the web client, or None when the consent is done at once.
        ``journal`` is the bank journal a new connection is for, to synchronize
        from ``first_sync_date``: kept with the consent when the user leaves
        Odoo for the aggregator's page or widget.
        """
        link_model = self.env["online.link"]
        link_model._check_manager()
        check_company_allowed(self.env, company.ids)
        if link:
            link.check_access("write")
        if journal:
            journal._online_sync_check_connectable(company)
        company._online_sync_check_not_blocked()
        state_token = secrets.token_urlsafe(32)
        # Defaults meant for the dialog the user clicked in (its journal...) are not the consent's.
        consent = self.sudo().with_context(clean_context(self.env.context)).create({
            "state_token_hash": hash_state_token(state_token),
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
            message = self._scrub(error.message, tokens, (link or link_model)._known_secrets(provider))
            raise UserError(_("The connection failed: %(error)s", error=message)) from None
        consent.pending_encrypted = self._encrypt(start.pending) if start.pending else False
        if journal and (start.redirect_url or start.widget_token):
            consent.write({"journal_id": journal.id, "first_sync_date": first_sync_date})
        if link and start.pending:
            # Some aggregators rotate the connection's tokens when a renewal starts: keep them at once.
            link._set_tokens(dict(tokens or {}, **start.pending))
        if start.widget_token:
            return consent.sudo(False), consent._widget_action(start, state_token)
        return consent.sudo(False), start.redirect_url

    def _widget_action(self, start, state_token):
        """The client action opening the aggregator's consent widget (Plaid Link) in the web client."""
        return {
            "type": "ir.actions.client",
            "tag": f"account_online_synchronization.{self.provider}_link",
            "name": _("Add a Bank Account"),
            "params": {"token": start.widget_token, "script_url": start.widget_url, "state": state_token},
        }

    @api.model
    def _from_callback(self, state_token):
        """The consent waiting for ``state_token`` for the current user; raise when there is none.

        Only users who may connect banks get this far: their refused callbacks are counted (per
        user) towards blocking the company, those of anyone else are simply refused.
        """
        self.env["online.link"]._check_manager()
        consent = self.sudo().search([
            ("state_token_hash", "=", hash_state_token(state_token or "-")), ("done", "=", False),
        ], limit=1)
        valid = (
            consent
            and consent.user_id == self.env.user
            and consent.company_id in self.env.user.company_ids
            and consent.create_date + CONSENT_VALIDITY > fields.Datetime.now()
        )
        if not valid:
            _logger.warning("Refused a bank consent callback for user %s: unknown, expired or foreign state",
                            self.env.uid)
            company = consent.company_id & self.env.user.company_ids or self.env.company
            self.env["online.sync.event"]._record(company, "callback_refused")
            raise UserError(_("This bank connection request is not valid any more. Start again from Odoo."))
        consent.company_id._online_sync_check_not_blocked()
        # The callback acts in the consent's company, which is one of the user's.
        return consent.sudo(False).with_company(consent.company_id)

    def _finish(self, params):
        """Complete the consent with the aggregator's callback ``params``; return the connection."""
        self.ensure_one()
        consent = self.sudo()
        if consent.user_id != self.env.user and not self.env.su:
            raise UserError(_("This bank connection request was started by another user."))
        check_company_allowed(self.env, consent.company_id.ids)
        consent.done = True
        link_model = self.env["online.link"]
        link = consent.link_id
        provider = link._get_provider() if link else link_model._provider_for(consent.provider, consent.company_id)
        tokens = dict(link._get_tokens() if link else {}, **(self._decrypt(consent.pending_encrypted) or {}))
        identifier = link.institution_identifier if link else consent.institution_id.identifier
        try:
            tokens = provider.complete_connection(identifier, params, tokens=tokens)
        except ProviderError as error:
            message = self._scrub(error.message, tokens, (link or link_model)._known_secrets(provider))
            raise ConsentFailed(_("The connection failed: %(error)s", error=message),
                                credentials_rejected=error.credentials_rejected) from None
        if link:
            link._set_tokens(tokens)
            link._consent_renewed(consent.mode)
            return link.with_env(self.env)
        link = link_model._create_from_consent(consent, tokens)
        if consent.journal_id:
            link._link_chosen_journal(consent.journal_id.with_env(self.env), consent.first_sync_date)
        return link
