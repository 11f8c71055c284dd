/** @odoo-module */

import { registry } from "@web/core/registry";

/** A step saving the page under ``name`` when the test asks for screenshots (see tests/tour_case.py). */
function screenshot(name, trigger = "body") {
    return {
        content: `Screenshot: ${name}`,
        trigger,
        async run() {
            console.log(`online_sync_screenshot ${name}`);
            await new Promise((resolve) => setTimeout(resolve, 400));
        },
    };
}

registry.category("web_tour.tours").add("online_sync_bank_transactions", {
    url: "/odoo/action-account.open_account_journal_dashboard_kanban",
    steps: () => [
        {
            content: "Synchronize the connected journal from its dashboard card",
            trigger: ".o_kanban_record:contains(Tour Bank) button[name=manual_sync]",
            run: "click",
        },
        {
            content: "The synchronization says what it did",
            trigger: ".o_notification:contains(Synchronization done)",
        },
        screenshot("accountant_dashboard_synchronized"),
        {
            content: "Open the card's menu",
            trigger: ".o_kanban_record:contains(Tour Bank)",
            run: "hover && click .o_kanban_record:contains(Tour Bank) .o_dropdown_kanban .dropdown-toggle",
        },
        screenshot("accountant_dashboard_card_menu", ".o-dropdown--menu a:contains(Bank Transactions)"),
        {
            content: "Open its Bank Transactions",
            trigger: ".o-dropdown--menu a:contains(Bank Transactions)",
            run: "click",
        },
        {
            content: "The list is grouped by statement",
            trigger: ".o_list_view .o_group_header",
            run: "click",
        },
        {
            content: "Each line shows what the bank gave",
            trigger: ".o_data_row .o_data_cell[name=partner_name]",
        },
        {
            content: "Open the other statements too, the synchronization's toast read",
            trigger: ".o_list_view .o_group_header.o_group_open",
            run() {
                document.querySelectorAll(".o_notification_close").forEach((close) => close.click());
                document.querySelectorAll(".o_group_header:not(.o_group_open)").forEach((group) => group.click());
            },
        },
        screenshot("accountant_bank_transactions_list", "body:not(:has(.o_notification)) .o_group_header:last.o_group_open"),
        {
            content: "Open a transaction",
            trigger: ".o_data_row .o_data_cell[name=payment_ref]",
            run: "click",
        },
        {
            content: "The bank's data is not editable",
            trigger: ".o_form_view .o_field_widget[name=amount]:not(:has(input))",
        },
        {
            content: "The partner is",
            trigger: ".o_form_view .o_field_widget[name=partner_id] input",
        },
        {
            content: "Show the bank's raw data",
            trigger: ".o_notebook .nav-link:contains(Bank Data)",
            run: "click",
        },
        {
            content: "Shown as a table of the bank's fields",
            trigger: ".o_online_transaction_details th:contains(amount)",
            run() {
                this.anchor.scrollIntoView({ block: "center" });
            },
        },
        screenshot("accountant_bank_transaction_form"),
    ],
});

registry.category("web_tour.tours").add("online_sync_aggregator_settings", {
    url: "/odoo/action-account_online_synchronization.action_online_provider_config",
    steps: () => [
        {
            content: "Open the aggregator's settings",
            trigger: ".o_data_row .o_data_cell[name=provider]:contains(Plaid)",
            run: "click",
        },
        {
            content: "Named after the aggregator",
            trigger: ".o_breadcrumb .active:contains(Plaid)",
        },
        {
            content: "It says what is still missing",
            trigger: ".alert-info:contains(Plaid still needs: Secret)",
        },
        {
            content: "and where the keys are",
            trigger: ".o_online_keys_help a[href='https://dashboard.plaid.com/developers/keys']",
        },
        screenshot("admin_aggregator_settings_incomplete"),
        {
            content: "Type the secret",
            trigger: ".o_field_widget[name=client_secret] input",
            run: "edit tour-plaid-secret",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Complete: the banner is gone",
            trigger: ".o_form_saved .o_field_widget[name=client_secret] + .badge:contains(Set)",
        },
        {
            trigger: "body:not(:has(.alert-info:contains(still needs)))",
        },
        {
            content: "Test the connection",
            trigger: "button[name=action_test_connection]",
            run: "click",
        },
        {
            content: "The aggregator accepted the settings",
            trigger: ".o_notification:has(.bg-success):contains(Plaid accepted these settings)",
        },
        screenshot("admin_aggregator_settings_tested"),
    ],
});

registry.category("web_tour.tours").add("online_sync_accounting_settings", {
    url: "/odoo/action-account.action_account_config",
    steps: () => [
        {
            content: "The Accounting settings have a Bank Synchronization section with the schedule",
            trigger: "#online_sync_schedule .o_field_widget[name=online_sync_schedule]:contains(Every 12 hours)",
            run() {
                const section = this.anchor.closest(".o_settings_container");
                (section.previousElementSibling || section).scrollIntoView({ block: "start" });
            },
        },
        {
            content: "and where the encryption key is kept",
            trigger: "#online_sync_encryption_key .o_field_widget[name=online_sync_key_status]:contains(Kept in the database)",
        },
        screenshot("admin_accounting_settings"),
        {
            content: "The section leads to the Aggregator Settings",
            trigger: "#online_sync_aggregators button:contains(Aggregator Settings)",
            run: "click",
        },
        {
            trigger: ".o_breadcrumb .active:contains(Aggregator Settings)",
        },
    ],
});
