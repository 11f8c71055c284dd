"""The journal's Bank field, filled from the connected account when the aggregator tells the number and the bank.

The sandbox bank gives whole IBANs and its BIC, as Enable Banking, GoCardless, Salt Edge and Ponto do; masked
numbers (Plaid, Yodlee) are in test_connect_journal.py.
"""
from odoo import Command
from odoo.tests import new_test_user, tagged

from odoo.addons.account_online_synchronization.providers.sandbox import SANDBOX_BIC

from online_sync_case import TEST_PHONE, OnlineSyncCase, choose_bank


@tagged("post_install", "-at_install", "online_sync")
class TestJournalBank(OnlineSyncCase):

    def connect_to(self, journal, institution="sandbox_bank"):
        """Connect ``journal`` from its card to ``institution``; return its online account."""
        context = journal.action_connect_bank()["context"]
        wizard = self.env["online.link.connect"].with_context(context).create({"phone": TEST_PHONE})
        choose_bank(wizard, institution).action_connect()
        wizard.action_confirm()
        return journal.online_account_id

    def eur_journal(self, name, code, **vals):
        self.env.ref("base.EUR").active = True
        return self.env["account.journal"].create(dict(
            vals, name=name, code=code, type="bank", currency_id=self.env.ref("base.EUR").id))

    def test_a_new_journal_gets_the_iban_and_the_bank(self):
        link = self.connect()
        account = link.account_ids.filtered("journal_id")
        bank_account = account.journal_id.bank_account_id
        self.assertEqual((bank_account.acc_number, bank_account.partner_id), (account.account_number,
                                                                             self.company.partner_id))
        self.assertTrue(account.account_number.startswith("BE"))
        bank = bank_account.bank_id
        self.assertEqual((bank.name, bank.bic, bank.country.code), ("Sandbox Bank", SANDBOX_BIC, "BE"))
        # Another connection to the same bank: the bank is found by its BIC, not created twice.
        other = self.connect_to(self.eur_journal("Second", "SEC"), "sandbox_short")
        self.assertEqual(other.journal_id.bank_id, bank)
        self.assertEqual(self.env["res.bank"].search_count([("bic", "=", SANDBOX_BIC)]), 1)

    def test_an_existing_bank_is_found_by_bic_then_by_name(self):
        # Browser tests commit the banks they connect: only this test's banks may be found.
        self.env["res.bank"].search([]).action_archive()
        known = self.env["res.bank"].create({"name": "SBX (our name for it)", "bic": SANDBOX_BIC})
        account = self.connect_to(self.eur_journal("Main", "MAIN"))
        self.assertEqual(account.journal_id.bank_id, known)

        known.write({"bic": False, "name": "Sandbox Neobank"})
        account = self.connect_to(self.eur_journal("Second", "SEC"), "sandbox_neobank")
        self.assertEqual(account.journal_id.bank_id, known, "found by name when none has the BIC")

        homonym = self.env["res.bank"].create({"name": "Sandbox Bank (3 months of history)", "bic": "OTHRFRPP"})
        account = self.connect_to(self.eur_journal("Third", "THI"), "sandbox_short")
        self.assertNotEqual(account.journal_id.bank_id, homonym, "a bank of that name with another BIC is another")
        self.assertEqual((account.journal_id.bank_id.bic, account.journal_id.bank_id.country.code),
                         (SANDBOX_BIC, "FR"))

    def test_a_known_company_bank_account_is_reused_unless_another_journal_holds_it(self):
        journal = self.eur_journal("Main", "MAIN")
        wizard = self.env["online.link.connect"].with_context(journal.action_connect_bank()["context"]).create(
            {"phone": TEST_PHONE})
        choose_bank(wizard, "sandbox_bank").action_connect()
        line = wizard.account_line_ids.filtered(lambda line: line.action == "existing")
        number = line.online_account_id.account_number
        known = self.env["res.partner.bank"].create({"acc_number": number, "partner_id": self.company.partner_id.id})
        wizard.action_confirm()
        self.assertEqual(journal.bank_account_id, known, "the company's account is not duplicated")
        self.assertEqual(known.bank_id.bic, SANDBOX_BIC, "and gets its bank")

    def test_the_bank_account_is_the_journal_companys(self):
        other = self.env["res.company"].create({"name": "Other Company", "currency_id": self.company.currency_id.id})
        self.env["account.chart.template"].try_loading("generic_coa", company=other, install_demo=False)
        user = new_test_user(self.env, "bank_other", groups="account.group_account_manager,base.group_user",
                             company_id=other.id, company_ids=[Command.set(other.ids)])
        link = self.connect(env=self.env(user=user, context={"allowed_company_ids": [other.id]}))
        journal = link.account_ids.journal_ids
        self.assertEqual(journal.company_id, other)
        self.assertEqual(journal.bank_account_id.partner_id, other.partner_id)
        self.assertEqual(journal.bank_account_id.bank_id.bic, SANDBOX_BIC)
