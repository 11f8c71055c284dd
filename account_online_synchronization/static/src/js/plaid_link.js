/** @odoo-module **/
/**
 * Opens Plaid Link on the link token of a consent and hands the public token
 * of the finished session to Odoo, which completes the consent bound to
 * ``state``. Link's script comes from the URL given by the server (Plaid's
 * CDN unless the Plaid settings name another one).
 */
import { _t } from "@web/core/l10n/translation";
import { loadJS } from "@web/core/assets";
import { rpc } from "@web/core/network/rpc";
import { registry } from "@web/core/registry";

const LINK_SUCCESS_ROUTE = "/online_sync/plaid/link_success";

async function openPlaidLink(env, action) {
    const { token, script_url: scriptUrl, state } = action.params;
    const notification = env.services.notification;
    try {
        await loadJS(scriptUrl);
    } catch {
        notification.add(_t("Plaid Link could not be loaded from %s.", scriptUrl), { type: "danger", sticky: true });
        return;
    }
    const handler = window.Plaid.create({
        token,
        onSuccess: async (publicToken) => {
            const result = await rpc(LINK_SUCCESS_ROUTE, { state, public_token: publicToken });
            if (result.error) {
                notification.add(result.error, { type: "danger", sticky: true });
            }
            if (result.action) {
                await env.services.action.doAction(result.action);
            }
        },
        onExit: (error) => {
            if (error) {
                notification.add(error.display_message || error.error_message || _t("Plaid Link stopped."), {
                    type: "danger",
                    sticky: true,
                });
            }
        },
    });
    handler.open();
}

registry.category("actions").add("account_online_synchronization.plaid_link", openPlaidLink);
