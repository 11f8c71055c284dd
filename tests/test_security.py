import secrets
from urllib.parse import urlencode

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.account_online_synchronization.models.online_link_consent import hash_state_token

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
            as_accountant.read(["provider_tokens_encrypted"])

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

    def test_accountant_does_not_see_the_aggregator_settings(self):
        self.env["online.provider.config"].create({"provider": "plaid", "client_id": "client"})
        with self.assertRaises(AccessError):
            self.env["online.provider.config"].with_user(self.accountant).search([])
        self.assertEqual(len(self.env["online.provider.config"].with_user(self.manager).search([])), 1,
                         "managers read the settings (only administrators edit them)")

    def test_no_one_synchronizes_another_company_connection(self):
        other = self.env["res.company"].create({"name": "Other Company", "currency_id": self.company.currency_id.id})
        other_manager = new_test_user(self.env, "aos_other_manager", company_id=other.id,
                                      company_ids=[Command.set(other.ids)],
                                      groups="account.group_account_manager,account.group_account_user")
        link = self.connect()
        journal = link.account_ids.journal_id
        for call in (link.with_user(other_manager).action_fetch_transactions,
                     journal.with_user(other_manager).manual_sync,
                     link.with_user(other_manager).action_disconnect):
            with self.assertRaises(AccessError, msg=call.__name__):
                call()
        self.assertEqual(link.state, "connected")

    def test_portal_and_public_users_get_nothing(self):
        link = self.connect()
        portal = new_test_user(self.env, "aos_portal", groups="base.group_portal")
        public = self.env.ref("base.public_user")
        for user in (portal, public):
            for model, records in (("online.link", link), ("online.account", link.account_ids),
                                   ("online.provider.config", None), ("online.sync.event", None),
                                   ("online.link.consent", None)):
                with self.assertRaises(AccessError, msg=f"{user.login} {model}"):
                    if records:
                        records.with_user(user).read(["id"])
                    else:
                        self.env[model].with_user(user).search([])


@tagged("post_install", "-at_install", "online_sync")
class TestCallbackAccess(HttpCase):
    """The consent callback checks the session, the user's company and the state token."""

    def callback(self, state):
        return self.url_open("/online_sync/callback?" + urlencode({"state": state, "code": "x"}),
                             allow_redirects=False)

    def consent_for(self, user, company):
        """A consent in progress as ``_begin`` stores it; return its clear state token."""
        state = secrets.token_urlsafe(32)
        consent = self.env["online.link.consent"].sudo().create({
            "state_token_hash": hash_state_token(state), "user_id": user.id, "company_id": company.id,
            "provider": "sandbox", "mode": "new",
        })
        self.assertTrue(consent)
        return state

    def test_anonymous_visitors_are_sent_to_the_login_page(self):
        response = self.callback("anything")
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])

    def test_portal_users_are_refused(self):
        new_test_user(self.env, "aos_portal_cb", password="aos_portal_cb", groups="base.group_portal")
        self.authenticate("aos_portal_cb", "aos_portal_cb")
        response = self.callback("anything")
        self.assertEqual(response.status_code, 403)
        self.assertIn("accountants only", response.text)

    def test_a_consent_of_a_company_the_user_left_is_refused(self):
        other = self.env["res.company"].create({"name": "Other Company"})
        user = new_test_user(self.env, "aos_cb_manager", password="aos_cb_manager",
                             groups="account.group_account_manager")
        state = self.consent_for(user, other)
        self.authenticate("aos_cb_manager", "aos_cb_manager")
        self.assertEqual(self.callback(state).status_code, 403, "the consent's company is not one of the user's")
        self.assertEqual(self.callback("forged").status_code, 403, "an unknown state token is refused")
