"""The journal's bank account and bank, filled from what the aggregator tells of the account linked to it."""
import re

from odoo import fields, models
from odoo.addons.base.models.res_bank import sanitize_account_number
from odoo.tools import clean_context, escape_psql

#: What aggregators hide the digits of a number with ("xxxx4321", "**** 1234", "•••• 1234").
MASK = re.compile(r"[*•…]|[xX]{3,}")


class OnlineAccount(models.Model):
    _inherit = "online.account"

    bic = fields.Char(string="BIC", readonly=True, help="The identifier code of the bank holding the account.")
    number_masked = fields.Boolean(
        readonly=True, help="The aggregator gives only part of the account number, e.g. its last digits.",
    )

    def _full_account_number(self):
        """The account's number when the aggregator gave a whole one, else False."""
        self.ensure_one()
        number = self.account_number
        return number if number and not self.number_masked and not MASK.search(number) else False

    def _fill_journal_bank(self, journal):
        """Give ``journal`` the account's bank account and bank where it has none; what the user set is kept."""
        self.ensure_one()
        # Defaults meant for the dialog the user clicked in (its journal...) are not the bank account's.
        account = self.with_context(clean_context(self.env.context))
        # The company's own bank account and bank: managers may lack the contact-creation rights they need.
        journal = journal.sudo()
        number = account._full_account_number()
        if not journal.bank_account_id and number:
            journal.bank_account_id = account._company_bank_account(journal, number)
        if journal.bank_account_id and not journal.bank_account_id.bank_id:
            journal.bank_account_id.bank_id = account._institution_bank()

    def _company_bank_account(self, journal, number):
        """The bank account ``number`` of ``journal``'s company, created when unknown; none when another
        journal holds it or it is archived."""
        partner_banks = self.env["res.partner.bank"].sudo().with_context(active_test=False)
        partner = journal.company_id.partner_id
        known = partner_banks.search([
            ("sanitized_acc_number", "=", sanitize_account_number(number)), ("partner_id", "=", partner.id),
        ], limit=1)
        if known:
            return known if known.active and not known.journal_id else partner_banks
        return partner_banks.create({
            "acc_number": number, "partner_id": partner.id, "currency_id": journal.currency_id.id,
        })

    def _institution_bank(self):
        """The bank of the account's institution: found by BIC, else by name and country, else created."""
        link = self.link_id
        institution = self.env["online.institution"].sudo().search([
            ("provider", "=", link.provider), ("identifier", "=", link.institution_identifier),
        ], limit=1)
        bic = self.bic or institution.bic
        name = (institution.name or link.name).strip()
        country = self.env["res.country"].search([("code", "=", institution.country_code)], limit=1) \
            if institution.country_code else self.env["res.country"]
        banks = self.env["res.bank"].sudo()
        bank = bic and banks.search([("bic", "=ilike", bic)], limit=1)
        if not bank:
            domain = [("name", "=ilike", escape_psql(name))]
            if bic:
                domain.append(("bic", "=", False))  # a bank of that name with another BIC is another bank
            if country:
                domain.append(("country", "in", (country.id, False)))
            bank = banks.search(domain, limit=1)
        return bank or banks.create({"name": name, "bic": bic or False, "country": country.id})
