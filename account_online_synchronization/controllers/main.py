import werkzeug.urls
from werkzeug.exceptions import Forbidden

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

from ..models.online_link_consent import CALLBACK_PATH


class OnlineSyncController(http.Controller):

    @http.route(CALLBACK_PATH, type="http", auth="user", methods=["GET"], csrf=False)
    def consent_callback(self, state=None, **params):
        """Where the aggregator sends the user back after the consent page."""
        consent_model = request.env["online.link.consent"]
        if state and "?" in state:
            # Aggregators that append their own "?name=value" to a return URL that already had a query.
            state, _sep, extra = state.partition("?")
            params.update(werkzeug.urls.url_decode(extra).to_dict())
        try:
            consent = consent_model._from_callback(state)
        except UserError as error:
            raise Forbidden(error.args[0]) from None
        try:
            link = consent._finish(dict(params, state=state))
        except UserError as error:
            request.env.cr.rollback()
            consent.sudo().done = True
            link = consent.link_id
            if not link:
                raise Forbidden(error.args[0]) from None
            link.message_post(body=error.args[0])
        return request.redirect(f"/odoo/action-account_online_synchronization.action_online_link/{link.id}")
