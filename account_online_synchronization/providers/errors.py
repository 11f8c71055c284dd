"""Typed errors raised by providers.

Every error carries a short, secret-free message and, when the aggregator gave
one, its own request id so support can find the call on the aggregator side.
"""


class ProviderError(Exception):
    """Generic aggregator failure; the next run retries."""

    code = "provider_error"
    #: True when nothing the user does will help: the next run simply retries.
    transient = True
    #: True when the whole connection is concerned, False when only one account is.
    link_wide = False
    #: True when the aggregator refused the application's own credentials: a security event.
    credentials_rejected = False

    def __init__(self, message, request_id=None):
        super().__init__(message)
        self.message = message
        self.request_id = request_id


class ReauthRequired(ProviderError):
    """The consent expired or was revoked: the user must reconnect."""

    code = "reauth_required"
    link_wide = True
    transient = False


class MFARequired(ProviderError):
    """The bank asks for a one-time code: only a manual sync can go on."""

    code = "mfa_required"
    link_wide = True
    transient = False

    def __init__(self, message, request_id=None, update_credentials=False):
        super().__init__(message, request_id=request_id)
        #: True when only the aggregator's page (Update Credentials) takes the code, not a synchronization.
        self.update_credentials = update_credentials


class RateLimited(ProviderError):
    """Too many refreshes; ``retry_after`` is in seconds when known."""

    code = "rate_limited"
    link_wide = True

    def __init__(self, message, retry_after=None, request_id=None):
        super().__init__(message, request_id=request_id)
        self.retry_after = retry_after


class InstitutionUnavailable(ProviderError):
    """The bank or the aggregator is temporarily down."""

    code = "institution_unavailable"
    link_wide = True


class InvalidConfiguration(ProviderError):
    """Credentials or settings of the connector are wrong."""

    code = "invalid_configuration"
    link_wide = True
    transient = False

    def __init__(self, message, request_id=None, credentials_rejected=True):
        super().__init__(message, request_id=request_id)
        #: True when the aggregator refused the application's credentials (a security event),
        #: False for a setting that is missing or that the aggregator does not allow.
        self.credentials_rejected = credentials_rejected


class MalformedResponse(ProviderError):
    """The aggregator answered with data we cannot read safely."""

    code = "malformed_response"


class UnexpectedError(ProviderError):
    """An exception no connector foresaw, e.g. data of a shape the aggregator does not document."""

    code = "unexpected_error"
    link_wide = True
