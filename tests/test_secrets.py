"""Secrets at rest: aggregator tokens and application secrets are encrypted, write-only and never shown."""
import hashlib
import json
import logging

from cryptography.fernet import Fernet

from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL, config
from odoo.tools.sql import column_exists

from odoo.addons.account_online_synchronization.models import online_sync_secret
from odoo.addons.account_online_synchronization.models.online_sync_secret import (
    CONFIG_KEY,
    CONFIG_PREVIOUS_KEYS,
    DATABASE_KEY_PARAM,
    EncryptionKeyError,
)

from fakes.gocardless import FakeGoCardless
from online_sync_case import OnlineSyncCase, bank_posted_ids, click

PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIDazCCAlOgAwIBAgIUe3Q\n-----END CERTIFICATE-----\n"
APP_SECRET = "app-secret-7f3c9a1e5b"


def new_key():
    return Fernet.generate_key().decode()


class EncryptionKeys:
    """Sets the encryption options of the Odoo configuration file for one test, restored after it."""

    def setUp(self):
        super().setUp()
        for option in (CONFIG_KEY, CONFIG_PREVIOUS_KEYS):
            self.addCleanup(self.restore_option, option, config.options.get(option))

    @staticmethod
    def restore_option(option, value):
        if value is None:
            config.options.pop(option, None)
        else:
            config.options[option] = value

    @staticmethod
    def use_keys(current=None, *previous):
        """Configure ``current`` as the encryption key and ``previous`` as former keys (None: option absent)."""
        config.options.pop(CONFIG_KEY, None)
        config.options.pop(CONFIG_PREVIOUS_KEYS, None)
        if current:
            config.options[CONFIG_KEY] = current
        if previous:
            config.options[CONFIG_PREVIOUS_KEYS] = ", ".join(previous)

    def raw(self, records, column):
        """The values of ``column`` as PostgreSQL holds them."""
        records.flush_recordset()
        self.env.cr.execute(SQL("SELECT %s FROM %s WHERE id IN %s ORDER BY id", SQL.identifier(column),
                                SQL.identifier(records._table), tuple(records.ids)))
        return [row[0] for row in self.env.cr.fetchall()]

    def stored_secret_count(self):
        """How many secrets the database holds, committed ones of other connections included."""
        secret_models = self.env["online.sync.secret"]._secret_models()
        return sum(model.search_count([(name, "!=", False)]) for model in secret_models for name in model._secret_fields)

    def database_key(self):
        return self.env["ir.config_parameter"].sudo().get_param(DATABASE_KEY_PARAM)


@tagged("post_install", "-at_install", "online_sync")
class TestSecrets(EncryptionKeys, OnlineSyncCase):

    def create_config(self, env=None):
        return (env or self.env)["online.provider.config"].create({
            "provider": "saltedge", "client_id": "app-id", "client_secret": APP_SECRET,
            "certificate": PEM_CERTIFICATE, "private_key": PEM_KEY,
        })

    def test_tokens_are_encrypted_with_the_configured_key_and_sync_still_works(self):
        key = new_key()
        self.use_keys(key)
        database_key = self.database_key()  # set when other connections were committed without a configured key
        link = self.connect()
        tokens = link._get_tokens()
        self.assertTrue(tokens["access_token"])
        [stored] = self.raw(link, "provider_tokens_encrypted")
        self.assertNotIn(tokens["access_token"], stored)
        self.assertNotIn("access_token", stored)
        self.assertEqual(json.loads(Fernet(key).decrypt(stored.encode())), tokens)
        self.assertEqual(self.database_key(), database_key,
                         "a key in the configuration file keeps the key out of the database")

        account = link.account_ids.filtered("journal_id")
        self.assertTrue(self.lines_of(account))
        self.assertEqual(link.action_fetch_transactions()["params"]["type"], "success")
        self.assertImportedExactly(account, bank_posted_ids(link, account, account.first_sync_date))

    def test_without_configured_key_one_is_kept_in_the_database_until_one_is_configured(self):
        self.use_keys(None)
        self.patch(online_sync_secret, "_database_key_warned", False)
        with self.assertLogs("odoo.addons.account_online_synchronization", "WARNING") as logs:
            link = self.connect()
        self.assertIn(CONFIG_KEY, "\n".join(logs.output), "the admin is told the key lives in the database")
        database_key = self.database_key()
        self.assertTrue(database_key)
        [stored] = self.raw(link, "provider_tokens_encrypted")
        self.assertEqual(json.loads(Fernet(database_key).decrypt(stored.encode())), link._get_tokens())
        with self.assertNoLogs("odoo.addons.account_online_synchronization.models.online_sync_secret", "WARNING"):
            second = self.connect(institution="sandbox_manual")
        self.assertEqual(self.database_key(), database_key, "the key is generated once")

        # Moving to a key in the configuration file: the database key still decrypts until rotation.
        key = new_key()
        self.use_keys(key)
        tokens = link._get_tokens()
        self.assertEqual(self.env["online.sync.secret"]._rotate_secrets(), self.stored_secret_count())
        self.assertFalse(self.database_key(), "the rotation deletes the key kept in the database")
        self.assertEqual(link._get_tokens(), tokens)
        for stored in self.raw(link | second, "provider_tokens_encrypted"):
            Fernet(key).decrypt(stored.encode())

    def test_key_rotation(self):
        key_a, key_b = new_key(), new_key()
        self.use_keys(key_a)
        link = self.connect()
        self.create_config()
        consent = self.env["online.link.consent"].sudo().create({
            "state_token_hash": "0" * 64, "user_id": self.env.uid, "company_id": self.company.id,
            "provider": "saltedge", "mode": "new",
            "pending_encrypted": self.env["online.sync.secret"]._encrypt({"code_verifier": "verifier-123456789"}),
        })
        tokens = link._get_tokens()
        secrets_model = self.env["online.sync.secret"]

        def everything_reads():
            self.assertEqual(link._get_tokens(), tokens)
            self.assertEqual(self.env["online.provider.config"]._get_for("saltedge", self.company)["private_key"],
                             PEM_KEY)
            self.assertEqual(secrets_model._decrypt(consent.pending_encrypted), {"code_verifier": "verifier-123456789"})

        # The key changed without keeping the former one: a clear error, nothing read with a wrong key.
        self.use_keys(key_b)
        for call in (link._get_tokens, link.action_fetch_transactions, secrets_model._rotate_secrets):
            with self.assertRaises(EncryptionKeyError) as caught:
                call()
            self.assertIn(CONFIG_PREVIOUS_KEYS, str(caught.exception))

        # The new key encrypts; the former one still decrypts.
        self.use_keys(key_b, key_a)
        everything_reads()
        stored = self.raw(link, "provider_tokens_encrypted")
        expected = self.stored_secret_count()
        self.assertGreaterEqual(expected, 5, "the link's tokens, 3 settings and the consent")
        self.assertEqual(secrets_model._rotate_secrets(), expected)
        self.assertNotEqual(self.raw(link, "provider_tokens_encrypted"), stored)

        # Once rotated, the former key can go.
        self.use_keys(key_b)
        everything_reads()
        self.assertEqual(link.action_fetch_transactions()["params"]["type"], "success")
        for stored in self.raw(link, "provider_tokens_encrypted") + self.raw(consent, "pending_encrypted"):
            Fernet(key_b).decrypt(stored.encode())

    def test_an_invalid_configured_key_is_reported(self):
        self.use_keys("not-a-fernet-key")
        with self.assertRaises(EncryptionKeyError) as caught:
            self.connect()
        self.assertIn("not a valid key", str(caught.exception))

    def test_application_secrets_are_write_only(self):
        self.use_keys(new_key())
        admin_env = self.env(user=self.env.ref("base.user_admin"))
        settings = self.create_config(admin_env)
        secret_fields = ("client_secret", "certificate", "private_key")

        [values] = settings.read([*secret_fields, "client_secret_set", "certificate_set", "private_key_set"])
        self.assertEqual([values[name] for name in secret_fields], [False] * 3)
        self.assertTrue(values["client_secret_set"] and values["certificate_set"] and values["private_key_set"])
        # What the form receives after saving the secrets, and any later read of every field.
        specification = {name: {} for name in settings.fields_get()}
        saved = admin_env["online.provider.config"].web_save(
            {"provider": "plaid", "client_id": "plaid-app", "client_secret": "typed-in-the-form-42"}, specification,
        )
        everything = json.dumps([saved, settings.web_read(specification), settings.fields_get()], default=str)
        markers = (APP_SECRET, "typed-in-the-form-42", "MIIDazCCAlOgAwIBAgIUe3Q", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC")
        for marker in markers:
            self.assertNotIn(marker, everything, "the web client never receives a secret")
        for column in ("client_secret_encrypted", "certificate_encrypted", "private_key_encrypted"):
            self.assertFalse(any(marker in self.raw(settings, column)[0] for marker in markers))

        # The connector gets them decrypted; an empty input keeps them, a new one replaces them.
        connector_config = self.env["online.provider.config"]._get_for("saltedge", self.company)
        self.assertEqual([connector_config[name] for name in secret_fields], [APP_SECRET, PEM_CERTIFICATE, PEM_KEY])
        settings.write({"client_secret": False, "client_id": "other-app"})
        self.assertEqual(self.env["online.provider.config"]._get_for("saltedge", self.company)["client_secret"],
                         APP_SECRET)
        settings.write({"client_secret": "new-secret-0123"})
        self.assertEqual(self.env["online.provider.config"]._get_for("saltedge", self.company)["client_secret"],
                         "new-secret-0123")

    def test_reading_and_exporting_as_admin_shows_no_secret(self):
        self.use_keys(new_key())
        admin_env = self.env(user=self.env.ref("base.user_admin"))
        link = self.connect().with_env(admin_env)
        settings = self.create_config(admin_env)
        token = link._get_tokens()["access_token"]
        for records, secret in ((link, token), (settings, APP_SECRET)):
            fields = records.fields_get(attributes=["exportable", "store"])
            encrypted = [name for name in fields if name.endswith("_encrypted")]
            self.assertTrue(encrypted)
            self.assertFalse(any(fields[name]["exportable"] for name in encrypted), "not offered for export")
            dump = json.dumps(records.read(list(fields)), default=str)
            self.assertNotIn(secret, dump)
            exported = json.dumps(records.export_data(list(fields))["datas"], default=str)
            self.assertNotIn(secret, exported)

    def test_upgrade_encrypts_the_columns_held_in_clear(self):
        key = new_key()
        self.use_keys(key)
        link = self.env["online.link"].create({"name": "Old Bank"})
        settings = self.env["online.provider.config"].create({"provider": "plaid", "client_id": "app-id"})
        consent = self.env["online.link.consent"].sudo().create({
            "state_token_hash": "0" * 64, "user_id": self.env.uid, "company_id": self.company.id,
            "provider": "plaid", "mode": "new",
        })
        old_tokens = {"access_token": "access-sandbox-0123456789", "opened_on": "2026-01-05"}
        cr = self.env.cr
        # The columns of version 18.0.1.1.0, values in clear.
        cr.execute("ALTER TABLE online_link ADD COLUMN provider_tokens jsonb")
        cr.execute("ALTER TABLE online_provider_config ADD COLUMN client_secret varchar, ADD COLUMN private_key text")
        cr.execute("ALTER TABLE online_link_consent ADD COLUMN pending jsonb")
        cr.execute(SQL("UPDATE online_link SET provider_tokens = %s WHERE id = %s", json.dumps(old_tokens), link.id))
        cr.execute(SQL("UPDATE online_provider_config SET client_secret = %s WHERE id = %s", APP_SECRET, settings.id))
        cr.execute(SQL("UPDATE online_link_consent SET pending = %s WHERE id = %s",
                       json.dumps({"link_token": "link-sandbox-0123456789"}), consent.id))

        self.env["online.sync.secret"]._encrypt_clear_columns()

        for table, column in (("online_link", "provider_tokens"), ("online_provider_config", "client_secret"),
                              ("online_provider_config", "private_key"), ("online_link_consent", "pending")):
            self.assertFalse(column_exists(cr, table, column), f"{table}.{column} is dropped")
        self.assertEqual(link._get_tokens(), old_tokens)
        self.assertNotIn("access-sandbox", self.raw(link, "provider_tokens_encrypted")[0])
        config_values = self.env["online.provider.config"]._get_for("plaid", self.company)
        self.assertEqual(config_values["client_secret"], APP_SECRET)
        self.assertNotIn("private_key", config_values, "an empty column stays empty")
        self.assertEqual(self.env["online.sync.secret"]._decrypt(consent.pending_encrypted),
                         {"link_token": "link-sandbox-0123456789"})
        Fernet(key).decrypt(self.raw(settings, "client_secret_encrypted")[0].encode())


@tagged("post_install", "-at_install", "online_sync")
class TestSecretsAtAnAggregator(EncryptionKeys, TransactionCase):
    """Through the real GoCardless connector and a local fake of its API."""

    def setUp(self):
        super().setUp()
        self.use_keys(new_key())
        self.fake = FakeGoCardless().start()
        self.addCleanup(self.fake.stop)
        settings = self.fake.provider_config()
        self.env["online.provider.config"].create({
            "provider": "gocardless", "base_url": settings["base_url"], "client_id": settings["client_id"],
            "client_secret": settings["client_secret"],
        })
        self.env["online.institution"]._refresh_from_provider("gocardless", country="BE")
        self.institution = self.env["online.institution"].search([
            ("provider", "=", "gocardless"), ("identifier", "=", self.fake.institution_id),
        ])

    def test_consent_stores_a_hash_of_its_state_and_encrypts_what_it_keeps(self):
        consent_model = self.env["online.link.consent"]
        consent, url = consent_model._begin("gocardless", self.env.company, institution=self.institution)
        pending = consent_model._decrypt(consent.pending_encrypted)
        self.assertTrue(pending["access"], "GoCardless keeps its access token between the consent and its callback")
        [stored_pending] = self.raw(consent, "pending_encrypted")
        self.assertNotIn(pending["access"], stored_pending)

        params = self.fake.consent(url)
        state = params["state"]
        [stored_hash] = self.raw(consent, "state_token_hash")
        self.assertEqual(stored_hash, hashlib.sha256(state.encode()).hexdigest())
        self.env.cr.execute(SQL("SELECT count(*) FROM online_link_consent WHERE state_token_hash = %s", state))
        self.assertEqual(self.env.cr.fetchone()[0], 0, "the state itself is stored nowhere")
        link = consent_model._from_callback(state)._finish(params)
        self.assertEqual(link.state, "connected")
        self.assertTrue(link.account_ids)

    def test_an_aggregator_error_echoing_secrets_leaves_no_trace(self):
        consent_model = self.env["online.link.consent"]
        consent, url = consent_model._begin("gocardless", self.env.company, institution=self.institution)
        params = self.fake.consent(url)
        link = consent_model._from_callback(params["state"])._finish(params)
        link.account_ids[:1]._link_to_journal()
        tokens = link._get_tokens()
        echoes = {
            "access token": (f"Invalid token {tokens['access']}", tokens["refresh"]),
            "application secret": (f"Key {self.fake.SECRET_KEY} is not allowed", tokens["access"]),
        }
        for what, (summary, request_id) in echoes.items():
            self.fake.fail_next(400, body={"summary": summary, "detail": summary, "status_code": 400},
                                headers={"X-Request-Id": request_id}, path="/transactions/")
            with self.assertLogs("odoo", logging.INFO) as logs:
                click(self.env, link.action_fetch_transactions)
            self.assertEqual(link.error_code, "provider_error", what)
            self.assertIn("GoCardless refused the request (HTTP 400)", link.error_message)
            logged = "\n".join(logs.output)
            self.assertIn(link.error_reference, logged)
            traces = {
                "logs": logged,
                "error message": link.error_message,
                "chatter": "\n".join(link.message_ids.mapped("body")),
            }
            for secret in (tokens["access"], tokens["refresh"], self.fake.SECRET_KEY):
                for place, text in traces.items():
                    # Aggregators cut their messages: a truncated copy is masked too.
                    self.assertNotIn(secret[:16], text, f"{what} echoed: found in the {place}")
        self.assertIn("********", link.error_message)
