from datetime import date, timedelta
from decimal import Decimal

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from online_sync_case import TEST_PHONE, OnlineSyncCase, bank_posted_ids, choose_bank


@tagged("post_install", "-at_install", "online_sync")
class TestConnect(OnlineSyncCase):

    def test_connect_creates_link_accounts_and_journals(self):
        link = self.connect(accounts=("Current Account", "Business Account USD"))
        self.assertEqual(link.state, "connected")
        self.assertEqual(link.provider, "sandbox")
        self.assertEqual(
            sorted(link.account_ids.mapped("name")),
            ["Business Account USD", "Current Account", "Savings Account"],
        )
        current = link.account_ids.filtered(lambda a: a.name == "Current Account")
        usd = link.account_ids.filtered(lambda a: a.name == "Business Account USD")
        savings = link.account_ids.filtered(lambda a: a.name == "Savings Account")
        self.assertFalse(savings.journal_id, "a skipped account gets no journal")
        for account, currency in ((current, "EUR"), (usd, "USD")):
            journal = account.journal_id
            self.assertEqual(journal.type, "bank")
            self.assertEqual(journal.bank_statements_source, "online_sync")
            self.assertEqual(journal.online_link_id, link)
            self.assertEqual((journal.currency_id or journal.company_id.currency_id).name, currency)
            self.assertTrue(account.last_sync)
            self.assertImportedExactly(account, bank_posted_ids(link, account, account.first_sync_date))
        self.assertIn("Connected to Sandbox Bank", " ".join(self.chatter(link)))
        self.assertTrue(self.company._online_sync_phone_matches("+32470123456"))
        self.assertEqual(self.company.online_sync_phone_hint, "\N{HORIZONTAL ELLIPSIS}56", "only the last digits show")

    def test_link_to_existing_journal(self):
        self.env["res.currency"].with_context(active_test=False).search([("name", "=", "EUR")]).active = True
        journal = self.env["account.journal"].create({
            "name": "My Bank EUR", "type": "bank", "code": "MYEUR",
            "currency_id": self.env.ref("base.EUR").id,
        })
        wizard = self.env["online.link.connect"].create({"phone": TEST_PHONE})
        choose_bank(wizard, "sandbox_bank").action_connect()
        for line in wizard.account_line_ids:
            line.action = "skip"
        line = wizard.account_line_ids.filtered(lambda l: l.name == "Current Account")
        line.write({"action": "existing", "journal_id": journal.id})
        wizard.action_confirm()
        self.run_queued_imports()
        self.assertEqual(journal.online_account_id, line.online_account_id)
        self.assertTrue(self.lines_of(line.online_account_id))
        self.assertEqual(self.lines_of(line.online_account_id).journal_id, journal)

    def test_wrong_currency_journal_is_refused(self):
        journal = self.env["account.journal"].create({"name": "Company currency bank", "type": "bank", "code": "CCB"})
        wizard = self.env["online.link.connect"].create({"phone": TEST_PHONE})
        choose_bank(wizard, "sandbox_bank").action_connect()
        line = wizard.account_line_ids.filtered(lambda l: l.name == "Current Account")
        line.write({"action": "existing", "journal_id": journal.id})
        self.assertNotEqual(self.company.currency_id.name, "EUR")
        with self.assertRaisesRegex(UserError, "cannot feed"):
            wizard.action_confirm()

    def test_first_connection_requires_a_valid_phone(self):
        self.assertFalse(self.company._online_sync_has_phone())
        wizard = self.env["online.link.connect"].create({"phone": "12"})
        self.assertTrue(wizard.phone_required)
        with self.assertRaisesRegex(UserError, "not a valid phone number"):
            choose_bank(wizard, "sandbox_bank").action_connect()
        self.assertFalse(self.env["online.link"].search([("company_id", "=", self.company.id)]))
        self.connect()
        self.assertFalse(self.env["online.link.connect"].create({}).phone_required,
                         "the phone is asked on the first connection only")

    def test_statement_lines_keep_the_bank_data(self):
        partner = self.env["res.partner"].create({"name": "Acme Supplies SA"})
        from odoo.addons.account_online_synchronization.providers.sandbox import iban
        self.env["res.partner.bank"].create({"partner_id": partner.id, "acc_number": iban("BE", "Acme Supplies SA")})
        link = self.connect(volume=3, first_sync_date=date.today() - timedelta(days=60))
        account = link.account_ids.filtered(lambda a: a.name == "Current Account")
        lines = self.lines_of(account)
        acme = lines.filtered(lambda l: l.partner_name == "Acme Supplies SA")
        self.assertTrue(acme, "the sandbox history holds Acme payments")
        self.assertEqual(acme.partner_id, partner, "partner matched from the counterparty IBAN")
        self.assertTrue(all(l.amount < 0 for l in acme), "money out is negative")
        abroad = lines.filtered(lambda l: l.partner_name == "Northwind Traders Ltd")
        self.assertTrue(abroad)
        for line in abroad:
            raw = line.transaction_details
            self.assertEqual(line.foreign_currency_id.name, "GBP")
            self.assertEqual(line.date, date.fromisoformat(raw["bookingDate"]), "bank dates are kept as calendar dates")
            self.assertEqual(Decimal(str(line.amount)), Decimal(raw["amount"]))
            expected_foreign = (Decimal(raw["amount"]) * Decimal("0.8512")).quantize(Decimal("0.01"))
            self.assertAlmostEqual(line.amount_currency, float(expected_foreign), places=2,
                                   msg="the bank's foreign amount is kept, not re-converted")
            self.assertTrue(line.online_transaction_identifier)

    def test_history_before_the_first_date_is_the_opening_balance(self):
        link = self.connect()
        account = link.account_ids.filtered("journal_id")
        total = sum(self.lines_of(account).mapped("amount"))
        self.assertNotAlmostEqual(account.opening_balance, 0.0, places=2, msg="the bank had money before")
        self.assertAlmostEqual(account.journal_balance, account.opening_balance + total, places=2)
        self.assertAlmostEqual(account.balance_difference, 0.0, places=2)
        self.assertFalse(account.balance_finding)

    def test_fetch_accounts_finds_accounts_opened_later(self):
        with freeze_time(date.today() - timedelta(days=2)):
            link = self.connect()
            self.assertNotIn("Visa Business Card", link.account_ids.mapped("name"))
        action = link.action_fetch_accounts()
        self.assertEqual(action["res_model"], "online.link.connect")
        wizard = self.env["online.link.connect"].browse(action["res_id"])
        self.assertEqual(sorted(wizard.account_line_ids.mapped("name")),
                         ["Business Account USD", "Savings Account", "Visa Business Card"],
                         "the new card and the accounts skipped at connection time are offered")
        wizard.action_confirm()
        self.run_queued_imports()
        card = link.account_ids.filtered(lambda a: a.name == "Visa Business Card")
        self.assertTrue(card.journal_id)
        self.assertTrue(self.lines_of(card))
        again = link.action_fetch_accounts()
        self.assertEqual(again["tag"], "display_notification", "nothing left to link the second time")

    def test_bank_list_is_cached_and_searchable(self):
        wizard = self.env["online.link.connect"].create({"phone": TEST_PHONE})
        institutions = self.env["online.institution"].search([("provider", "=", "sandbox")])
        self.assertIn("Sandbox Bank (3 months of history)", institutions.mapped("name"))
        short = institutions.filtered(lambda i: i.identifier == "sandbox_short")
        self.assertEqual((short.country_code, short.max_history_days), ("FR", 90))
        self.assertTrue(institutions.filtered(lambda i: i.identifier == "sandbox_neobank").beta)
        wizard.write({"country_id": self.env.ref("base.de").id, "search_text": "neo"})
        wizard.action_search()
        self.assertEqual(wizard.institution_id.identifier, "sandbox_neobank")
        self.assertEqual(self.env["online.institution"].search_count([("provider", "=", "sandbox")]), len(institutions),
                         "looking a bank up again updates the cache, it does not duplicate it")
