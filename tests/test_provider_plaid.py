"""Plaid through Odoo's own flow, against the fake Plaid built from Plaid's OpenAPI specification.

Consent runs through Plaid Link: the connect wizard returns the client action
that opens Link with the link token; the user finishes Link (the fake's
stand-in), and the public token reaches Odoo's controller bound to the
consent's state, on Odoo's real HTTP server (pytest --odoo-http).
"""
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
import requests
from fakes.plaid import CLIENT_ID, SECRET, FakePlaid
from online_sync_case import TEST_PHONE, choose_bank, click

from odoo.exceptions import UserError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import SQL

from odoo.addons.account_online_synchronization.controllers.plaid import PLAID_LINK_SUCCESS_PATH
from odoo.addons.account_online_synchronization.providers.errors import (
    InstitutionUnavailable,
    InvalidConfiguration,
    MFARequired,
    ProviderError,
    ReauthRequired,
)
from odoo.addons.account_online_synchronization.providers.plaid import LINK_SCRIPT_URL, PlaidProvider

FIRST_SYNC = date.today() - timedelta(days=120)
LINK_ACTION = "account_online_synchronization.plaid_link"


def requests_to(fake, path):
    return [request for request in fake.requests if request.path == path]


def last_body(fake, path):
    return json.loads(requests_to(fake, path)[-1].body)


def error_answer(error_type, error_code, status=400):
    return {"error_type": error_type, "error_code": error_code, "error_message": "...",
            "display_message": None, "request_id": "ReqFromPlaid42", "causes": [], "status": status}


# the connector alone: settings, institutions, errors ------------------------------------


@pytest.fixture
def fake():
    with FakePlaid() as server:
        yield server


@pytest.fixture
def provider(fake):
    return PlaidProvider(fake.provider_config())


def test_environments_and_link_script():
    assert PlaidProvider.ENVIRONMENTS == {"sandbox": "https://sandbox.plaid.com",
                                          "production": "https://production.plaid.com"}
    assert PlaidProvider({"environment": "production"}).base_url == "https://production.plaid.com"
    assert LINK_SCRIPT_URL == "https://cdn.plaid.com/link/v2/stable/link-initialize.js"


def test_wrong_secret_is_a_configuration_error(fake):
    provider = PlaidProvider(dict(fake.provider_config(), client_secret="not-the-secret"))
    with pytest.raises(InvalidConfiguration) as error:
        provider.search_institutions("US", "platypus")
    assert error.value.request_id
    assert "not-the-secret" not in error.value.message


def test_credentials_travel_in_plaid_headers(fake, provider):
    provider.search_institutions("US", "tartan")
    headers = fake.requests[-1].headers
    assert (headers["PLAID-CLIENT-ID"], headers["PLAID-SECRET"]) == (CLIENT_ID, SECRET)
    assert headers["Plaid-Version"] == "2020-09-14"


def test_bank_list_without_a_name_comes_from_institutions_get(fake, provider):
    assert {inst.id for inst in provider.search_institutions("US")} == {
        "ins_127287", "ins_109508", "ins_109509", "ins_109511"}
    assert last_body(fake, "/institutions/get")["offset"] == 0
    found = provider.search_institutions("us", "platypus")
    assert {inst.id for inst in found} == {"ins_127287", "ins_109508"}
    assert all(inst.logo_url.startswith("data:image/png;base64,") for inst in found)


def test_the_fake_answers_like_plaid_to_what_the_spec_refuses(fake):
    """The fake refuses what Plaid's specification refuses, with Plaid's error object."""
    headers = {"PLAID-CLIENT-ID": CLIENT_ID, "PLAID-SECRET": SECRET}
    cases = [
        ("/transactions/get", {"access_token": "x", "start_date": "2024-01-01", "end_date": "2024-02-01"},
         404, "NOT_FOUND"),
        ("/transactions/sync", {}, 400, "MISSING_FIELDS"),
        ("/transactions/sync", {"access_token": "x", "count": "10"}, 400, "INVALID_FIELD"),
        ("/transactions/sync", {"access_token": "x", "options": {"account_ids": ["a"]}}, 400, "UNKNOWN_FIELDS"),
        ("/link/token/create", {"client_name": "Odoo", "language": "en", "country_codes": ["US"], "user": {}},
         400, "MISSING_FIELDS"),
    ]
    for path, body, status, code in cases:
        answer = requests.post(fake.url + path, json=body, headers=headers, timeout=5)
        assert answer.status_code == status, path
        error = answer.json()
        assert error["error_code"] == code, (path, error)
        assert {"error_type", "error_code", "error_message", "display_message", "request_id"} <= set(error)


@pytest.mark.parametrize("error_type, error_code, expected", [
    ("ITEM_ERROR", "ITEM_LOCKED", ReauthRequired),
    ("OAUTH_ERROR", "OAUTH_CONSENT_EXPIRED", ReauthRequired),
    ("ITEM_ERROR", "INVALID_MFA", MFARequired),
    ("INSTITUTION_ERROR", "INSTITUTION_NOT_RESPONDING", InstitutionUnavailable),
    ("INVALID_INPUT", "UNAUTHORIZED_ENVIRONMENT", InvalidConfiguration),
    ("ITEM_ERROR", "PRODUCT_NOT_READY", ProviderError),
])
def test_documented_errors_are_typed(fake, provider, error_type, error_code, expected):
    fake.fail_next(400, error_answer(error_type, error_code), path="/institutions/search")
    with pytest.raises(ProviderError) as error:
        provider.search_institutions("US", "platypus")
    assert type(error.value) is expected
    assert error.value.request_id == "ReqFromPlaid42"
    if expected is MFARequired:
        assert error.value.update_credentials, "Plaid takes the code in Link's update mode only"


def test_hosted_link_needs_a_client_enabled_for_it(fake):
    """A client not enabled for Hosted Link gets no Hosted Link URL: the settings must say so."""
    provider = PlaidProvider(dict(fake.provider_config(), plaid_hosted_link=True))
    with pytest.raises(InvalidConfiguration, match="not enabled for Hosted Link"):
        provider.start_connection(fake.institution_id, redirect_url="https://odoo.test/cb", state="s")
    assert "hosted_link" in last_body(fake, "/link/token/create")


# the product's flow -------------------------------------------------------------------


class PlaidFlowCase(HttpCase):
    """An accounting administrator connects a Plaid bank and synchronizes it."""

    hosted_link = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(user=cls.env.ref("base.user_admin"))

    def setUp(self):
        super().setUp()
        self.fake = FakePlaid(hosted_link=self.hosted_link).start()
        self.addCleanup(self.fake.stop)
        config = self.fake.provider_config()
        settings = self.env["online.provider.config"]
        settings.sudo().create(dict(
            {key: value for key, value in config.items() if key in settings._fields},
            provider="plaid", company_id=self.env.company.id,
        ))
        # Fast retries and short pages against the fake: the connector reads them from its configuration.
        self.patch(type(settings), "_get_for", lambda _self, code, company: dict(config))
        self.authenticate("admin", "admin")

    # steps ----------------------------------------------------------------------

    def link_success(self, state, public_token):
        return self.make_jsonrpc_request(PLAID_LINK_SUCCESS_PATH, {"state": state, "public_token": public_token})

    def go_through_link(self, action):
        """Open Link as the client action says, finish it as the user, hand the public token to Odoo."""
        self.assertEqual((action["type"], action["tag"]), ("ir.actions.client", LINK_ACTION))
        self.assertEqual(action["params"]["script_url"], self.fake.url + "/link-initialize.js")
        result = self.link_success(action["params"]["state"], self.fake.link(action["params"]["token"]))
        self.assertFalse(result["error"])
        return self.env["online.link"].browse(result["action"]["res_id"])

    def start_wizard(self):
        wizard = self.env["online.link.connect"].create({"phone": TEST_PHONE})
        wizard.action_search()
        choose_bank(wizard, self.fake.institution_id, "plaid")
        self.assertTrue(wizard.institution_id, "the bank list comes from Plaid")
        return wizard

    def connect(self):
        link = self.go_through_link(self.start_wizard().action_connect())
        self.assertEqual(link.state, "connected")
        step = link.action_fetch_accounts()
        accounts_wizard = self.env["online.link.connect"].browse(step["res_id"])
        accounts_wizard.first_sync_date = FIRST_SYNC
        click(self.env, accounts_wizard.action_confirm)
        return link

    def imported(self, account):
        return self.env["account.bank.statement.line"].search([("online_account_id", "=", account.id)])

    def line(self, account, transaction_id):
        return self.imported(account).filtered(lambda line: line.online_transaction_identifier == transaction_id)

    def assertInSync(self, link):
        """Every posted transaction Plaid holds is imported once, as Plaid gives it; nothing else is."""
        for account in link.account_ids:
            lines = self.imported(account)
            identifiers = lines.mapped("online_transaction_identifier")
            self.assertEqual(len(identifiers), len(set(identifiers)), "a transaction was imported twice")
            rows = {row["transaction_id"]: row for row in self.fake.posted_rows(account.provider_account_id)}
            self.assertEqual(set(identifiers), set(rows), account.name)
            for line in lines:
                row = rows[line.online_transaction_identifier]
                # Plaid's positive amount is money out.
                self.assertEqual(Decimal(str(line.amount)), -row["amount"], row["transaction_id"])
                self.assertEqual(line.date.isoformat(), row["date"])
                self.assertEqual(line.payment_ref, row["original_description"])
                counterparty = row["merchant_name"] or row["payment_meta"]["payer"] or row["payment_meta"]["payee"]
                self.assertEqual(line.partner_name or None, counterparty)

    def assertFailedWith(self, link, code):
        self.assertEqual(link.error_code, code)
        self.assertIn(link.error_reference, " ".join(link.message_ids.mapped("body")))

    def chatter(self, link):
        return " ".join(link.message_ids.mapped("body"))


@tagged("post_install", "-at_install", "online_sync")
class TestPlaidLink(PlaidFlowCase):

    def test_connect_through_plaid_link_and_import_plaids_posted_truth(self):
        link = self.connect()
        body = last_body(self.fake, "/link/token/create")
        self.assertNotIn("hosted_link", body, "Hosted Link is an opt-in the settings do not claim")
        self.assertEqual((body["products"], body["transactions"]), (["transactions"], {"days_requested": 730}))
        self.assertEqual(set(link.account_ids.mapped("provider_account_id")), set(self.fake.account_ids()))
        self.assertInSync(link)
        acme = self.imported(link.account_ids[0]).filtered(lambda line: line.partner_name == "ACME CORP")
        self.assertEqual((acme.amount, acme.date), (2500.0, date.today() - timedelta(days=10)), "Plaid's -2500 is money in")
        self.assertFalse(requests_to(self.fake, "/transactions/get"), "the legacy listing is not used")
        sync = last_body(self.fake, "/transactions/sync")
        self.assertIn(sync["options"]["account_id"], self.fake.account_ids(), "one cursor stream per account")

        # The cursor reached is stored, encrypted, per account: the next run only asks for changes.
        account = link.account_ids[0]
        account.flush_recordset()
        self.env.cr.execute(SQL("SELECT resume_cursor_encrypted FROM online_account WHERE id = %s", account.id))
        stored = self.env.cr.fetchone()[0]
        cursor = json.loads(account._resume_cursor())["cursor"]
        self.assertTrue(cursor)
        self.assertNotIn(cursor, stored)
        counts = {a: len(self.imported(a)) for a in link.account_ids}
        click(self.env, link.action_fetch_transactions)
        self.assertEqual({a: len(self.imported(a)) for a in link.account_ids}, counts)
        self.assertEqual(last_body(self.fake, "/transactions/sync").get("cursor"),
                         json.loads(link.account_ids[-1]._resume_cursor())["cursor"])

    def test_the_bank_search_lists_plaid_banks_and_asks_plaid_for_a_name_it_does_not_know(self):
        wizard = Form(self.env["online.link.connect"])
        wizard.country_id = self.env.ref("base.us")
        listed = wizard.save().result_ids
        self.assertIn(("First Platypus Bank", "plaid"), [(bank.name, bank.provider) for bank in listed],
                      "with Plaid set up for the United States, its banks are listed at once")
        self.assertIn("sandbox", listed.mapped("provider"), "and the sandbox's")
        self.env["online.institution"].search([("provider", "=", "plaid"), ("name", "ilike", "gingham")]).unlink()
        self.fake.requests.clear()
        wizard.search_text = "gingham"
        found = wizard.save().result_ids
        self.assertEqual([(bank.name, bank.provider) for bank in found], [("First Gingham Credit Union", "plaid")])
        self.assertEqual([request.path for request in self.fake.requests], ["/institutions/search"],
                         "a name not in the cache is looked up at Plaid")
        wizard.search_text = "platypus"
        self.fake.requests.clear()
        self.assertEqual(len(wizard.save().result_ids), 2)
        self.assertFalse(self.fake.requests, "known banks come from the cache")

    def test_pending_posted_modified_and_removed(self):
        link = self.connect()
        account = link.account_ids.filtered(lambda a: a.provider_account_id == self.fake.account_ids()[0])
        pending_ids = {row["transaction_id"] for row in self.fake.transactions[account.provider_account_id]
                       if row["pending"]}
        self.assertEqual(account.pending_count, 2)
        rows = self.fake.posted_rows(account.provider_account_id)
        changed, reconciled, withdrawn = (row["transaction_id"] for row in rows[:3])
        self.reconcile(self.line(account, reconciled))
        reconciled_amount = self.line(account, reconciled).amount

        self.fake.post_pending()
        self.fake.modify_transaction(changed, amount=Decimal("-12.34"), name="CORRECTED BY THE BANK")
        self.fake.modify_transaction(reconciled, amount=Decimal("-99.99"))
        self.fake.remove_transaction(withdrawn)
        click(self.env, self.env["account.journal"].browse(account.journal_id.id).manual_sync)

        lines = self.imported(account)
        posted = lines.filtered(lambda line: line.transaction_details.get("pending_transaction_id") in pending_ids)
        self.assertEqual(len(posted), 2, "each pending transaction is imported once, under its posted id")
        self.assertFalse(set(lines.mapped("online_transaction_identifier")) & pending_ids)
        self.assertEqual(account.pending_count, 0)
        line = self.line(account, changed)
        self.assertEqual((line.amount, line.payment_ref), (-12.34, "CORRECTED BY THE BANK"),
                         "a line not reconciled yet follows the bank's correction")
        self.assertEqual(self.line(account, reconciled).amount, reconciled_amount, "a reconciled line is kept")
        self.assertTrue(self.line(account, withdrawn), "a withdrawn line is never deleted silently")
        chatter = self.chatter(link)
        self.assertIn("withdrew these transactions", chatter)
        self.assertIn(withdrawn, chatter)
        self.assertIn("already reconciled", chatter)
        self.assertIn(reconciled, chatter)

        messages = link.message_ids
        click(self.env, link.action_fetch_transactions)
        # The other account's transactions posted meanwhile are imported: only the note saying so is new.
        self.assertFalse([body for body in (link.message_ids - messages).mapped("body")
                          if "pending at the bank" not in body], "a change is told once")

    def reconcile(self, line):
        """Reconcile ``line`` as an accountant booking it on an expense account."""
        _liquidity, suspense, _other = line._seek_for_lines()
        expense = self.env["account.account"].search([
            ("account_type", "=", "expense"), ("company_ids", "in", line.company_id.id)], limit=1)
        line.move_id.button_draft()
        suspense.account_id = expense
        line.move_id.action_post()
        self.assertTrue(line.is_reconciled)

    def test_changes_while_the_listing_is_paged_converge(self):
        link = self.connect()
        account = link.account_ids.filtered(lambda a: a.provider_account_id == self.fake.account_ids()[0])
        for day in range(25):
            self.fake.add_transaction(account.provider_account_id, Decimal(f"{day + 1}.25"), date.today())
        late = []
        self.fake.change_after_next_page(lambda: late.append(self.fake.add_transaction(
            account.provider_account_id, Decimal("-7.00"), date.today())))
        click(self.env, link.action_fetch_transactions)
        self.assertTrue(late, "Plaid's data changed while the listing was paged")
        self.assertEqual(self.fake.mutation_errors, 1)
        self.assertEqual(link.state, "connected")
        self.assertInSync(link)
        self.assertTrue(self.line(account, late[0]))

    def test_login_required_then_update_mode_catches_up_exactly(self):
        link = self.connect()
        account = link.account_ids[0]
        self.fake.expire_consent()
        self.fake.add_transaction(account.provider_account_id, Decimal("310.00"), date.today())
        click(self.env, link.action_fetch_transactions)
        self.assertEqual(link.state, "action_required")
        self.assertFailedWith(link, "reauth_required")
        self.fake.add_transaction(account.provider_account_id, Decimal("-45.10"), date.today())

        accounts = link.account_ids
        action = link.action_update_credentials()
        body = last_body(self.fake, "/link/token/create")
        self.assertEqual(body["access_token"], link._get_tokens()["access_token"], "Link opens in update mode")
        self.assertNotIn("products", body)
        self.assertEqual(self.go_through_link(action), link)
        self.assertEqual(len(requests_to(self.fake, "/item/public_token/exchange")), 1, "the Item is kept")
        self.assertEqual(link.state, "connected")
        self.assertEqual(link.account_ids, accounts, "accounts and journals are kept")

        # The scheduled action catches up from where the last committed run ended.
        link.sudo().last_attempt = link.last_attempt - timedelta(days=1)
        self.env.ref("account_online_synchronization.ir_cron_fetch_online_transactions").sudo().method_direct_trigger()
        self.assertInSync(link)

    def test_reconnect_opens_plaid_link_in_the_browser(self):
        """Reconnect, clicked in the web client, opens Link (a local stand-in of its script) in update mode."""
        link = self.connect()
        self.fake.expire_consent()
        click(self.env, link.action_fetch_transactions)
        self.assertEqual(link.state, "action_required")
        reconnect = "document.querySelector('.o_form_view button[name=action_reconnect]')"
        code = f"""
            {reconnect}.click();
            const deadline = Date.now() + 30000;
            (function poll() {{
                if (document.querySelector('.o_form_view') && !{reconnect}) {{
                    console.log("test successful");
                }} else if (Date.now() > deadline) {{
                    console.error("Plaid Link did not bring the connection back");
                }} else {{
                    setTimeout(poll, 200);
                }}
            }})();
        """
        self.browser_js(f"/odoo/action-account_online_synchronization.action_online_link/{link.id}", code,
                        ready=f"!!{reconnect}", login="admin")
        self.assertTrue(requests_to(self.fake, "/link-initialize.js"), "Link's script came from the settings' URL")
        self.assertEqual(last_body(self.fake, "/link/token/create")["access_token"],
                         link._get_tokens()["access_token"])
        self.assertEqual(link.state, "connected")
        self.assertIn("Consent renewed", self.chatter(link))

    def test_rate_limit_bank_down_and_malformed_answer_lose_nothing(self):
        link = self.connect()
        account = link.account_ids[0]
        new_id = self.fake.add_transaction(account.provider_account_id, Decimal("-18.00"), date.today())
        counts = {a: len(self.imported(a)) for a in link.account_ids}
        for break_it, code in ((self.fake.rate_limit, "rate_limited"), (self.fake.go_down, "institution_unavailable"),
                               (self.fake.break_next_transactions_page, "malformed_response")):
            break_it()
            click(self.env, link.action_fetch_transactions)
            self.assertFailedWith(link, code)
            self.fake.come_back()
        self.assertFalse(self.line(account, new_id))
        self.assertEqual(sum(len(self.imported(a)) for a in link.account_ids), sum(counts.values()))
        click(self.env, link.action_fetch_transactions)
        self.assertEqual(link.state, "connected")
        self.assertInSync(link)

    def test_disconnect_removes_the_item(self):
        link = self.connect()
        access_token = link._get_tokens()["access_token"]
        link.action_disconnect()
        self.assertTrue(self.fake.revoked)
        self.assertEqual(last_body(self.fake, "/item/remove")["access_token"], access_token)
        self.assertEqual(link.state, "disconnected")
        with self.assertRaises(UserError):
            click(self.env, link.action_fetch_transactions)

    def test_link_success_refuses_a_forged_foreign_or_replayed_state(self):
        action = self.start_wizard().action_connect()
        state, public_token = action["params"]["state"], self.fake.link(action["params"]["token"])
        self.assertTrue(self.link_success("forged", public_token)["error"])
        new_test_user(self.env, "other_manager", groups="account.group_account_manager,base.group_user")
        self.authenticate("other_manager", "other_manager")
        self.assertTrue(self.link_success(state, public_token)["error"], "another user cannot complete my consent")
        self.authenticate("admin", "admin")
        self.assertFalse(self.env["online.link"].search([("provider", "=", "plaid")]))
        self.assertTrue(self.link_success(state, public_token)["action"])
        self.assertTrue(self.link_success(state, public_token)["error"], "a state is used once")
        self.assertEqual(len(self.env["online.link"].search([("provider", "=", "plaid")])), 1)


@tagged("post_install", "-at_install", "online_sync")
class TestPlaidHostedLink(PlaidFlowCase):
    """A client Plaid enabled for Hosted Link, and the settings saying so."""

    hosted_link = True

    def test_connect_and_reconnect_through_hosted_link(self):
        action = self.start_wizard().action_connect()
        self.assertEqual(action["type"], "ir.actions.act_url")
        params = self.fake.consent(action["url"])
        response = self.url_open("/online_sync/callback?" + "&".join(f"{k}={v}" for k, v in params.items()),
                                 allow_redirects=False)
        self.assertEqual(response.status_code, 303, response.text[:300])
        link = self.env["online.link"].search([("provider", "=", "plaid")])
        self.assertEqual(link.state, "connected")
        self.assertTrue(last_body(self.fake, "/link/token/create")["hosted_link"]["completion_redirect_uri"])

        self.fake.expire_consent()
        click(self.env, link.action_fetch_transactions)
        self.assertEqual(link.state, "action_required")
        action = link.action_reconnect()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.url_open("/online_sync/callback?state=" + self.fake.consent(action["url"])["state"],
                      allow_redirects=False)
        self.assertEqual(link.state, "connected")
