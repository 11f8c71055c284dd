"""Upgrade: keep only a hash and the last digits of each company's bank synchronization phone number."""
import logging

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.sql import column_exists

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not column_exists(cr, "res_company", "online_sync_phone"):
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    cr.execute(SQL("SELECT id, online_sync_phone FROM res_company WHERE online_sync_phone IS NOT NULL"))
    for company_id, number in cr.fetchall():
        try:
            env["res.company"].browse(company_id)._online_sync_set_phone(number)
        except UserError:
            # Not a valid number: the next bank connection of the company asks for one.
            _logger.warning("Company %s: its bank synchronization phone number is not valid and was dropped",
                            company_id)
    env["res.company"].flush_model()
    cr.execute(SQL("ALTER TABLE res_company DROP COLUMN online_sync_phone"))
