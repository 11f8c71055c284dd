from datetime import date, timedelta
from decimal import Decimal

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged

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

    def test_a_journal_fed_by_another_connection_is_not_taken_over(self):
        taken = self.connect().account_ids.journal_ids
        wizard = self.env["online.link.connect"].create({})
        choose_bank(wizard, "sandbox_short").action_connect()
        line = wizard.account_line_ids.filtered(lambda line: line.currency_id == taken.currency_id)[:1]
        line.write({"action": "existing", "journal_id": taken.id})
        with self.assertRaisesRegex(UserError, "without a working bank connection"):
            wizard.action_confirm()

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
        wizard = Form(self.env["online.link.connect"])
        institutions = self.env["online.institution"].search([("provider", "=", "sandbox")])
        self.assertIn("Sandbox Bank (3 months of history)", institutions.mapped("name"))
        short = institutions.filtered(lambda i: i.identifier == "sandbox_short")
        self.assertEqual((short.country_code, short.max_history_days), ("FR", 90))
        self.assertTrue(institutions.filtered(lambda i: i.identifier == "sandbox_neobank").beta)
        self.assertEqual(set(self.results(wizard).mapped("identifier")), set(institutions.mapped("identifier")),
                         "the sandbox banks are offered whatever the company's country")
        wizard.country_id = self.env.ref("base.de")
        wizard.search_text = "neo"
        self.assertEqual(self.results(wizard).mapped("identifier"), ["sandbox_neobank"])
        wizard.save().action_search()
        self.assertEqual(self.env["online.institution"].search_count([("provider", "=", "sandbox")]), len(institutions),
                         "looking a bank up again updates the cache, it does not duplicate it")

    def results(self, form):
        return form.save().result_ids

    def test_search_covers_every_configured_aggregator_and_a_bank_served_by_several_is_listed_once(self):
        Institution = self.env["online.institution"]
        for code in ("plaid", "yodlee", "gocardless"):
            Institution.create({"provider": code, "identifier": f"{code}-1", "name": "Harbour Bank",
                                "country_code": "US", "beta": code == "plaid"})
        for code in ("plaid", "yodlee"):  # GoCardless has no credentials for this company: not searched
            self.env["online.provider.config"].create({"provider": code, "client_id": "id"})
        wizard = Form(self.env["online.link.connect"])
        wizard.country_id = self.env.ref("base.us")
        wizard.search_text = "harbour"
        wizard = wizard.save()
        self.assertEqual(len(wizard.result_ids), 1, "one line per bank")
        line = wizard.result_ids.with_context(online_link_connect_id=wizard.id)
        self.assertEqual((line.provider, line.other_providers), ("yodlee", "Plaid"),
                         "the aggregator where the bank is not beta comes first; the other one is offered")
        line.action_switch_provider()
        line = wizard.result_ids
        self.assertEqual((line.provider, line.other_providers, line.support), ("plaid", "Yodlee", "beta"))
        self.assertFalse(wizard.search_message)

    def test_a_bank_journal_is_connected_from_its_card(self):
        journal = self.env["account.journal"].create({"name": "Main Bank", "type": "bank", "code": "MAIN"})
        self.assertTrue(journal.online_can_connect)
        action = journal.action_connect_bank()
        self.assertEqual((action["res_model"], action["context"]["default_journal_id"]),
                         ("online.link.connect", journal.id))
        wizard = self.env["online.link.connect"].with_context(action["context"]).create({"phone": TEST_PHONE})
        bank = wizard.result_ids.filtered(lambda institution: institution.identifier == "sandbox_bank")
        bank.with_context(online_link_connect_id=wizard.id).action_connect_bank()
        currency = journal.currency_id or self.company.currency_id
        chosen = wizard.account_line_ids.filtered(lambda line: line.action == "existing")
        self.assertEqual((chosen.journal_id, chosen.currency_id), (journal, currency),
                         "the journal gets the bank's account in its currency")
        self.assertEqual(set((wizard.account_line_ids - chosen).mapped("action")), {"skip"})
        wizard.first_sync_date = date.today() - timedelta(days=10)
        wizard.action_confirm()
        self.run_queued_imports()
        self.assertEqual(journal.online_account_id, chosen.online_account_id)
        self.assertFalse(journal.online_can_connect)
        # Odoo's Add a Bank Account (menu, setup steps, Bank Setup) is this dialog; the manual setup is kept.
        self.assertEqual(self.env["res.company"].setting_init_bank_account_action()["res_model"],
                         "online.link.connect")
        self.assertEqual(wizard.action_setup_manually()["res_model"], "account.setup.bank.manual.config")

    def test_the_bank_list_of_another_user_cannot_be_used(self):
        wizard = self.env["online.link.connect"].create({"phone": TEST_PHONE})
        other = new_test_user(self.env, "other_connect_manager", groups="account.group_account_manager")
        bank = wizard.result_ids[:1].with_user(other).with_context(online_link_connect_id=wizard.id)
        with self.assertRaises(AccessError):
            bank.action_connect_bank()
        self.assertFalse(wizard.link_id)

    def test_an_accountant_is_not_offered_to_connect(self):
        accountant = new_test_user(self.env, "accountant_connect", groups="account.group_account_user")
        journal = self.env["account.journal"].create({"name": "Main Bank", "type": "bank", "code": "MAIN"})
        self.assertFalse(journal.with_user(accountant).online_can_connect)
        with self.assertRaisesRegex(UserError, "Only accounting administrators"):
            journal.with_user(accountant).action_connect_bank()

    def test_an_abandoned_connection_synchronizes_nothing_until_finished_or_removed(self):
        wizard = self.env["online.link.connect"].create({"phone": TEST_PHONE})
        choose_bank(wizard, "sandbox_bank").action_connect()
        link = wizard.link_id  # the user closes the dialog here
        self.assertEqual((link.state, link.status, link.auto_sync), ("connected", "no_account", False))
        self.assertNotIn(link, self.env["online.link"].search([("state", "=", "connected"), ("accounts_linked", "=", True)]))
        link.auto_sync = True
        self.env["online.link"]._cron_fetch_online_transactions()
        self.assertFalse(link.last_attempt, "the scheduler leaves it alone")
        # Finish it: Link Accounts offers every account.
        finish = self.env["online.link.connect"].browse(link.action_fetch_accounts()["res_id"])
        self.assertEqual(len(finish.account_line_ids), len(link.account_ids))
        finish.account_line_ids[1:].action = "skip"
        finish.first_sync_date = date.today() - timedelta(days=10)
        finish.action_confirm()
        self.assertEqual((link.status, link.auto_sync), ("connected", True))
        with self.assertRaisesRegex(UserError, "disconnect it instead"):
            link.action_remove()

        other = self.env["online.link.connect"].create({})
        choose_bank(other, "sandbox_short").action_connect()
        abandoned = other.link_id
        action = abandoned.action_remove()
        self.assertEqual(action["res_model"], "online.link")
        self.assertFalse(abandoned.exists())
        self.assertFalse(self.env["online.account"].search([("link_id", "=", abandoned.id)]))
