/** @odoo-module */
/* The accountant reviews a synchronized journal from its card on the Accounting dashboard. */
import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");
const CARD = ".o_kanban_record:has(.o_dropdown_kanban)";
const DIALOG = ".modal:not(.o_inactive_modal)";

/** Ask the test to take a screenshot once ``trigger`` shows, and give it the time to. */
function screenshot(name, trigger = "body") {
    return {
        content: `Screenshot ${name}`,
        trigger,
        run: async () => {
            console.log(`online_sync_screenshot ${name}`);
            await new Promise((resolve) => setTimeout(resolve, 1000));
        },
    };
}

function openFromCardMenu(item) {
    return [
        {
            content: "Open the bank journal's card menu",
            trigger: CARD,
            run: `hover && click ${CARD} .o_dropdown_kanban .dropdown-toggle`,
        },
        {
            content: `${item}, under Bank Feed`,
            trigger: `.o-dropdown--menu .o_online_sync_review a:contains(${item})`,
            run: "click",
        },
    ];
}

tours.add("online_review_find_missing", {
    steps: () => [
        ...openFromCardMenu("Find Missing Transactions"),
        {
            content: "Ask the bank over the proposed period",
            trigger: `${DIALOG} .modal-footer button[name=action_search]:contains(Ask the Bank)`,
            run: "click",
        },
        {
            content: "The transactions the bank sent late are listed as missing",
            trigger: `${DIALOG} .o_data_row td[name=kind]:contains(Missing: importable)`,
        },
        screenshot("missing_found", `${DIALOG} .o_data_row`),
        {
            content: "Import them",
            trigger: `${DIALOG} .modal-footer button[name=action_import]`,
            run: "click",
        },
        {
            content: "The user is told the import ran",
            trigger: ".o_notification",
        },
        screenshot("missing_imported", ".o_notification"),
    ],
});

tours.add("online_review_duplicate_delete_restore", {
    steps: () => [
        ...openFromCardMenu("Find Duplicate Transactions"),
        {
            content: "Search the proposed period",
            trigger: `${DIALOG} .modal-footer button[name=action_search]:contains(Search)`,
            run: "click",
        },
        {
            content: "The pair of card payments is one group",
            trigger: `${DIALOG} .o_data_row:eq(1) td[name=reason]:contains(Same date, amount and counterparty)`,
        },
        {
            content: "Tick the first line of the group",
            trigger: `${DIALOG} .o_data_row:first td[name=to_delete] input`,
            run: "click",
        },
        screenshot("duplicate_ticked", `${DIALOG} .o_data_row:first td[name=to_delete] input:checked`),
        {
            content: "Delete Ticked Lines",
            trigger: `${DIALOG} .modal-footer button[name=action_delete_selected]`,
            run: "click",
        },
        {
            content: "Confirm",
            trigger: `${DIALOG} .modal-body:contains(Delete the ticked lines?)`,
        },
        {
            content: "Ok",
            trigger: `${DIALOG} .modal-footer button:contains(Ok)`,
            run: "click",
        },
        {
            content: "The group is gone from the search",
            trigger: `${DIALOG} p:contains(No likely duplicates over this period.)`,
        },
        {
            content: "Close",
            trigger: `${DIALOG} .modal-footer button:contains(Close)`,
            run: "click",
        },
        {
            content: "Back on the dashboard",
            trigger: "body:not(:has(.modal))",
        },
        ...openFromCardMenu("Ignored Transactions"),
        {
            content: "The deleted line is ignored by the next runs",
            trigger: ".o_list_view .o_data_row td[name=reason]:contains(Deleted in Odoo)",
        },
        screenshot("ignored_listed", ".o_list_view .o_data_row"),
        {
            content: "Restore it",
            trigger: ".o_list_view .o_data_row button[name=action_restore]",
            run: "click",
        },
        {
            content: "It is no longer ignored",
            trigger: ".o_list_view:not(:has(.o_data_row))",
        },
        screenshot("ignored_restored"),
    ],
});
