"""Encryption of the secrets stored by the online synchronization (aggregator tokens, application secrets).

The key comes from the Odoo server configuration file (``online_sync_encryption_key``); keys
listed in ``online_sync_encryption_previous_keys`` still decrypt, so that the key can be rotated.
Without the option, a key generated once is kept in the database (``ir.config_parameter``).
"""
import json
import logging
import re

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.tools import SQL, config
from odoo.tools.sql import column_exists

_logger = logging.getLogger(__name__)

CONFIG_KEY = "online_sync_encryption_key"
CONFIG_PREVIOUS_KEYS = "online_sync_encryption_previous_keys"
DATABASE_KEY_PARAM = "account_online_synchronization.encryption_key"
#: Shorter strings (flags, counts, codes) are not treated as secrets when masking texts.
MIN_SECRET_LENGTH = 8
#: Keys of the connection tokens whose values are secrets (the others are ids, names, dates...).
SECRET_TOKEN_KEY = re.compile(r"token|secret|access|refresh|verifier|session|password|key|code", re.IGNORECASE)
#: A run this long of a secret's first characters is masked too (an aggregator may echo it truncated).
MIN_PREFIX_LENGTH = 16
MASK = "********"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
#: Characters that would let a text start a line of its own in the server log (line breaks and controls).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")

_database_key_warned = False


class EncryptionKeyError(UserError):
    """No configured key decrypts a stored secret, or a configured key is not a valid key."""


class OnlineSyncSecret(models.AbstractModel):
    """Encrypts the secret fields of the models inheriting it, listed in ``_secret_fields``."""

    _name = "online.sync.secret"
    _description = "Encrypted Online Synchronization Secrets"

    #: Encrypted field name -> column that held the value in clear before encryption (None if none).
    _secret_fields = {}

    # keys --------------------------------------------------------------------

    @api.model
    def _encryption_keys(self):
        """The keys to try, the one encrypting first."""
        current = config.get(CONFIG_KEY)
        database_key = self.env["ir.config_parameter"].sudo().get_param(DATABASE_KEY_PARAM)
        if not current:
            current = database_key or self._create_database_key()
            self._warn_database_key()
            database_key = None
        previous = [key.strip() for key in (config.get(CONFIG_PREVIOUS_KEYS) or "").split(",") if key.strip()]
        # After moving to a key in the configuration file, the database key still decrypts until rotation.
        return [current, *previous, *([database_key] if database_key else [])]

    @api.model
    def _create_database_key(self):
        key = Fernet.generate_key().decode()
        self.env["ir.config_parameter"].sudo().set_param(DATABASE_KEY_PARAM, key)
        return key

    @api.model
    def _warn_database_key(self):
        global _database_key_warned  # noqa: PLW0603 - once per server process
        if not _database_key_warned:
            _database_key_warned = True
            _logger.warning(
                "Bank synchronization secrets are encrypted with a key stored in the database: set %s in the "
                "Odoo configuration file to keep the key out of the database (see the README, Secrets).", CONFIG_KEY,
            )

    @api.model
    def _fernet(self):
        try:
            return MultiFernet([Fernet(key) for key in self._encryption_keys()])
        except ValueError:
            raise EncryptionKeyError(_(
                "%(current)s or %(previous)s in the Odoo configuration file is not a valid key. Generate one with: "
                "python3 -c \"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())\"",
                current=CONFIG_KEY, previous=CONFIG_PREVIOUS_KEYS,
            )) from None

    @api.model
    def _key_changed_error(self):
        return EncryptionKeyError(_(
            "The bank synchronization secrets cannot be decrypted: the encryption key changed. Put the former key "
            "in %(previous)s in the Odoo configuration file, restart Odoo, and rotate the secrets "
            "(see the README, Secrets).", previous=CONFIG_PREVIOUS_KEYS,
        ))

    # encryption --------------------------------------------------------------

    @api.model
    def _encrypt(self, value):
        """Encrypt a JSON-serializable ``value`` with the current key; return the text to store."""
        return self._fernet().encrypt(json.dumps(value).encode()).decode()

    @api.model
    def _decrypt(self, text):
        """The value encrypted in ``text`` (None when empty); raise ``EncryptionKeyError`` when no key fits."""
        if not text:
            return None
        try:
            return json.loads(self._fernet().decrypt(text.encode()))
        except InvalidToken:
            raise self._key_changed_error() from None

    @api.model
    def _secret_models(self):
        """The models holding encrypted fields."""
        names = self.env.registry.descendants([self._name], "_inherit")
        return [self.env[name].sudo().with_context(active_test=False) for name in names if name != self._name]

    @api.model
    def _rotate_secrets(self):
        """Re-encrypt every stored secret with the current key; return how many were re-encrypted.

        Run it from ``odoo-bin shell`` after changing the key (README, Secrets);
        the key kept in the database, if any, is deleted once it is no longer the current key.
        """
        fernet = self._fernet()
        count = 0
        for model in self._secret_models():
            for field_name in model._secret_fields:
                for record in model.search([(field_name, "!=", False)]):
                    try:
                        record[field_name] = fernet.rotate(record[field_name].encode()).decode()
                    except InvalidToken:
                        raise self._key_changed_error() from None
                    count += 1
        if config.get(CONFIG_KEY):
            self.env["ir.config_parameter"].sudo().search([("key", "=", DATABASE_KEY_PARAM)]).unlink()
        _logger.info("Re-encrypted %s bank synchronization secrets with the current key", count)
        return count

    @api.model
    def _encrypt_clear_columns(self):
        """Encrypt the values of the columns that held secrets in clear, then drop those columns (upgrade)."""
        cr = self.env.cr
        for model in self._secret_models():
            for field_name, column in model._secret_fields.items():
                if not column or not column_exists(cr, model._table, column):
                    continue
                cr.execute(SQL("SELECT id, %s FROM %s", SQL.identifier(column), SQL.identifier(model._table)))
                for record_id, value in cr.fetchall():
                    if value:
                        model.browse(record_id)[field_name] = self._encrypt(value)
                model.flush_model([field_name])
                cr.execute(SQL("ALTER TABLE %s DROP COLUMN %s", SQL.identifier(model._table), SQL.identifier(column)))
                _logger.info("Encrypted the values of %s.%s", model._table, column)

    # masking -----------------------------------------------------------------

    @api.model
    def _scrub(self, text, *sources):
        """``text`` with the secrets of ``sources`` masked, on one line (it may end up in the server log).

        Sources are lists or strings of secrets, or token dicts whose values
        under keys naming a token, secret, key, session... are secrets.
        """
        if not text:
            return text
        text = single_line(text)
        for secret in sorted(set(self._secret_strings(sources)), key=len, reverse=True):
            text = _mask(text, secret)
        return text

    @api.model
    def _secret_strings(self, value, secret=True):
        if isinstance(value, dict):
            for key, item in value.items():
                yield from self._secret_strings(item, bool(SECRET_TOKEN_KEY.search(str(key))))
        elif isinstance(value, (list, tuple)):
            for item in value:
                yield from self._secret_strings(item, secret)
        elif secret and isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH and not ISO_DATE.match(value):
            yield value


def single_line(text):
    """``text`` with its line breaks and control characters replaced by spaces: it cannot forge a log line."""
    return CONTROL_CHARACTERS.sub(" ", text)


def _mask(text, secret):
    """Mask ``secret`` in ``text``, and runs of its first characters long enough to be a truncated copy."""
    if len(secret) <= MIN_PREFIX_LENGTH:
        return text.replace(secret, MASK)
    head = secret[:MIN_PREFIX_LENGTH]
    parts, start = [], 0
    while (found := text.find(head, start)) != -1:
        end = found + MIN_PREFIX_LENGTH
        while end < len(text) and end - found < len(secret) and text[end] == secret[end - found]:
            end += 1
        parts.append(text[start:found] + MASK)
        start = end
    return "".join(parts) + text[start:]
