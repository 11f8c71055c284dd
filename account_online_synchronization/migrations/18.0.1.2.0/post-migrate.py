"""Upgrade: encrypt the secrets stored in clear (connection tokens, aggregator secrets, consents in progress)."""
from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["online.sync.secret"]._encrypt_clear_columns()
