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
from .enable_banking import EnableBankingProvider
from .gocardless import GoCardlessProvider
from .plaid import PlaidProvider
from .ponto import PontoProvider
from .saltedge import SaltEdgeProvider
from .sandbox import SandboxProvider
from .yodlee import YodleeProvider

PROVIDERS = {
    provider_class.code: provider_class
    for provider_class in (
        SandboxProvider, PlaidProvider, YodleeProvider, SaltEdgeProvider, PontoProvider, EnableBankingProvider,
        GoCardlessProvider,
    )
}


def provider_selection(_model=None):
    """Selection values of the known providers, for Odoo fields."""
    return [(code, provider_class.name) for code, provider_class in PROVIDERS.items()]


def get_provider(code, config=None):
    """Return a provider instance for ``code`` configured with ``config``."""
    try:
        provider_class = PROVIDERS[code]
    except KeyError:
        raise InvalidConfiguration(f"Unknown provider {code!r}", credentials_rejected=False) from None
    return provider_class(config)
