"""Aggregator Settings: a name, what is still missing, where to find the keys, and Test Connection."""
from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from fakes.gocardless import FakeGoCardless
from fakes.plaid import FakePlaid


@tagged("post_install", "-at_install", "online_sync")
class TestProviderSettings(TransactionCase):

    def settings(self, fake, **overrides):
        config = dict(fake.provider_config(), **overrides)
        Config = self.env["online.provider.config"]
        return Config.create(dict(
            {key: value for key, value in config.items() if key in Config._fields},
            provider=fake.provider_code, company_id=self.env.company.id,
        ))

    def start(self, fake_class):
        fake = fake_class().start()
        self.addCleanup(fake.stop)
        return fake

    def test_named_after_the_aggregator_and_tells_what_is_missing(self):
        config = self.env["online.provider.config"].create({"provider": "plaid"})
        self.assertEqual(config.display_name, "Plaid")
        self.assertEqual(config.settings_help, "Plaid still needs: client_id, Secret")
        config.client_id = "abc"
        self.assertEqual(config.settings_help, "Plaid still needs: Secret")
        config.client_secret = "s3cret"
        self.assertFalse(config.settings_help, "the banner goes once both are set")
        self.assertIn('href="https://dashboard.plaid.com/developers/keys"', config.keys_help)

    def test_plaid_and_gocardless_accept_good_keys_and_refuse_bad_ones(self):
        for fake_class in (FakePlaid, FakeGoCardless):
            with self.subTest(fake=fake_class.__name__):
                fake = self.start(fake_class)
                config = self.settings(fake)
                result = config.action_test_connection()["params"]
                self.assertEqual(result["type"], "success", result["message"])
                self.assertRegex(result["message"], r"accepted these settings \(Sandbox\): [1-9]\d* banks offered")

                config.client_secret = "wrong-secret"
                result = config.action_test_connection()["params"]
                self.assertEqual(result["type"], "danger")
                self.assertIn("refused these settings", result["message"])
                self.assertNotIn("wrong-secret", result["message"], "a secret is never shown")
                config.unlink()

    def test_an_unreachable_aggregator_is_told_as_such(self):
        fake = self.start(FakePlaid)
        config = self.settings(fake)
        fake.stop()
        result = config.action_test_connection()["params"]
        self.assertEqual(result["type"], "warning")
        self.assertIn("cannot be reached right now", result["message"])

    def test_refused_to_non_administrators(self):
        fake = self.start(FakePlaid)
        config = self.settings(fake)
        manager = new_test_user(self.env, "aos_settings_manager",
                                groups="account.group_account_manager,base.group_user")
        requests_before = len(fake.requests)
        with self.assertRaises(AccessError):
            config.with_user(manager).action_test_connection()
        self.assertEqual(len(fake.requests), requests_before, "nothing is sent to the aggregator")

    def test_refused_in_a_neutralized_database(self):
        fake = self.start(FakePlaid)
        config = self.settings(fake)
        self.env["ir.config_parameter"].set_param("database.is_neutralized", True)
        requests_before = len(fake.requests)
        with self.assertRaisesRegex(UserError, "neutralized copy"):
            config.action_test_connection()
        self.assertEqual(len(fake.requests), requests_before, "nothing is sent to the aggregator")
