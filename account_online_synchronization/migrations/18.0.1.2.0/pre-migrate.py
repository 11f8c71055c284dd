"""Upgrade: keep the consents in progress, storing only the hash of their state token from now on."""
from odoo.tools.sql import column_exists, drop_index, make_index_name, rename_column


def migrate(cr, version):
    if not column_exists(cr, "online_link_consent", "state_token"):
        return
    rename_column(cr, "online_link_consent", "state_token", "state_token_hash")
    cr.execute("""
        UPDATE online_link_consent
           SET state_token_hash = encode(sha256(convert_to(state_token_hash, 'UTF8')), 'hex')
    """)
    drop_index(cr, make_index_name("online_link_consent", "state_token"), "online_link_consent")
