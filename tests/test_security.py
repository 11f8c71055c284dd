from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from online_sync_case import OnlineSyncCase


@tagged("post_install", "-at_install", "online_sync")
class TestAccess(OnlineSyncCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(cls.env, "aos_manager", groups="account.group_account_manager,base.group_user")
        cls.accountant = new_test_user(cls.env, "aos_accountant", groups="account.group_account_user,base.group_user")
        cls.employee = new_test_user(cls.env, "aos_employee", groups="base.group_user")

    def test_manager_connects_and_manages(self):
        link = self.connect(env=self.env(user=self.manager))
        self.assertEqual(link.state, "connected")
        link.with_user(self.manager).action_disconnect()
        self.assertEqual(link.state, "disconnected")

    def test_accountant_sees_and_synchronizes_but_does_not_manage(self):
        link = self.connect()
        as_accountant = link.with_user(self.accountant)
        self.assertEqual(as_accountant.name, "Sandbox Bank")
        journal = link.account_ids.filtered("journal_id").journal_id.with_user(self.accountant)
        self.assertEqual(journal.manual_sync()["params"]["type"], "success")
        as_accountant.action_fetch_transactions()
        for action in ("action_disconnect", "action_fetch_accounts", "action_update_credentials", "action_reconnect"):
            with self.assertRaises(UserError, msg=action):
                getattr(as_accountant, action)()
        with self.assertRaises(AccessError):
            self.env["online.link.connect"].with_user(self.accountant).create({})
        with self.assertRaises(AccessError):
            as_accountant.read(["provider_tokens"])

    def test_user_without_accounting_rights_sees_nothing(self):
        link = self.connect()
        with self.assertRaises(AccessError):
            link.with_user(self.employee).read(["name"])
        with self.assertRaises(AccessError):
            link.account_ids.with_user(self.employee).read(["name"])
        with self.assertRaises(AccessError):
            link.with_user(self.employee).action_fetch_transactions()

    def test_companies_are_isolated(self):
        other = self.env["res.company"].create({"name": "Other Company", "currency_id": self.company.currency_id.id})
        self.env["account.chart.template"].try_loading("generic_coa", company=other, install_demo=False)
        other_user = new_test_user(self.env, "aos_other", groups="account.group_account_manager,base.group_user",
                                   company_id=other.id, company_ids=[Command.set(other.ids)])
        mine = self.connect()
        theirs = self.connect(env=self.env(user=other_user, context={"allowed_company_ids": [other.id]}))
        self.assertEqual(theirs.company_id, other)
        self.assertEqual(theirs.account_ids.journal_id.company_id, other)
        visible = self.env["online.link"].with_user(other_user).search([])
        self.assertIn(theirs, visible)
        self.assertNotIn(mine, visible)
        self.assertFalse(self.env["online.account"].with_user(other_user).search([("id", "in", mine.account_ids.ids)]))
        with self.assertRaises(AccessError):
            mine.with_user(other_user).read(["name"])
        self.assertNotEqual(set(mine.account_ids.mapped("provider_account_id")),
                            set(theirs.account_ids.mapped("provider_account_id")))
