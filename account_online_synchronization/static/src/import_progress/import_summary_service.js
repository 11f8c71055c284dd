/** Shows the summary of a background import to the user who started it, once.
 *
 * The end of an import reaches his web client on the bus, or through the
 * progress field, which reads the import again every few seconds: the bus
 * may not be connected (a server in workers mode whose /websocket is not
 * routed to its gevent port). Either way the summaries are taken from the
 * server, which gives each of them once. A summary still waiting when the
 * web client starts (the import ended while none of its pages could see it)
 * shows then.
 */
import { markup } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { escape } from "@web/core/utils/strings";
import { session } from "@web/session";

export const PROGRESS_NOTIFICATION = "account_online_synchronization/import_progress";

export const onlineImportSummaryService = {
    dependencies: ["bus_service", "notification", "orm"],
    start(env, { bus_service, notification, orm }) {
        let taking = null;
        async function take() {
            const summaries = await orm.silent.call("online.link", "take_import_summaries", []);
            for (const { title, message, type } of summaries) {
                // One line per account, then what stopped the import if it failed.
                const lines = markup(message.split("\n").map(escape).join("<br/>"));
                notification.add(lines, { title, type, sticky: true });
            }
        }
        /** Show the summaries waiting for the user; the fields of a page that see the end at once ask once. */
        function showSummaries() {
            taking ||= take().finally(() => {
                taking = null;
            });
            return taking;
        }
        bus_service.subscribe(PROGRESS_NOTIFICATION, ({ status }) => {
            if (!status) {
                showSummaries();
            }
        });
        if (session.online_import_summaries) {
            showSummaries();
        }
        return { showSummaries };
    },
};

registry.category("services").add("online_import_summary", onlineImportSummaryService);
