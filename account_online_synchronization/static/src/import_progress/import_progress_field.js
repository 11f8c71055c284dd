/** The progress of a connection's background import, kept up to date without reloading the page.
 *
 * The user who started the import gets each step on the bus; the field also
 * reads it again every few seconds while it runs, which is how anyone else,
 * or a web client without the bus, follows it. When the import ends, the view
 * is loaded again to show what it brought; seen here first, the end also
 * shows its summary to the user who started it.
 */
import { Component, onWillUnmount, onWillUpdateProps, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardFieldProps } from "@web/views/fields/standard_field_props";
import { PROGRESS_NOTIFICATION } from "./import_summary_service";

const POLL_DELAY = 3000;

export class ImportProgressField extends Component {
    static template = "account_online_synchronization.ImportProgressField";
    static props = { ...standardFieldProps };

    setup() {
        this.orm = useService("orm");
        this.busService = useService("bus_service");
        this.importSummary = useService("online_import_summary");
        this.state = useState({ status: this.props.record.data[this.props.name] });
        this.onProgress = this.onProgress.bind(this);
        this.busService.subscribe(PROGRESS_NOTIFICATION, this.onProgress);
        this.timer = setInterval(() => this.poll(), POLL_DELAY);
        onWillUpdateProps((nextProps) => {
            this.state.status = nextProps.record.data[nextProps.name];
        });
        onWillUnmount(() => {
            clearInterval(this.timer);
            this.busService.unsubscribe(PROGRESS_NOTIFICATION, this.onProgress);
        });
    }

    onProgress({ link_id, journal_ids, status }) {
        const { resModel, resId } = this.props.record;
        if (resModel === "online.link" ? link_id === resId : journal_ids.includes(resId)) {
            this.show(status);
        }
    }

    async poll() {
        if (!this.state.status) {
            return;
        }
        const { resModel, resId } = this.props.record;
        const [values] = await this.orm.read(resModel, [resId], [this.props.name]);
        if (this.show(values && values[this.props.name])) {
            // The end did not come on the bus, if it is connected at all.
            this.importSummary.showSummaries();
        }
    }

    /** Show ``status``; return whether it tells that the import ended. */
    show(status) {
        const ended = Boolean(this.state.status && !status);
        this.state.status = status;
        if (ended) {
            this.props.record.model.load();
        }
        return ended;
    }
}

registry.category("fields").add("online_import_progress", { component: ImportProgressField });
