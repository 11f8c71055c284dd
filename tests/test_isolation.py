"""A user acts only in the companies selected in the company switcher, and gets back only what they may read."""
from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from online_sync_case import TEST_PHONE, OnlineSyncCase, choose_bank
from rpc_case import RpcCase


class TestCompanyOverRpc(RpcCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.two_companies = cls.other_company | cls.company
        cls.manager_of_both = cls.user("rpc_manager_both", "account.group_account_manager,account.group_account_user",
                                       companies=cls.two_companies)
        # The other company's connection, with the IBANs and balances an attacker is after.
        wizard = cls.env["online.link.connect"].with_company(cls.other_company).create({"phone": TEST_PHONE})
        choose_bank(wizard, "sandbox_bank").action_connect()
        cls.their_link = wizard.link_id
        cls.institution = wizard.institution_id

    def test_a_manager_cannot_connect_a_bank_for_another_company(self):
        self.login(self.manager)
        message = self.assertRefused("AccessError", "online.link.connect", "create", {
            "company_id": self.other_company.id, "institution_id": self.institution.id, "phone": TEST_PHONE,
        })
        self.assertIn(f"#{self.other_company.id}", message, "the refusal names no company the user is not in")
        self.assertEqual(self.env["online.link"].search_count([("company_id", "=", self.other_company.id)]), 1)

    def test_a_company_of_the_user_must_be_selected(self):
        self.login(self.manager_of_both)
        self.assertRefused("AccessError", "online.link.connect", "create", {"company_id": self.other_company.id},
                           companies=self.company)
        wizard_id = self.call_kw("online.link.connect", "create", {
            "company_id": self.other_company.id, "institution_id": self.institution.id,
        }, companies=self.two_companies)
        self.call_kw("online.link.connect", "action_connect", [wizard_id], companies=self.two_companies)
        wizard = self.env["online.link.connect"].browse(wizard_id)
        self.assertEqual(wizard.link_id.company_id, self.other_company)
        self.assertEqual(wizard.link_id.message_ids[0].author_id, self.manager_of_both.partner_id)

    def test_the_wizard_lines_do_not_reveal_another_company_accounts(self):
        self.login(self.manager)
        wizard_id = self.call_kw("online.link.connect", "create", {})
        theirs = self.their_link.account_ids[0]
        self.assertRefused("AccessError", "online.link.connect", "write", [wizard_id], {
            "account_line_ids": [Command.create({"online_account_id": theirs.id})],
        })
        self.assertRefused("AccessError", "online.link.connect", "write", [wizard_id], {"link_id": self.their_link.id})
        lines = self.call_kw("online.link.connect.account", "search_read", [], ["account_number", "balance"])
        self.assertFalse(lines, "no line of the wizard lists their accounts")

    def test_a_manager_cannot_reactivate_another_company(self):
        self.other_company._online_sync_block("a test")
        self.login(self.manager)
        self.assertRefused("AccessError", "online.sync.reactivate", "create", {"company_id": self.other_company.id})


@tagged("post_install", "-at_install", "online_sync")
class TestCompanyInCode(OnlineSyncCase):
    """The entry points that take a company, called as the user's code would."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.env["res.company"].create({"name": "Other Company", "currency_id": cls.company.currency_id.id})
        cls.manager = new_test_user(cls.env, "iso_manager", groups="account.group_account_manager")
        cls.other_manager = new_test_user(cls.env, "iso_other", groups="account.group_account_manager",
                                          company_id=cls.other.id, company_ids=[Command.set(cls.other.ids)])
        cls.env["online.institution"]._refresh_from_provider("sandbox")
        cls.institution = cls.env["online.institution"].search([("identifier", "=", "sandbox_bank")])

    def test_consent_start_refuses_a_foreign_company_and_returns_no_superuser_record(self):
        consents = self.env["online.link.consent"].with_user(self.manager)
        with self.assertRaises(AccessError):
            consents._begin("sandbox", self.other, institution=self.institution)
        consent, _url = consents._begin("sandbox", self.company, institution=self.institution)
        self.assertFalse(consent.env.su, "the consent comes back with the caller's rights")
        with self.assertRaisesRegex(UserError, "started by another user"):
            consent.with_user(self.other_manager)._finish({})
        link = consent._finish({})
        self.assertFalse(link.env.su, "the new connection comes back with the caller's rights")
        self.assertEqual(link.company_id, self.company)

    def test_renewing_another_company_connection_is_refused(self):
        link = self.connect()
        with self.assertRaises(AccessError):
            link.with_user(self.other_manager).action_reconnect()
        with self.assertRaises(AccessError):
            self.env["online.link.consent"].with_user(self.other_manager)._begin(
                "sandbox", self.other, link=link.with_user(self.other_manager), mode="renew")

    def test_reactivation_is_opened_for_the_user_companies_only(self):
        self.other._online_sync_block("a test")
        with self.assertRaises(AccessError):
            self.env["online.sync.reactivate"].with_user(self.manager)._open_for(self.other)
