"""HTTP plumbing shared by the aggregator connectors.

Every call has a timeout. Calls that are safe to repeat are retried with an
exponential backoff on 429 and 5xx answers and on network failures (answers
cut off midway included), honouring ``Retry-After`` (or the aggregator's own
reset header) when the wait is short: a quota that resets in hours is
reported at once, never retried within seconds. Answers are decoded with
``Decimal`` for JSON numbers. Request bodies, headers and query strings are
never logged: they carry secrets.
"""
import json
import logging
import time
from decimal import Decimal

import requests

from .errors import InstitutionUnavailable, MalformedResponse, ProviderError, RateLimited

_logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class HttpResponse:
    """A decoded answer: ``status``, ``headers``, ``payload`` (JSON, or None) and ``request_id``."""

    def __init__(self, status, headers, payload, request_id, text=""):
        self.status = status
        self.headers = headers
        self.payload = payload
        self.request_id = request_id
        self.text = text

    @property
    def ok(self):
        return 200 <= self.status < 300


class HttpClient:
    """A ``requests`` session bound to one aggregator's base URL.

    ``error_handler(response)`` is called for every non-2xx answer that is
    not retried any more; it raises the aggregator's typed error. When it
    returns, a generic error is raised from the status.
    """

    def __init__(self, base_url, *, timeout=30.0, retries=3, backoff=0.5, max_wait=30.0,
                 request_id_header=None, cert=None, error_handler=None, session=None, wait_reader=None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.request_id_header = request_id_header
        self.cert = cert
        self.error_handler = error_handler
        self.session = session or requests.Session()
        #: ``wait_reader(response)``: seconds until a refused call may succeed, or None when unknown.
        self.wait_reader = wait_reader or self.retry_after

    def url(self, path):
        """The absolute URL of ``path`` (absolute URLs are kept as they are)."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(self, method, path, *, safe=None, expect_json=True, **kwargs):
        """Send a request and return an ``HttpResponse`` for a 2xx answer.

        ``safe`` says whether the call may be repeated (by default: GET, PUT,
        DELETE...). ``kwargs`` go to ``requests`` (``params``, ``json``,
        ``data``, ``headers``, ``auth``).
        """
        method = method.upper()
        safe = method in SAFE_METHODS if safe is None else safe
        attempts = self.retries + 1 if safe else 1
        kwargs.setdefault("timeout", self.timeout)
        if self.cert:
            kwargs.setdefault("cert", self.cert)
        url = self.url(path)
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            try:
                raw = self.session.request(method, url, **kwargs)
            except requests.exceptions.SSLError:
                raise ProviderError("The aggregator refused the TLS connection: check the certificate settings.") from None
            except (requests.exceptions.Timeout, requests.exceptions.ConnectionError,
                    requests.exceptions.ChunkedEncodingError) as error:
                # ChunkedEncodingError: the connection broke while the answer was coming.
                _logger.info("%s %s: network failure (%s), attempt %s/%s",
                             method, self._log_path(url), type(error).__name__, attempt, attempts)
                if last:
                    raise InstitutionUnavailable(
                        "The aggregator did not answer in time or the connection broke. "
                        "The next synchronization will try again."
                    ) from None
                self._sleep(attempt, None)
                continue
            response = self._decode(raw, expect_json and raw.ok)
            if response.ok:
                return response
            wait = self.wait_reader(response) if response.status in RETRY_STATUSES and not last else None
            if response.status in RETRY_STATUSES and not last and (wait is None or wait <= self.max_wait):
                _logger.info("%s %s: HTTP %s, attempt %s/%s",
                             method, self._log_path(url), response.status, attempt, attempts)
                self._sleep(attempt, wait)
                continue
            self._raise(response)
        raise AssertionError("unreachable")

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    @staticmethod
    def retry_after(response):
        """Seconds to wait from a ``Retry-After`` header, or None."""
        value = response.headers.get("Retry-After")
        try:
            return max(0.0, float(value)) if value is not None else None
        except ValueError:
            return None

    def _sleep(self, attempt, retry_after):
        wait = retry_after if retry_after is not None else self.backoff * 2 ** (attempt - 1)
        time.sleep(min(wait, self.max_wait))

    def _decode(self, raw, require_json):
        request_id = raw.headers.get(self.request_id_header) if self.request_id_header else None
        payload = None
        if raw.content:
            try:
                payload = json.loads(raw.content, parse_float=Decimal)
            except ValueError:
                if require_json:
                    raise MalformedResponse(
                        "The aggregator sent an answer that is not valid JSON.", request_id=request_id,
                    ) from None
        return HttpResponse(raw.status_code, raw.headers, payload, request_id, text=raw.text[:200])

    def _raise(self, response):
        if self.error_handler:
            self.error_handler(response)
        if response.status == 429:
            raise RateLimited(
                "The aggregator limits how often it can be called.",
                retry_after=self.retry_after(response), request_id=response.request_id,
            )
        if response.status >= 500:
            raise InstitutionUnavailable(
                f"The aggregator is unavailable (HTTP {response.status}).", request_id=response.request_id,
            )
        raise ProviderError(f"The aggregator refused the request (HTTP {response.status}).",
                            request_id=response.request_id)

    @staticmethod
    def _log_path(url):
        return url.split("?", 1)[0]


def require(payload, *keys, request_id=None):
    """Return ``payload[k1][k2]...``; raise ``MalformedResponse`` naming the missing key."""
    value = payload
    for key in keys:
        if isinstance(key, int):
            ok = isinstance(value, list) and -len(value) <= key < len(value)
        else:
            ok = isinstance(value, dict) and key in value
        if not ok:
            raise MalformedResponse(
                f"The aggregator's answer lacks {'.'.join(str(k) for k in keys)}.", request_id=request_id,
            )
        value = value[key]
    return value
