"""Neutralized copies of a database (``odoo-bin neutralize``, duplicates made neutralized) never reach a bank.

``data/neutralize.sql`` disconnects the copy's connections and clears its tokens and secrets;
should a copy still hold some (restored without them cleared), every aggregator call is refused
here while ``database.is_neutralized`` is set. The built-in sandbox bank keeps working: it has no network.
"""
from odoo import _, api, models
from odoo.exceptions import UserError

from ..providers import ProviderError

#: The connector methods that reach the aggregator.
NETWORK_METHODS = frozenset({
    "search_institutions", "start_connection", "complete_connection", "refresh_tokens",
    "list_accounts", "list_transactions", "revoke",
})


class NeutralizedDatabaseError(ProviderError, UserError):
    """A neutralized copy refused to call an aggregator."""

    code = "neutralized_database"
    link_wide = True
    transient = False


class NeutralizedProvider:
    """Stands for a connector in a neutralized copy: its settings read as usual, every call is refused."""

    def __init__(self, provider, message):
        self._provider = provider
        self._message = message

    def __getattr__(self, name):
        if name in NETWORK_METHODS:
            raise NeutralizedDatabaseError(self._message)
        return getattr(self._provider, name)


class OnlineLink(models.Model):
    _inherit = "online.link"

    @api.model
    def _is_neutralized(self):
        return bool(self.env["ir.config_parameter"].sudo().get_param("database.is_neutralized"))

    @api.model
    def _neutralized_message(self):
        return _(
            "This database is a neutralized copy (a test or staging copy of the production database): it does "
            "not contact the banks, so that it cannot disturb the production connections. Connect banks from "
            "the production database, or use the Sandbox bank here."
        )

    def _get_provider(self):
        provider = super()._get_provider()
        if self.provider != "sandbox" and self._is_neutralized():
            return NeutralizedProvider(provider, self._neutralized_message())
        return provider

    @api.model
    def _provider_for(self, provider_code, company):
        provider = super()._provider_for(provider_code, company)
        if provider_code != "sandbox" and self._is_neutralized():
            return NeutralizedProvider(provider, self._neutralized_message())
        return provider
