import { registry } from "@web/core/registry";
import { DIALOG_FOOTER, onlyPrimary, STATUSBAR } from "@account_online_synchronization/../tests/tours/primary_button";

const tours = registry.category("web_tour.tours");
const CARD = ".o_kanban_record:has(a[name=open_action]:contains('Tour Bank'))";
const RESULTS = ".modal .o_online_sync_results";

/** Save a screenshot of the screen as it is now (the test running the tour takes it). */
function screenshot(name) {
    return [
        {
            trigger: "body",
            run() {
                console.log(`online_sync_screenshot ${name}`);
            },
        },
        {
            trigger: "body",
            async run() {
                await new Promise((resolve) => setTimeout(resolve, 1500));
            },
        },
    ];
}

/** The search steps: type a name, see the banks found (and no longer ``absent``). */
function searchBanks(text, expected, absent) {
    return [
        {
            content: "Type the bank's name and confirm it",
            trigger: ".modal .o_online_sync_search_text input",
            async run(helpers) {
                await helpers.edit(text);
                this.anchor.dispatchEvent(new Event("change", { bubbles: true }));
            },
        },
        {
            content: `${expected} is listed, ${absent} no longer`,
            trigger: `${RESULTS}:not(:has(td[name=name]:contains('${absent}'))) tr.o_data_row td[name=name]:contains('${expected}')`,
        },
    ];
}

// The administrator connects the journal of a dashboard card to the sandbox bank, searching it first.
tours.add("online_sync_connect_from_card", {
    steps: () => [
        onlyPrimary(CARD, "Connect"),
        {
            content: "A bank journal without a connection offers Connect",
            trigger: `${CARD} button:contains('Connect')`,
            run: "click",
        },
        {
            content: "The dialog says which journal is connected",
            trigger: ".modal .alert-info:contains('Tour Bank')",
        },
        onlyPrimary(DIALOG_FOOTER),
        {
            content: "Demo banks are listed before any search, badged by aggregator",
            trigger: `${RESULTS} tr.o_data_row td[name=provider]:contains('Sandbox')`,
        },
        ...searchBanks("neobank", "Sandbox Neobank", "3 months"),
        {
            content: "Beta banks are marked",
            trigger: `${RESULTS} tr.o_data_row:has(td[name=name]:contains('Sandbox Neobank')) td[name=support]:contains('Beta')`,
        },
        ...screenshot("search_beta_bank"),
        ...searchBanks("sandbox bank", "Sandbox Bank", "Neobank"),
        {
            content: "The company's first connection asks a phone number",
            trigger: ".modal div[name=phone] input",
            run: "edit +32 470 12 34 56",
        },
        {
            content: "Connect the Sandbox Bank",
            trigger: `${RESULTS} tr.o_data_row:first:has(td[name=name]:contains('Sandbox Bank')) button[name=action_connect_bank]`,
            run: "click",
        },
        {
            content: "The journal of the card gets the account in its currency",
            trigger: ".modal div[name=account_line_ids] tr.o_data_row td[name=journal_id]:contains('Tour Bank')",
        },
        onlyPrimary(DIALOG_FOOTER, "Link and Synchronize"),
        ...screenshot("link_accounts_step"),
        {
            content: "Link and synchronize",
            trigger: ".modal button[name=action_confirm]",
            run: "click",
        },
        {
            content: "The connection is open, connected, importing in the background",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Connected')",
        },
        {
            trigger: ".o_form_view div[name=account_ids] td:contains('Tour Bank')",
        },
        onlyPrimary(STATUSBAR, "Fetch Transactions"),
        ...screenshot("connection_connected"),
    ],
});

// The search dialog from the Configuration menu, with a search that no field blocks.
tours.add("online_sync_add_bank_account_menu", {
    steps: () => [
        {
            content: "Open the Configuration menu",
            trigger: ".o_main_navbar button:contains('Configuration')",
            run: "click",
        },
        {
            content: "Only one Add a Bank Account",
            trigger: ".o-dropdown--menu:not(:has(.dropdown-item:contains('Add a Bank Account') ~ .dropdown-item:contains('Add a Bank Account'))) .dropdown-item:contains('Add a Bank Account')",
            run: "click",
        },
        {
            trigger: ".modal .modal-title:contains('Add a Bank Account')",
        },
        ...searchBanks("sandbox", "Sandbox Bank (3 months of history)", "No such bank"),
        {
            content: "The manual setup is still offered",
            trigger: ".modal footer button[name=action_setup_manually]",
        },
        ...screenshot("add_bank_account_search"),
        {
            trigger: ".modal footer button:contains('Cancel')",
            run: "click",
        },
    ],
});

// An accountant sees whom to ask, not a button leading to an access error.
tours.add("online_sync_accountant_card", {
    steps: () => [
        {
            trigger: `${CARD} .o_online_sync_ask_admin:contains('an accounting administrator can connect it')`,
        },
        {
            content: "Neither Connect nor Bank Setup",
            trigger: `${CARD}:not(:has(button:contains('Connect'))):not(:has(button:contains('Bank Setup')))`,
        },
        onlyPrimary(CARD, "Transactions"),
    ],
});

// A connection whose wizard was abandoned: it says so, and the administrator finishes it.
tours.add("online_sync_finish_abandoned", {
    steps: () => [
        {
            content: "The list does not show it as working",
            trigger: ".o_list_view tr.o_data_row:has(td[name=name]:contains('Sandbox Bank')) td[name=status]:contains('No Account Linked')",
        },
        {
            content: "No blank connection can be created: New is Add a Bank Account",
            trigger: ".o_control_panel:not(:has(.o_list_button_add)) button[name=action_add_bank_account]",
        },
        ...screenshot("connections_list"),
        {
            trigger: ".o_list_view tr.o_data_row td[name=name]:contains('Sandbox Bank')",
            run: "click",
        },
        {
            content: "The connection says no account is linked yet",
            trigger: ".o_form_view .o_online_sync_no_account:contains('No account linked yet')",
        },
        {
            trigger: ".o_form_view .o_online_sync_no_account button[name=action_remove]",
        },
        onlyPrimary(STATUSBAR, "Link Accounts"),
        ...screenshot("abandoned_connection_form"),
        {
            content: "Finish it: link its accounts",
            trigger: ".o_form_view .o_online_sync_no_account button[name=action_fetch_accounts]",
            run: "click",
        },
        {
            trigger: ".modal div[name=account_line_ids] tr.o_data_row",
        },
        {
            trigger: ".modal button[name=action_confirm]",
            run: "click",
        },
        {
            content: "Linked: the banner is gone",
            trigger: ".o_form_view:not(:has(.o_online_sync_no_account:visible)) .o_statusbar_status button.o_arrow_button_current:contains('Connected')",
        },
    ],
});

// The accountant reads the same banner, without the administrator's buttons.
tours.add("online_sync_accountant_abandoned", {
    steps: () => [
        {
            trigger: ".o_form_view .o_online_sync_no_account:contains('An accounting administrator can link its accounts or remove it')",
        },
        {
            trigger: ".o_form_view .o_online_sync_no_account:not(:has(button))",
        },
    ],
});

// The journal form connects the journal it shows.
tours.add("online_sync_connect_from_journal_form", {
    steps: () => [
        {
            trigger: ".o_form_view button[name=action_connect_bank]",
            run: "click",
        },
        {
            trigger: ".modal .alert-info:contains('Tour Bank')",
        },
        {
            trigger: `${RESULTS} tr.o_data_row td[name=name]:contains('Sandbox Bank')`,
        },
        ...screenshot("connect_from_journal_form"),
        {
            trigger: ".modal footer button:contains('Cancel')",
            run: "click",
        },
    ],
});
