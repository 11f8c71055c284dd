"""Fields set by the synchronization cannot be written over RPC by any role; each role writes only its own."""
from datetime import timedelta

from odoo import fields

from online_sync_case import TEST_PHONE, choose_bank, click
from rpc_case import RpcCase

NOT_WRITABLE = {"id", "display_name"}


class TestProtectedFields(RpcCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        wizard = cls.env["online.link.connect"].create({"phone": TEST_PHONE})
        choose_bank(wizard, "sandbox_bank").action_connect()
        cls.link = wizard.link_id
        for line in wizard.account_line_ids:
            line.action = "new" if line.name == "Current Account" else "skip"
        wizard.first_sync_date = fields.Date.today() - timedelta(days=10)
        click(cls.env, wizard.action_confirm)
        cls.account = cls.link.account_ids.filtered("journal_id")
        cls.journal = cls.account.journal_id

    def sample(self, model, name):
        """A plausible value for ``name``, to show that the value does not matter: the field is refused."""
        field = self.env[model]._fields[name]
        return {
            "company_id": self.other_company.id, "state": "connected", "provider": "plaid",
            "online_sync_blocked": False, "balance": 1.0, "last_sync": fields.Date.to_string(fields.Date.today()),
        }.get(name, "x" if field.type in ("char", "text") else False)

    def assertOnlyWritable(self, user, model, record_id, allowed):
        """``user`` may write the fields in ``allowed`` of the record and none of the others."""
        self.login(user)
        thread = set(self.env["mail.thread"]._fields)
        for name, field in self.env[model]._fields.items():
            if name in NOT_WRITABLE or name in thread or name in allowed or field.compute and not field.inverse \
                    and not field.related:
                continue
            message = self.assertRefused("AccessError", model, "write", [record_id], {name: self.sample(model, name)})
            self.assertIn(field.string, message, f"{user.login} {model}.{name}: the refusal names the field")

    # online.link -------------------------------------------------------------------------

    def test_connection_fields_by_role(self):
        roles = ((self.accountant, {"auto_sync"}), (self.manager, {"auto_sync", "name", "sandbox_scenario"}),
                 (self.admin, {"auto_sync", "name", "sandbox_scenario"}))
        for user, allowed in roles:
            self.assertOnlyWritable(user, "online.link", self.link.id, allowed)
        self.assertEqual((self.link.state, self.link.company_id, self.link.provider),
                         ("connected", self.company, "sandbox"), "nothing was changed")
        self.login(self.accountant)
        self.call_kw("online.link", "write", [self.link.id], {"auto_sync": False})
        self.assertFalse(self.link.auto_sync, "accountants turn automatic synchronization on and off")
        self.login(self.manager)
        self.call_kw("online.link", "write", [self.link.id], {"name": "My Bank"})
        self.assertEqual(self.link.name, "My Bank")
        message = self.assertRefused("AccessError", "online.link", "create", {"name": "Forged", "provider": "plaid"})
        self.assertIn("Provider", message, "connections are made by the consent flow only")

    def test_bank_account_fields_by_role(self):
        self.assertOnlyWritable(self.accountant, "online.account", self.account.id, set())
        self.assertOnlyWritable(self.manager, "online.account", self.account.id, {"name", "first_sync_date", "balance_difference_note"})
        self.call_kw("online.account", "write", [self.account.id], {"first_sync_date": "2020-01-01"})
        self.assertEqual(str(self.account.first_sync_date), "2020-01-01")
        self.assertRefused("AccessError", "online.account", "create", {
            "name": "Forged", "link_id": self.link.id, "provider_account_id": "forged", "currency_id": 1,
        })

    # res.company, journals and statement lines -----------------------------------------

    def test_nobody_lifts_a_block_or_sets_the_phone_by_rpc(self):
        self.company._online_sync_block("a test")
        for user in (self.manager, self.admin):
            self.login(user)
            for name in ("online_sync_blocked", "online_sync_block_reason", "online_sync_phone_hint",
                         "online_sync_phone_hash", "online_sync_refused_at"):
                self.assertRefused("AccessError", "res.company", "write", [self.company.id], {name: False})
        self.assertTrue(self.company.online_sync_blocked)
        self.assertEqual(self.env["online.sync.event"].search([("kind", "=", "reactivation")]), 
                         self.env["online.sync.event"], "no reactivation happened")
        self.call_kw("res.company", "write", [self.company.id], {"report_footer": "Thank you"})
        self.assertIn("Thank you", self.company.report_footer, "the company's other fields stay editable")

    def test_journal_and_statement_line_online_fields(self):
        self.login(self.manager)
        for name in ("online_account_id", "online_link_id", "online_link_state", "online_last_refresh"):
            self.assertRefused("AccessError", "account.journal", "write", [self.journal.id], {name: False})
        self.assertEqual(self.journal.online_account_id, self.account)
        self.assertRefused("AccessError", "account.journal", "create", {
            "name": "Forged", "type": "bank", "code": "FORGE", "online_account_id": self.account.id,
        })
        self.call_kw("account.journal", "write", [self.journal.id], {"bank_statement_creation_groupby": "week"})
        self.assertEqual(self.journal.bank_statement_creation_groupby, "week")

        line = self.env["account.bank.statement.line"].search([("online_account_id", "=", self.account.id)], limit=1)
        self.assertTrue(line)
        for user in (self.accountant, self.manager):
            self.login(user)
            for name in ("online_transaction_identifier", "online_account_id"):
                self.assertRefused("AccessError", "account.bank.statement.line", "write", [line.id], {name: False})
            self.assertRefused("AccessError", "account.bank.statement.line", "create", {
                "journal_id": self.journal.id, "payment_ref": "Forged", "amount": 1.0,
                "online_transaction_identifier": "next-transaction-id", "online_account_id": self.account.id,
            })
        self.call_kw("account.bank.statement.line", "write", [line.id], {"payment_ref": "Renamed"})
        self.assertEqual(line.payment_ref, "Renamed", "the line's other fields stay editable")

    # settings, institutions, consents, log ------------------------------------------------

    def test_aggregator_settings(self):
        self.login(self.admin)
        config_id = self.call_kw("online.provider.config", "create", {
            "provider": "plaid", "company_id": self.company.id, "client_id": "client", "client_secret": "secret-1",
        })
        self.call_kw("online.provider.config", "write", [config_id], {"client_secret": "secret-2", "base_url": "x"})
        for name in ("provider", "company_id", "client_secret_encrypted", "private_key_encrypted"):
            self.assertRefused("AccessError", "online.provider.config", "write", [config_id],
                               {name: self.sample("online.provider.config", name)})
        self.assertRefused("AccessError", "online.provider.config", "create", {
            "provider": "ponto", "company_id": self.other_company.id,
        })
        self.login(self.manager)
        self.assertRefused("AccessError", "online.provider.config", "write", [config_id], {"client_id": "other"})

    def test_institutions_consents_and_security_log(self):
        institution = self.env["online.institution"].search([("identifier", "=", "sandbox_bank")])
        self.login(self.manager)
        for name, value in (("identifier", "another_bank"), ("provider", "plaid"), ("name", "Forged")):
            self.assertRefused("AccessError", "online.institution", "write", [institution.id], {name: value})
        self.assertRefused("AccessError", "online.institution", "create", {
            "provider": "sandbox", "identifier": "forged", "name": "Forged",
        })
        self.assertRefused("AccessError", "online.link.consent", "create", {
            "user_id": self.manager.id, "company_id": self.company.id, "provider": "sandbox", "mode": "new",
        })
        self.company._online_sync_block("a test")
        event = self.env["online.sync.event"].search([], limit=1)
        self.assertRefused("AccessError", "online.sync.event", "write", [event.id], {"detail": "forged"})
        self.assertRefused("AccessError", "online.sync.event", "unlink", [event.id])

    # wizards -----------------------------------------------------------------------------

    def test_wizard_fields(self):
        self.login(self.manager)
        wizard_id = self.call_kw("online.link.connect", "create", {})
        for name, value in (("link_id", self.link.id), ("step", "accounts"), ("company_id", self.company.id),
                            ("journal_id", self.journal.id)):
            self.assertRefused("AccessError", "online.link.connect", "write", [wizard_id], {name: value})
        self.assertRefused("AccessError", "online.link.connect.account", "create", {
            "wizard_id": wizard_id, "online_account_id": self.account.id,
        })
        self.assertRefused("AccessError", "online.link.connect", "write", [wizard_id], {
            "account_line_ids": [(0, 0, {"online_account_id": self.account.id})],
        })
        self.company._online_sync_block("a test")
        reactivation_id = self.call_kw("online.sync.reactivate", "create", {"company_id": self.company.id})
        for name, value in (("code_sent", True), ("code_digest", "0" * 64), ("code_expiry", "2099-01-01 00:00:00"),
                            ("company_id", self.company.id)):
            self.assertRefused("AccessError", "online.sync.reactivate", "write", [reactivation_id], {name: value})
        self.call_kw("online.sync.reactivate", "write", [reactivation_id], {"phone": TEST_PHONE})
