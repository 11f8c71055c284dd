"""Connect on a bank journal's card, through an aggregator that sends the browser away and back.

The journal chosen is kept with the consent in Odoo, not in the browser: when the user comes back through the
callback, the new connection's account in the journal's currency feeds that journal, not a new one; and the
journal's bank account and bank come from what the aggregator tells.
"""
from odoo.tests import HttpCase, tagged

from fakes.enable_banking import FakeEnableBanking
from fakes.gocardless import FakeGoCardless
from fakes.ponto import FakePonto
from fakes.saltedge import FakeSaltEdge
from fakes.yodlee import FakeYodlee
from online_sync_case import TEST_PHONE, run_queued_imports
from rpc_case import RpcCase
from test_aggregators import FIRST_SYNC, AggregatorSteps


class CardSteps(AggregatorSteps):

    def bank_journal(self, name, code, currency, company=None):
        self.env.ref(f"base.{currency}").sudo().active = True
        return self.env["account.journal"].sudo().create({
            "name": name, "code": code, "type": "bank", "currency_id": self.env.ref(f"base.{currency}").id,
            "company_id": (company or self.env.company).id,
        }).sudo(False)

    def connect_journal(self, journal):
        """Connect on ``journal``'s card, give consent on the aggregator's page, come back; return the connection."""
        self.authenticate("admin", "admin")
        self.go_through_consent(self.start_consent(journal))
        return self.env["online.link"].search([("provider", "=", self.fake.provider_code)], order="id desc", limit=1)


class CardJournalFlow(CardSteps):
    """Through an aggregator whose EUR account has a whole IBAN."""

    def test_the_journal_of_the_card_is_linked_on_return(self):
        journal = self.bank_journal("Card EUR", "CARD", "EUR")
        link = self.connect_journal(journal)
        account = journal.online_account_id
        self.assertEqual((account.link_id, account.currency_id.name), (link, "EUR"))
        self.assertFalse(journal.search_count([("online_account_id", "in", (link.account_ids - account).ids)]),
                         "no new journal for the other accounts")
        self.assertEqual(journal.bank_acc_number, account.account_number)
        institution = self.env["online.institution"].search([
            ("provider", "=", link.provider), ("identifier", "=", link.institution_identifier)])
        self.assertEqual(journal.bank_id.bic, account.bic or institution.bic or False)
        self.assertTrue(journal.bank_id.name)


@tagged("post_install", "-at_install", "online_sync")
class TestCardJournalSaltEdge(CardJournalFlow, HttpCase):
    fake_class = FakeSaltEdge


@tagged("post_install", "-at_install", "online_sync")
class TestCardJournalGoCardless(CardJournalFlow, HttpCase):
    fake_class = FakeGoCardless


@tagged("post_install", "-at_install", "online_sync")
class TestCardJournalPonto(CardJournalFlow, HttpCase):
    fake_class = FakePonto
    config_options = {"ponto_connect": True}


@tagged("post_install", "-at_install", "online_sync")
class TestCardJournalAcrossRedirect(CardSteps, RpcCase):
    fake_class = FakeEnableBanking

    def test_the_journal_of_the_card_gets_the_account_after_the_aggregator_page(self):
        journal = self.bank_journal("Nordea EUR", "NORD", "EUR")
        journals = self.env["account.journal"].search_count([("type", "=", "bank")])
        link = self.connect_journal(journal)
        account = journal.online_account_id
        self.assertEqual(account.link_id, link, "the journal of the card feeds the new connection")
        self.assertEqual((account.currency_id.name, account.account_number), ("EUR", "FI2112345600000785"))
        self.assertEqual(account.first_sync_date, FIRST_SYNC, "from the date chosen in the dialog")
        self.assertEqual(self.env["account.journal"].search_count([("type", "=", "bank")]), journals,
                         "no new journal")
        self.assertFalse((link.account_ids - account).journal_ids, "the other accounts wait for Link Accounts")
        self.assertIn("Nordea EUR receives the transactions of", " ".join(link.message_ids.mapped("body")))
        run_queued_imports(self.env)
        self.assertEqual(set(self.imported(account).mapped("online_transaction_identifier")),
                         set(self.fake.posted_ids(account.provider_account_id)))
        # The aggregator gives the whole IBAN and the bank's BIC: the journal's Bank field is filled.
        bank_account = journal.bank_account_id
        self.assertEqual((bank_account.acc_number, bank_account.partner_id), ("FI2112345600000785",
                                                                             self.env.company.partner_id))
        self.assertEqual((bank_account.bank_id.bic, bank_account.bank_id.name, bank_account.bank_id.country.code),
                         ("NDEAFIHH", "Nordea", "FI"))

    def test_a_journal_connected_while_the_user_was_at_the_aggregator_keeps_its_connection(self):
        journal = self.bank_journal("Nordea EUR", "NORD", "EUR")
        action = self.start_consent(journal)
        first = self.connect_journal(journal)  # another tab connects the same journal meanwhile
        account = journal.online_account_id
        self.assertEqual(account.link_id, first)
        self.go_through_consent(action)
        second = self.env["online.link"].search([("provider", "=", self.fake.provider_code)]) - first
        self.assertEqual(journal.online_account_id, account, "the journal keeps the connection it has")
        self.assertFalse(second.account_ids.journal_ids)
        self.assertIn("was connected to another bank meanwhile", " ".join(second.message_ids.mapped("body")))

    def test_a_journal_of_another_company_or_already_connected_cannot_be_targeted(self):
        self.start_consent()  # the fake's bank is known
        consents = self.env["online.link.consent"].sudo()
        theirs = self.bank_journal("Their Bank", "THEIR", "EUR", company=self.other_company)
        self.assertRefused("AccessError", "online.link.connect", "action_connect",
                           self.wizard_as(self.manager, theirs))
        self.assertFalse(consents.search([("journal_id", "=", theirs.id)]))

        connected = self.bank_journal("Nordea EUR", "NORD", "EUR")
        self.connect_journal(connected)
        message = self.assertRefused("UserError", "online.link.connect", "action_connect",
                                     self.wizard_as(self.manager, connected))
        self.assertIn("without a working bank connection", message)
        self.assertFalse(consents.search([("journal_id", "=", connected.id), ("user_id", "=", self.manager.id)]))

        # The same user, on a journal of his own company that has no connection: allowed.
        free = self.bank_journal("Free EUR", "FREE", "EUR")
        action = self.call_kw("online.link.connect", "action_connect", self.wizard_as(self.manager, free))
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertEqual(consents.search([("user_id", "=", self.manager.id)]).journal_id, free)

    def wizard_as(self, user, journal):
        """As ``user``, over JSON-RPC: the dialog on ``journal`` with the fake's bank picked; return its ids."""
        self.login(user)
        institution = self.env["online.institution"].search([
            ("provider", "=", self.fake.provider_code), ("identifier", "=", self.fake.institution_id)])
        return [self.call_kw("online.link.connect", "create", {
            "journal_id": journal.id, "institution_id": institution.id, "phone": TEST_PHONE})]


@tagged("post_install", "-at_install", "online_sync")
class TestMaskedNumbers(CardSteps, HttpCase):
    """Yodlee gives masked numbers ("xxxx4321"): no bank account is made of them."""

    fake_class = FakeYodlee

    def test_a_masked_number_makes_no_bank_account_but_the_journal_bank_account_gets_its_bank(self):
        mine = self.bank_journal("My GBP", "MYGBP", "GBP")
        mine.sudo().bank_acc_number = "GB82 WEST 1234 5698 7654 32"
        self.assertFalse(mine.bank_id)
        link = self.connect_journal(mine)
        self.assertEqual(mine.online_account_id.account_number, "xxxx4321")
        self.assertEqual(mine.bank_acc_number, "GB82 WEST 1234 5698 7654 32", "the user's number is kept")
        self.assertEqual((mine.bank_id.name, mine.bank_id.country.code, mine.bank_id.bic),
                         ("Dag Open Banking", "GB", False))
        # The other account, to a new journal: no bank account from "xxxx8765".
        step = self.env["online.link.connect"].browse(link.action_fetch_accounts()["res_id"])
        step.account_line_ids.action = "new"
        step.action_confirm()
        new = link.account_ids.journal_ids - mine
        self.assertEqual(new.online_account_id.account_number, "xxxx8765")
        self.assertFalse(new.bank_account_id, "no bank account from a masked number")

    def test_the_bank_the_user_chose_is_kept(self):
        journal = self.bank_journal("My GBP", "MYGBP", "GBP")
        my_bank = self.env["res.bank"].create({"name": "My Own Bank"})
        journal.sudo().write({"bank_acc_number": "GB33BUKB20201555555555", "bank_id": my_bank.id})
        self.connect_journal(journal)
        self.assertTrue(journal.online_account_id)
        self.assertEqual((journal.bank_acc_number, journal.bank_id), ("GB33BUKB20201555555555", my_bank))
