"""Aggregator connectors: plain Python, no Odoo import."""
from .errors import (  # noqa: F401
    InstitutionUnavailable,
    InvalidConfiguration,
    MalformedResponse,
    MFARequired,
    ProviderError,
    RateLimited,
    ReauthRequired,
)
from .sandbox import SandboxProvider

PROVIDERS = {
    SandboxProvider.code: SandboxProvider,
}


def get_provider(code, config=None):
    """Return a provider instance for ``code`` configured with ``config``."""
    try:
        provider_class = PROVIDERS[code]
    except KeyError:
        raise InvalidConfiguration(f"Unknown provider {code!r}") from None
    return provider_class(config)
