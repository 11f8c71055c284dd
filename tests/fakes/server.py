"""A small threaded HTTP server on 127.0.0.1 to stand in for an aggregator's API.

A fake subclasses ``FakeAggregator`` and registers routes with ``@route``.
Handlers receive a ``FakeRequest`` and return ``(status, body[, headers])``:
a dict/list body is sent as JSON, a str as is. Tests inject faults with
``fail_next``; every request received is kept in ``requests``.
"""
import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def route(method, pattern):
    """Register the decorated method for ``method`` and a path regex (named groups become kwargs)."""
    def decorator(function):
        function.fake_route = (method.upper(), re.compile(f"^{pattern}$"))
        return function
    return decorator


class FakeRequest:
    def __init__(self, method, path, query, headers, body):
        self.method = method
        self.path = path
        self.query = query  # {name: [values]}
        self.headers = headers
        self.body = body  # raw bytes

    def arg(self, name, default=None):
        values = self.query.get(name)
        return values[0] if values else default

    def json(self):
        return json.loads(self.body or b"{}")

    def form(self):
        return {key: values[0] for key, values in parse_qs(self.body.decode()).items()}


class FakeAggregator:
    """Base of the fake aggregator servers; use as a context manager or ``start()``/``stop()``."""

    def __init__(self):
        self.requests = []
        self._faults = []
        self._routes = [
            getattr(self, name).fake_route + (getattr(self, name),)
            for name in dir(type(self)) if hasattr(getattr(type(self), name), "fake_route")
        ]
        self._server = None

    # lifecycle ---------------------------------------------------------------

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                fake._dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # faults ------------------------------------------------------------------

    def fail_next(self, status, body=None, headers=None, count=1, path=None, after=0):
        """Answer the next ``count`` requests (matching the ``path`` regex) with this error.

        ``status`` may also be ``"timeout"`` (no answer), ``"reset"`` (connection
        closed) or ``"cut"`` (the headers announce ``body`` whole, half of it
        comes, then the connection closes). The first ``after`` matching
        requests are answered normally: a later page of a listing fails.
        """
        self._faults.append({"status": status, "body": body, "headers": headers or {},
                             "count": count, "path": path and re.compile(path), "after": after})

    def _take_fault(self, path):
        for fault in self._faults:
            if fault["path"] is None or fault["path"].search(path):
                if fault["after"]:
                    fault["after"] -= 1
                    return None
                fault["count"] -= 1
                if fault["count"] <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # dispatch ----------------------------------------------------------------

    def _dispatch(self, handler):
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = FakeRequest(handler.command, parts.path, parse_qs(parts.query), handler.headers, body)
        self.requests.append(request)
        fault = self._take_fault(parts.path)
        if fault:
            if fault["status"] == "timeout":
                threading.Event().wait(5)
                return
            if fault["status"] == "reset":
                handler.close_connection = True
                handler.connection.close()
                return
            if fault["status"] == "cut":
                return self._send(handler, 200, fault["body"], fault["headers"], cut=True)
            return self._send(handler, fault["status"], fault["body"], fault["headers"])
        for method, pattern, function in self._routes:
            match = pattern.match(parts.path)
            if match and method == handler.command:
                result = function(request, **match.groupdict())
                return self._send(handler, *result)
        return self._send(handler, *self.not_found(request))

    def not_found(self, request):
        """The aggregator's answer to an unknown route: ``(status, body[, headers])``."""
        return 404, {"error": "not_found", "path": request.path}

    @staticmethod
    def _send(handler, status, body=None, headers=None, cut=False):
        if isinstance(body, (dict, list)):
            payload = json.dumps(body, default=str).encode()
            content_type = "application/json"
        else:
            payload = (body or "").encode() if isinstance(body, str) else (body or b"")
            content_type = "text/plain"
        handler.send_response(status)
        headers = dict(headers or {})
        headers.setdefault("Content-Type", content_type)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        if cut:
            handler.wfile.write(payload[:len(payload) // 2])
            handler.wfile.flush()
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        handler.wfile.write(payload)


class FakeBankControls:
    """What the Odoo flow tests ask of every fake aggregator (mixed into each fake).

    Each control makes the fake answer the way the real aggregator documents it.
    """

    #: Provider code of the connector under test (``plaid``, ``ponto``...).
    provider_code = None
    #: An institution the fake lets users connect to.
    institution_id = None

    def provider_config(self):
        """Connector configuration pointing at this fake with valid credentials."""
        raise NotImplementedError

    def consent(self, consent_url):
        """Act as the user on the hosted consent page at ``consent_url``.

        Returns the query parameters the aggregator appends to the callback
        URL (``state`` included), as a dict.
        """
        raise NotImplementedError

    def account_ids(self):
        """Provider ids of the accounts the user shared."""
        raise NotImplementedError

    def posted_ids(self, account_id):
        """Dedup ids (as the connector reports them) of the posted transactions of an account."""
        raise NotImplementedError

    def add_transaction(self, account_id, amount, booking_date, pending=False):
        """Add a transaction (``amount`` a Decimal, positive = money in); return its id."""
        raise NotImplementedError

    def post_pending(self):
        """Book every pending transaction the way the aggregator does (a new id where it gives one)."""
        raise NotImplementedError

    def cancel_next_consent(self):
        """The user cancels on the next consent page: the aggregator sends them back with its error."""
        raise NotImplementedError

    def expire_consent(self):
        """From now on, data calls fail as they do when the user's consent has ended."""
        raise NotImplementedError

    def expire_access_token(self):
        """Invalidate the current access token so that the connector must refresh it."""
        raise NotImplementedError

    def rate_limit(self, retry_after=0):
        """The next data call is refused with the aggregator's rate-limit answer."""
        raise NotImplementedError

    def go_down(self):
        """Data calls fail as they do when the bank is unavailable, until ``come_back()``."""
        raise NotImplementedError

    def come_back(self):
        raise NotImplementedError

    def break_next_transactions_page(self):
        """The next transactions call answers 200 with a transaction lacking its amount."""
        raise NotImplementedError

    @property
    def revoked(self):
        """True once the connector has revoked the consent at the aggregator."""
        raise NotImplementedError
