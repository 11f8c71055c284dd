import logging
import re

import werkzeug.urls

from odoo import _, http
from odoo.exceptions import UserError
from odoo.http import request

from ..models.online_link_consent import CALLBACK_PATH

#: The callback's query string in an access log line: one-use codes and state tokens.
CALLBACK_QUERY = re.compile(re.escape(CALLBACK_PATH) + r"\?[^\s\"]*")


class RedactCallbackQuery(logging.Filter):
    """Keep the aggregator's one-use ``code`` and the ``state`` token out of the HTTP access log."""

    def filter(self, record):
        if record.args and isinstance(record.args, tuple) and isinstance(record.args[0], str) \
                and CALLBACK_PATH in record.args[0]:
            record.args = (CALLBACK_QUERY.sub(CALLBACK_PATH + "?[redacted]", record.args[0]), *record.args[1:])
        return True


_access_log = logging.getLogger("werkzeug")
if not any(isinstance(log_filter, RedactCallbackQuery) for log_filter in _access_log.filters):
    _access_log.addFilter(RedactCallbackQuery())


class OnlineSyncController(http.Controller):

    @http.route(CALLBACK_PATH, type="http", auth="user", methods=["GET"], csrf=False)
    def consent_callback(self, state=None, **params):
        """Where the aggregator sends the user back after the consent page.

        Refusals answer 403 without raising, so that the refused attempt is
        logged for suspicious-activity detection.
        """
        if not request.env.user._is_internal():
            return self._forbidden(_("Bank connections are managed by the company's accountants only."))
        if state and "?" in state:
            # Aggregators that append their own "?name=value" to a return URL that already had a query.
            state, _sep, extra = state.partition("?")
            params.update(werkzeug.urls.url_decode(extra).to_dict())
        link, error = self._complete_consent(state, params)
        if not link:
            return self._forbidden(error)
        return request.redirect(f"/odoo/action-account_online_synchronization.action_online_link/{link.id}")

    @staticmethod
    def _complete_consent(state, params):
        """Complete the current user's consent waiting for ``state``; return its connection and the error.

        A consent the aggregator did not complete is told in the chatter of the
        connection it was renewing, which is then still returned. Only a refusal
        of the application's credentials counts as a security event: a user who
        cancels at the aggregator or the bank is no sign of an attack.
        """
        try:
            consent = request.env["online.link.consent"]._from_callback(state)
        except UserError as error:
            return None, error.args[0]
        try:
            return consent._finish(dict(params, state=state)), None
        except UserError as error:
            request.env.cr.rollback()
            consent.sudo().done = True
            if getattr(error, "credentials_rejected", False):
                request.env["online.sync.event"]._record(
                    consent.company_id, "invalid_credentials", link=consent.link_id, detail=error.args[0],
                )
            if consent.link_id:
                consent.link_id.message_post(body=error.args[0])
            return consent.link_id or None, error.args[0]

    @staticmethod
    def _forbidden(message):
        return request.make_response(message, headers=[("Content-Type", "text/plain; charset=utf-8")], status=403)
