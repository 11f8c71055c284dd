/** @odoo-module */
/* A failing bank as the accountant and the administrator see it, from the Accounting dashboard. */
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";
import { onlyPrimary, STATUSBAR } from "@account_online_synchronization/../tests/tours/primary_button";

const tours = registry.category("web_tour.tours");
const CARD = ".o_kanban_record:has(.o_online_sync_status)";

/** Ask the test to take a screenshot of the page as it is now, and give it the time to. */
function screenshot(name) {
    return {
        content: `Screenshot ${name}`,
        trigger: "body",
        run: async () => {
            console.log(`online_sync_screenshot ${name}`);
            await new Promise((resolve) => setTimeout(resolve, 1000));
        },
    };
}

tours.add("online_sync_accountant_asks_administrator", {
    steps: () => [
        {
            content: "The card says whom to ask, not which button to click",
            trigger: `${CARD} .o_online_sync_warning:contains("ask an accounting administrator ("):contains("Status Admin")`,
        },
        {
            content: "The last successful synchronization stays next to the warning",
            trigger: `${CARD} .o_online_sync_last:contains("Last synchronization")`,
        },
        onlyPrimary(CARD, "Synchronize Now"),
        screenshot("accountant_dashboard_consent_ended"),
        {
            content: "Synchronize Now",
            trigger: `${CARD} button[name="manual_sync"]`,
            run: "click",
        },
        {
            content: "The toast gives the reference and whom to ask",
            trigger: '.o_notification:contains("OBS-"):contains("ask an accounting administrator ("):contains("Status Admin")',
        },
        screenshot("accountant_toast_consent_ended"),
        {
            content: "Open the connection from the warning",
            trigger: `${CARD} .o_online_sync_warning`,
            run: "click",
        },
        {
            content: "The form says whom to ask",
            trigger: '.o_online_link_problem:contains("ask an accounting administrator ("):contains("Status Admin")',
        },
        {
            content: "The accountant has no Reconnect button and is told of none",
            trigger: '.o_form_view:not(:has(button[name="action_reconnect"]))',
        },
        onlyPrimary(STATUSBAR),
        {
            content: "One message in the chatter, with the reference shown on the form",
            trigger: '.o-mail-Message:contains("Ask an accounting administrator ("):contains("Status Admin")',
            run() {
                const reference = document.querySelector('.o_online_link_problem [name="error_reference"]').textContent.trim();
                const told = [...document.querySelectorAll(".o-mail-Message")].filter(
                    (message) => message.textContent.includes("Ask an accounting administrator")
                );
                if (told.length !== 1 || !told[0].textContent.includes(reference)) {
                    console.error(`expected one message with reference ${reference}, got ${told.length}`);
                }
                told[0].scrollIntoView({ block: "center" });
            },
        },
        screenshot("accountant_connection_consent_ended"),
    ],
});

tours.add("online_sync_administrator_reconnects", {
    steps: () => [
        {
            content: "The administrator is told which button to click",
            trigger: `${CARD} .o_online_sync_warning:contains("click Reconnect")`,
        },
        onlyPrimary(CARD, "Synchronize Now"),
        screenshot("administrator_dashboard_consent_ended"),
        {
            content: "Open the connection",
            trigger: `${CARD} .o_online_sync_warning`,
            run: "click",
        },
        {
            content: "The consent shows as expired",
            trigger: '.o_field_widget[name="consent_status"]:contains("Expired")',
        },
        onlyPrimary(STATUSBAR, "Reconnect"),
        screenshot("administrator_connection_reconnect_next"),
        {
            content: "The administrator has an activity on the connection",
            trigger: '.o-mail-Activity:contains("Sandbox Bank: Your consent"):contains("for Status Admin")',
            run() {
                this.anchor.scrollIntoView({ block: "center" });
            },
        },
        screenshot("administrator_connection_consent_ended"),
        {
            content: "Reconnect",
            trigger: 'button[name="action_reconnect"]',
            run: "click",
        },
        {
            content: "The consent is renewed",
            trigger: '.o_notification:contains("Consent renewed")',
        },
        {
            content: "Connected again, the activity done with",
            trigger: '.o_statusbar_status button.o_arrow_button_current:contains("Connected")',
        },
        {
            trigger: '.o_form_view:not(:has(.o-mail-Activity)):not(:has(.o_online_link_problem:visible))',
        },
        onlyPrimary(STATUSBAR, "Fetch Transactions"),
        screenshot("administrator_connection_reconnected"),
    ],
});

tours.add("online_sync_bank_down_will_retry", {
    steps: () => [
        {
            content: "A bank outage is a warning with the time of the next try, not a red error",
            trigger: `${CARD} .o_online_sync_warning.text-warning:contains("will retry")`,
        },
        {
            trigger: `${CARD} .o_online_sync_last:contains("Last synchronization")`,
        },
        {
            trigger: `${CARD}:not(:has(.text-danger))`,
        },
        screenshot("accountant_dashboard_bank_down"),
        {
            content: "Open the connection",
            trigger: `${CARD} .o_online_sync_warning`,
            run: "click",
        },
        {
            content: "The connection will retry",
            trigger: '.o_statusbar_status button.o_arrow_button_current:contains("Will Retry")',
        },
        {
            trigger: '.o_online_link_problem:contains("will retry"):contains("Last successful synchronization")',
        },
        onlyPrimary(STATUSBAR, "Fetch Transactions"),
        screenshot("accountant_connection_bank_down"),
    ],
});

tours.add("online_sync_administrator_sets_security_code_scenario", {
    steps: () => [
        {
            content: "Make the sandbox bank ask for a security code",
            trigger: '.o_field_widget[name="sandbox_scenario"] select',
            run: "selectByLabel Security code required",
        },
        ...stepUtils.saveForm(),
        screenshot("administrator_security_code_scenario_set"),
    ],
});

tours.add("online_sync_accountant_answers_security_code", {
    steps: () => [
        {
            content: "The scheduled run met the security code: the accountant can answer it himself",
            trigger: `${CARD} .o_online_sync_warning:contains("security code: click Synchronize Now")`,
        },
        screenshot("accountant_dashboard_security_code"),
        {
            content: "Synchronize Now, present to answer the bank",
            trigger: `${CARD} button[name="manual_sync"]`,
            run: "click",
        },
        {
            trigger: '.o_notification:contains("Synchronization done")',
        },
        {
            content: "Works again",
            trigger: `${CARD}:not(:has(.o_online_sync_warning)) .o_online_sync_last`,
        },
        screenshot("accountant_dashboard_security_code_answered"),
    ],
});
