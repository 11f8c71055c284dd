"""Suspicious activity blocks a company's bank synchronization; only its phone number reactivates it."""
from urllib.parse import urlencode

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.account_online_synchronization.models.online_link_consent import hash_state_token

from fakes.plaid import FakePlaid
from odoo_cli import odoo, odoo_shell, template_copy
from online_sync_case import TEST_PHONE, OnlineSyncCase

BLOCK_MESSAGE = "Bank synchronization of YourCompany is blocked"


def refusal(call, *args):
    """The message of the UserError ``call`` raises; the work done before the refusal is kept, as in production."""
    try:
        call(*args)
    except UserError as error:
        return error.args[0]
    raise AssertionError(f"{call.__name__} was not refused")


@tagged("post_install", "-at_install", "online_sync")
class TestBlockAndReactivate(OnlineSyncCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.name = "YourCompany"
        cls.manager = new_test_user(cls.env, "aos_guard_manager",
                                    groups="account.group_account_manager,account.group_account_user")
        cls.accountant = new_test_user(cls.env, "aos_guard_accountant", groups="account.group_account_user")

    def setUp(self):
        super().setUp()
        self.link = self.connect()
        self.journal = self.link.account_ids.journal_id

    def events(self, kind):
        return self.env["online.sync.event"].search([("company_id", "=", self.company.id), ("kind", "=", kind)])

    def test_sync_storm_blocks_every_connection_of_the_company(self):
        other_link = self.connect(institution="sandbox_manual")
        as_accountant = self.link.with_user(self.accountant)
        # The first synchronization ran when connecting; 30 per connection and hour are allowed (2 connections).
        for _attempt in range(58):
            as_accountant.action_fetch_transactions()
        self.assertFalse(self.company.online_sync_blocked)
        message = refusal(as_accountant.action_fetch_transactions)
        self.assertIn(BLOCK_MESSAGE, message)
        self.assertIn("synchronizations per connection", message)
        self.assertTrue(self.company.online_sync_blocked)
        for link in self.link | other_link:
            self.assertIn("is blocked", self.chatter(link)[0], "the block is explained on every connection")
        self.assertEqual(len(self.events("block")), 1, "the block is logged")

        # Nothing reaches the banks any more: no manual sync, no cron, no new connection, no consent renewal.
        self.assertIn(BLOCK_MESSAGE, refusal(self.journal.with_user(self.accountant).manual_sync))
        self.assertIn(BLOCK_MESSAGE, refusal(self.link.with_user(self.manager).action_reconnect))
        before = self.link.last_attempt
        self.env["online.link"]._cron_fetch_online_transactions()
        self.assertEqual(self.link.last_attempt, before, "the scheduler skips a blocked company")
        wizard = self.env["online.link.connect"].with_user(self.manager).create({})
        wizard.institution_id = self.env["online.institution"].search([("identifier", "=", "sandbox_bank")])
        self.assertIn(BLOCK_MESSAGE, refusal(wizard.action_connect))
        # Disconnecting stays possible: it only takes access away.
        other_link.with_user(self.manager).action_disconnect()
        self.assertEqual(other_link.state, "disconnected")
        # Once reactivated, the count starts afresh: the storm before does not block again.
        self.company._online_sync_reactivate("a test")
        self.assertEqual(self.journal.with_user(self.accountant).manual_sync()["params"]["type"], "success")
        self.assertFalse(self.company.online_sync_blocked)

    def test_repeated_invalid_credentials_block_the_company(self):
        with FakePlaid() as fake:
            config = fake.provider_config()
            self.env["online.provider.config"].sudo().create({
                "provider": "plaid", "company_id": self.company.id, "base_url": config["base_url"],
                "client_id": config["client_id"], "client_secret": "a-wrong-secret",
            })
            link = self.env["online.link"].create({"name": "Plaid Bank", "provider": "plaid"})
            link._set_tokens({"access_token": "access-sandbox-unknown"})
            for _attempt in range(10):
                link.with_user(self.manager).action_fetch_transactions()
            self.assertEqual(link.error_code, "invalid_configuration")
            self.assertFalse(self.company.online_sync_blocked)
            link.with_user(self.manager).action_fetch_transactions()
        self.assertTrue(self.company.online_sync_blocked)
        self.assertIn("rejected the credentials", self.company.online_sync_block_reason)
        self.assertIn("is blocked", self.chatter(link)[0])

    def block(self):
        self.company._online_sync_block("a test of the security")
        self.assertTrue(self.company.online_sync_blocked)

    def reactivation(self, user=None):
        action = self.link.with_user(user or self.manager).action_reactivate_synchronization()
        return self.env[action["res_model"]].with_user(user or self.manager).browse(action["res_id"])

    def test_reactivation_needs_the_phone_number_and_the_code_sent_by_sms(self):
        self.block()
        wizard = self.reactivation()
        wizard.phone = "+32 470 99 99 99"
        self.assertIn("not the phone number registered", refusal(wizard.action_confirm_phone))
        wizard.phone = "not a number"
        self.assertIn("not a valid phone number", refusal(wizard.action_confirm_phone))
        self.assertEqual(len(self.events("reactivation_refused")), 2, "failed attempts are logged")

        # The code sent by SMS and the reactivation: test_reactivation.py, through the SMS service's fake.
        wizard.phone = TEST_PHONE.replace(" ", "")
        self.assertIn("could not be sent by SMS", refusal(wizard.action_confirm_phone),
                      "without the SMS service (unreachable in tests), no code and no reactivation")
        self.assertTrue(self.company.online_sync_blocked, "the phone number alone is not enough with SMS")
        self.assertFalse(self.env["sms.sms"].sudo().search([]), "the text with the code is not kept")

    def test_only_an_accounting_manager_reactivates_and_guessing_is_limited(self):
        self.block()
        with self.assertRaises(UserError):
            self.link.with_user(self.accountant).action_reactivate_synchronization()
        with self.assertRaises(AccessError):
            self.env["online.sync.reactivate"].with_user(self.accountant).create({})
        wizard = self.reactivation()
        wizard.phone = "+32 470 99 99 99"
        for _attempt in range(5):
            refusal(wizard.action_confirm_phone)
        wizard.phone = TEST_PHONE
        self.assertIn("Too many failed attempts", refusal(wizard.action_confirm_phone))
        self.assertTrue(self.company.online_sync_blocked)

    def test_security_log_belongs_to_its_company(self):
        self.block()
        other = self.env["res.company"].create({"name": "Other Company"})
        other_manager = new_test_user(self.env, "aos_guard_other", groups="account.group_account_manager",
                                      company_id=other.id, company_ids=other.ids)
        self.assertEqual(self.env["online.sync.event"].with_user(self.manager).search([]).company_id, self.company)
        self.assertFalse(self.env["online.sync.event"].with_user(other_manager).search([]))
        with self.assertRaises(AccessError):
            self.env["online.sync.event"].with_user(self.accountant).search([])


@tagged("post_install", "-at_install", "online_sync")
class TestRefusedCallbacks(HttpCase):
    """Forged consent callbacks come back through Odoo's real HTTP server."""

    def callback(self, state):
        return self.url_open("/online_sync/callback?" + urlencode({"state": state, "code": "x"}),
                             allow_redirects=False)

    def test_a_burst_of_refused_callbacks_blocks_the_company(self):
        company = self.env.ref("base.main_company")
        company._online_sync_set_phone("+32470123456")
        link = self.env["online.link"].create({"name": "Sandbox Bank", "company_id": company.id})
        self.authenticate("admin", "admin")
        for attempt in range(5):
            self.assertEqual(self.callback(f"forged-{attempt}").status_code, 403)
        self.assertFalse(company.online_sync_blocked)
        self.assertEqual(self.callback("forged-5").status_code, 403)
        self.assertTrue(company.online_sync_blocked)
        self.assertIn("callbacks", company.online_sync_block_reason)
        self.assertIn("is blocked", link.message_ids[0].body)


    def test_only_a_consent_refusing_the_application_credentials_is_counted(self):
        company = self.env.ref("base.main_company")
        admin = self.env.ref("base.user_admin")
        consents = self.env["online.link.consent"].sudo()
        with FakePlaid() as fake:
            self.env["online.provider.config"].create({
                "provider": "plaid", "company_id": company.id, "base_url": fake.provider_config()["base_url"],
                "client_id": fake.provider_config()["client_id"], "client_secret": "a-wrong-secret",
            })
            for state, pending in (("a-consent-never-started-at-plaid", None),
                                   ("a-consent-plaid-refuses", {"link_token": "link-sandbox-0123"})):
                consents.create({
                    "state_token_hash": hash_state_token(state), "user_id": admin.id, "company_id": company.id,
                    "provider": "plaid", "mode": "new", "pending_encrypted": pending and consents._encrypt(pending),
                })
            self.authenticate("admin", "admin")
            response = self.callback("a-consent-never-started-at-plaid")
            self.assertEqual(response.status_code, 403)
            self.assertIn("not started from this database", response.text)
            events = self.env["online.sync.event"].search([("kind", "=", "invalid_credentials")])
            self.assertFalse(events, "a consent that failed for another reason is no security event")
            response = self.callback("a-consent-plaid-refuses")
        self.assertEqual(response.status_code, 403)
        event = self.env["online.sync.event"].search([("kind", "=", "invalid_credentials")])
        self.assertEqual(event.company_id, company)
        self.assertIn("INVALID_API_KEYS", event.detail)


UNINSTALL_SMS = """
env["ir.module.module"].search([("name", "=", "sms")]).button_immediate_uninstall()
env.cr.commit()
"""

WITHOUT_SMS = """
admin = env.ref("base.user_admin")
admin.groups_id += env.ref("account.group_account_manager")
env = env(user=admin)
company = env.company
company._online_sync_set_phone("+32470123456")
link = env["online.link"].sudo().create({"name": "Sandbox Bank"})
company._online_sync_block("a test of the security")
print("SMS MODULE", "sms.sms" in env)
wizard = env["online.sync.reactivate"].create({"company_id": company.id, "phone": "+32 470 12 34 56"})
wizard.action_confirm_phone()
print("BLOCKED", company.online_sync_blocked)
print("LOG", env["online.sync.event"].search([]).mapped("kind"))
env.cr.commit()
"""


def test_without_the_sms_module_the_phone_number_reactivates():
    # Odoo installs `sms` with mail; an administrator may uninstall it.
    with template_copy("guard") as database:
        odoo("-d", database, "-u", "account_online_synchronization", "--stop-after-init", "--no-http")
        odoo_shell(database, UNINSTALL_SMS)
        output = odoo_shell(database, WITHOUT_SMS)
    assert "SMS MODULE False" in output
    assert "BLOCKED False" in output, output
    assert "LOG ['reactivation', 'block']" in output, output
