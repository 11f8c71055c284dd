"""Upgrade: keep only a hash and the last digits of each company's bank synchronization phone number."""
from odoo import SUPERUSER_ID, api
from odoo.tools import SQL
from odoo.tools.sql import column_exists


def migrate(cr, version):
    if not column_exists(cr, "res_company", "online_sync_phone"):
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    cr.execute(SQL("SELECT id, online_sync_phone FROM res_company WHERE online_sync_phone IS NOT NULL"))
    for company_id, number in cr.fetchall():
        env["res.company"].browse(company_id)._online_sync_set_phone(number)
    env["res.company"].flush_model()
    cr.execute(SQL("ALTER TABLE res_company DROP COLUMN online_sync_phone"))
