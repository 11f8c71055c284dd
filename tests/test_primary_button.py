"""One highlighted button at a time: in each state of a record, its form shows at most one primary button,
the next action the user is expected to take.

The buttons a user sees are those of the view Odoo sends him (``get_views`` drops the buttons of groups he is
not in), minus those whose ``invisible`` expression is true for the record's values.
"""
from datetime import timedelta

from lxml import etree

from odoo import fields
from odoo.tests import new_test_user, tagged
from odoo.tools.safe_eval import safe_eval
from odoo.tools.view_validation import get_expression_field_names

from online_sync_case import TEST_PHONE, OnlineSyncCase, choose_bank

PRIMARY = ("btn-primary", "oe_highlight")


def visible_buttons(record, view_type="form", where=("header", "footer")):
    """(label, primary) of the buttons of ``record``'s ``where`` parts that its user sees in its state."""
    arch = record.get_views([(False, view_type)])["views"][view_type]["arch"]
    buttons = [button for part in etree.fromstring(arch).iter(*where) for button in part.iter("button")]
    names = set()
    for button in buttons:
        names |= get_expression_field_names(button.get("invisible") or "False") - {"context", "uid"}
    values = record.read(sorted(names))[0] if record else {}
    values = {name: value[0] if isinstance(value, tuple) else value for name, value in values.items()}
    shown = []
    for button in buttons:
        if not safe_eval(button.get("invisible") or "False", dict(values, context={}, uid=record.env.uid)):
            classes = (button.get("class") or "").split()
            shown.append((button.get("string"), any(cls in PRIMARY for cls in classes)))
    return shown


@tagged("post_install", "-at_install", "online_sync")
class TestPrimaryButton(OnlineSyncCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(cls.env, "primary_manager",
                                    groups="account.group_account_manager,account.group_account_user")
        cls.accountant = new_test_user(cls.env, "primary_accountant", groups="account.group_account_user")

    def assertPrimary(self, record, expected, **kwargs):
        """``record`` shows at most one primary button, ``expected`` (None: none)."""
        shown = visible_buttons(record, **kwargs)
        primaries = [label for label, primary in shown if primary]
        self.assertLessEqual(len(primaries), 1, f"{record}: {shown}")
        self.assertEqual(primaries[0] if primaries else None, expected, f"{record}: {shown}")
        return [label for label, _primary in shown]

    def open_dialog(self, action):
        """The dialog record ``action`` opens, created as the web client does."""
        return self.env[action["res_model"]].with_user(self.accountant).with_context(action["context"]).create({})

    def fail_unattended(self, link, scenario):
        link.sandbox_scenario = scenario
        self.env["online.link"]._cron_fetch_online_transactions()

    def test_the_connection_highlights_its_next_action_in_each_state(self):
        wizard = self.env["online.link.connect"].create({"phone": TEST_PHONE})
        choose_bank(wizard, "sandbox_bank").action_connect()
        abandoned = wizard.link_id
        self.assertPrimary(abandoned.with_user(self.manager), "Link Accounts")
        self.assertPrimary(abandoned.with_user(self.accountant), None)

        link = self.connect()
        shown = self.assertPrimary(link.with_user(self.manager), "Fetch Transactions")
        self.assertIn("Fetch Accounts", shown)
        self.assertNotIn("Reconnect", shown, "a working consent is not renewed")
        self.assertPrimary(link.with_user(self.accountant), "Fetch Transactions")

        link.sudo().consent_expiry = fields.Datetime.now() + timedelta(days=3)
        shown = self.assertPrimary(link.with_user(self.manager), "Fetch Transactions")
        self.assertIn("Reconnect", shown, "a consent ending soon may be renewed before it ends")

        self.fail_unattended(link, "consent_expired")
        self.assertEqual((link.state, link.error_code), ("action_required", "reauth_required"))
        shown = self.assertPrimary(link.with_user(self.manager), "Reconnect")
        self.assertIn("Fetch Transactions", shown)
        self.assertPrimary(link.with_user(self.accountant), None)
        link.action_reconnect()
        self.assertPrimary(link.with_user(self.manager), "Fetch Transactions")

        self.fail_unattended(link, "mfa")
        self.assertEqual((link.state, link.error_code), ("action_required", "mfa_required"))
        self.assertPrimary(link.with_user(self.accountant), "Fetch Transactions")
        self.assertPrimary(link.with_user(self.manager), "Fetch Transactions")
        # A bank taking the code on the aggregator's page only: that page is the next step.
        link.sudo().error_needs_manager = True
        self.assertPrimary(link.with_user(self.manager), "Update Credentials")

        link.sandbox_scenario = "normal"
        link.action_fetch_transactions()
        self.fail_unattended(link, "down")
        self.assertEqual(link.state, "retrying")
        self.assertPrimary(link.with_user(self.manager), "Fetch Transactions")

        link.action_disconnect()
        self.assertPrimary(link.with_user(self.manager), None)

    def test_the_connections_list_has_one_highlighted_button(self):
        self.assertPrimary(self.env["online.link"].with_user(self.manager), "Add a Bank Account", view_type="list")

    def test_dialogs_highlight_their_next_step(self):
        wizard = self.env["online.link.connect"].with_user(self.manager).create({"phone": TEST_PHONE})
        self.assertPrimary(wizard, None)  # the next step is picking a bank in the list
        choose_bank(wizard, "sandbox_bank").action_connect()
        self.assertPrimary(wizard, "Link and Synchronize")

        reactivation = self.env["online.sync.reactivate"].with_user(self.manager).create({})
        self.assertPrimary(reactivation, "Confirm")
        reactivation.sudo().code_sent = True
        self.assertPrimary(reactivation, "Reactivate")

        account = self.connect().account_ids.filtered("journal_id")
        journal = account.journal_id.with_user(self.accountant)
        missing = self.open_dialog(journal.action_find_missing_transactions())
        self.assertPrimary(missing, "Ask the Bank")
        missing.action_search()
        self.assertPrimary(missing, None)  # the bank and the journal agree: nothing to import

        duplicates = self.open_dialog(journal.action_find_duplicate_transactions())
        self.assertPrimary(duplicates, "Search")
        duplicates.action_search()
        self.assertPrimary(duplicates, None)

    def test_aggregator_settings_have_one_highlighted_button(self):
        admin = new_test_user(self.env, "primary_admin", groups="base.group_system,account.group_account_manager")
        config = self.env["online.provider.config"].with_user(admin).create({"provider": "plaid"})
        self.assertPrimary(config, "Test Connection")
