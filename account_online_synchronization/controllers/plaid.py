from odoo import _, http
from odoo.http import request

from .main import OnlineSyncController

#: Where the Plaid Link client action hands over the public token of a finished Link session.
PLAID_LINK_SUCCESS_PATH = "/online_sync/plaid/link_success"


class PlaidLinkController(http.Controller):

    @http.route(PLAID_LINK_SUCCESS_PATH, type="json", auth="user", methods=["POST"])
    def plaid_link_success(self, state=None, public_token=None):
        """Complete the consent of ``state`` with the ``public_token`` Plaid Link gave the browser.

        The same checks as the consent callback apply: the consent must be the
        current user's, in one of their companies, unexpired and unused.
        Return the action showing the connection, or the error to display.
        """
        if not request.env.user._is_internal():
            return {"error": _("Bank connections are managed by the company's accountants only.")}
        if not public_token:
            return {"error": _("Plaid Link did not give a token: start the connection again.")}
        link, error = OnlineSyncController._complete_consent(state, {"public_token": public_token})
        if not link:
            return {"error": error}
        return {
            "error": error,
            "action": {
                "type": "ir.actions.act_window",
                "res_model": "online.link",
                "res_id": link.id,
                "views": [[False, "form"]],
                "target": "current",
            },
        }
