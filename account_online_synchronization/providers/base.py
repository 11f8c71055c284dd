"""The interface every aggregator connector implements."""


class Provider:
    """Maps one aggregator's API onto the normalized interface.

    ``config`` holds the connector settings (base URL, application
    credentials, ...). ``tokens`` is the per-connection state the provider
    returned when the connection was completed; the caller stores it as a
    secret and hands it back on every call.
    """

    code = None
    name = None

    def __init__(self, config=None):
        self.config = dict(config or {})

    def search_institutions(self, country=None, text=None):
        """Return the institutions matching a country code and a text."""
        raise NotImplementedError

    def start_connection(self, institution_id, mode="new", tokens=None, redirect_url=None, state=None):
        """Begin a consent: ``mode`` is ``new``, ``update`` or ``renew``."""
        raise NotImplementedError

    def complete_connection(self, institution_id, params, tokens=None):
        """Finish a consent from the callback parameters; return new tokens."""
        raise NotImplementedError

    def consent_expiry(self, tokens):
        """Return when the consent ends (naive UTC datetime), or None when it does not expire."""
        return None

    def refresh_tokens(self, tokens):
        """Return fresh tokens (unchanged when nothing needs refreshing)."""
        return tokens

    def list_accounts(self, tokens):
        """Return the accounts of the connection."""
        raise NotImplementedError

    def list_transactions(self, tokens, account_id, date_from, cursor=None, unattended=False):
        """Return one ``TransactionPage`` of an account's transactions booked from ``date_from``."""
        raise NotImplementedError

    def revoke(self, tokens):
        """Withdraw the consent at the aggregator."""
