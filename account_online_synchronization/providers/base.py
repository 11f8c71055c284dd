"""The interface every aggregator connector implements."""
from datetime import datetime, timedelta, timezone

from .errors import InvalidConfiguration, ReauthRequired
from .http import HttpClient

#: Longest wait for a quota an aggregator may impose: a larger reset time is taken as this.
MAX_QUOTA_WAIT = timedelta(days=7)


class Provider:
    """Maps one aggregator's API onto the normalized interface.

    ``config`` holds the connector settings (base URL, application
    credentials, ...). ``tokens`` is the per-connection state the provider
    returned when the connection was completed; the caller stores it as a
    secret and hands it back on every call.
    """

    code = None
    name = None
    #: Base URL per environment (``sandbox``, ``production``); ``config["base_url"]`` overrides it.
    ENVIRONMENTS = {}
    #: Configuration keys the connector needs, with their labels, among
    #: ``client_id``, ``client_secret``, ``admin_login``, ``certificate``, ``private_key``.
    CONFIG_FIELDS = {}
    #: Refreshes without the user that the banks allow per account and 24 hours when the aggregator
    #: does not tell the quota left (PSD2: 4); None: no fixed limit.
    UNATTENDED_REFRESHES_PER_DAY = None
    #: Set by the caller: ``on_tokens(tokens)`` stores a connection's whole new tokens at once.
    on_tokens = None

    def __init__(self, config=None):
        self.config = dict(config or {})
        #: The HTTP details of the user present (``ip_address``, ``user_agent``, ``accept``...), set by
        #: the caller for a synchronization a user started; None for an unattended one.
        self.psu = None
        #: What the aggregator told of its quota in its last answers: the calls left (None: not told)
        #: and when the quota resets or the next refresh is possible (naive UTC, None: not told).
        self.quota_remaining = None
        self.quota_reset_at = None

    @property
    def base_url(self):
        """The configured base URL, or the one of the configured environment."""
        url = self.config.get("base_url") or self.ENVIRONMENTS.get(self.config.get("environment") or "sandbox")
        if not url:
            raise InvalidConfiguration(f"No base URL is configured for {self.name}.", credentials_rejected=False)
        return url.rstrip("/")

    def http_client(self, **kwargs):
        """An ``HttpClient`` on ``base_url``; ``timeout``/``retries``/``backoff`` come from the config when set."""
        for key in ("timeout", "retries", "backoff", "max_wait"):
            if self.config.get(key) is not None:
                kwargs.setdefault(key, self.config[key])
        return HttpClient(self.base_url, **kwargs)

    def require_config(self, *keys):
        """Return the values of ``keys`` in the configuration; raise when one is missing."""
        missing = [self.CONFIG_FIELDS.get(key, key) for key in keys if not self.config.get(key)]
        if missing:
            raise InvalidConfiguration(f"{self.name} settings are incomplete: {', '.join(missing)} missing.",
                                       credentials_rejected=False)
        return [self.config[key] for key in keys]

    @staticmethod
    def required_token(tokens, key, missing_message):
        """``tokens[key]``; without it the connection must go through the consent again."""
        value = (tokens or {}).get(key)
        if not value:
            raise ReauthRequired(missing_message)
        return value

    def tokens_issued(self, tokens):
        """Hand the connection's new tokens to the caller the moment the aggregator issues them.

        Called before any further request, so that a failure of the next call
        cannot lose a rotated refresh token (RFC 6749 section 6): the spent
        one is never sent again.
        """
        if self.on_tokens:
            self.on_tokens(dict(tokens))

    def note_quota(self, remaining=None, reset_in=None, reset_at=None):
        """Keep what an answer told of the quota: calls left, and its reset in seconds or at a UTC time."""
        if remaining is not None:
            self.quota_remaining = max(0, int(remaining))
        if reset_in is not None:
            reset_at = quota_end(reset_in)
        if reset_at is not None:
            self.quota_reset_at = reset_at

    def renewals_remaining(self, tokens):
        """How many more consents of the connection must be renewed, one at a time, after this one."""
        return 0

    def search_institutions(self, country=None, text=None):
        """Return the institutions matching a country code and a text."""
        raise NotImplementedError

    def start_connection(self, institution_id, mode="new", tokens=None, redirect_url=None, state=None):
        """Begin a consent: ``mode`` is ``new``, ``update`` or ``renew``."""
        raise NotImplementedError

    def complete_connection(self, institution_id, params, tokens=None):
        """Finish a consent from the callback parameters; return new tokens.

        ``tokens`` holds the connection's current tokens (update/renew) merged
        with ``ConnectionStart.pending``.
        """
        raise NotImplementedError

    def consent_expiry(self, tokens):
        """Return when the consent ends (naive UTC datetime), or None when it does not expire."""
        return None

    def refresh_tokens(self, tokens):
        """Return fresh tokens (unchanged when nothing needs refreshing).

        Tokens issued on the way are passed to ``tokens_issued`` first.
        """
        return tokens

    def list_accounts(self, tokens, balances=True):
        """Return the accounts of the connection.

        With ``balances=False`` a connector whose bank counts balance calls
        against a daily quota leaves ``Account.balance`` None instead.
        """
        raise NotImplementedError

    def list_transactions(self, tokens, account_id, date_from, cursor=None, unattended=False):
        """Return one ``TransactionPage`` of an account's transactions booked from ``date_from``."""
        raise NotImplementedError

    def revoke(self, tokens):
        """Withdraw the consent at the aggregator."""


def quota_end(seconds):
    """The naive UTC time ``seconds`` from now, waiting at most ``MAX_QUOTA_WAIT``."""
    wait = timedelta(seconds=max(0.0, min(float(seconds), MAX_QUOTA_WAIT.total_seconds())))
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0) + wait
