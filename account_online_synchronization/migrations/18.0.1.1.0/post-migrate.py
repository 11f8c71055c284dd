"""Upgrade: disconnect the connections of the former synchronization (account_online_sync), if any."""
from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["online.link"]._migrate_legacy_connections()
