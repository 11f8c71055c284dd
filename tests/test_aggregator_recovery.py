"""What real aggregators do to a connection, through the Odoo flow, against the spec-built fakes.

Rotated tokens and a failing next call (Ponto), bank authorizations ending
together (Ponto), a connection or providerAccount removed at the aggregator
(Salt Edge, Yodlee), rejected access tokens (Yodlee), a refused revocation
(all three), a cancelled first consent and a bank giving less history than
asked (Salt Edge).
"""
from datetime import date, timedelta
from decimal import Decimal

from odoo.tests import HttpCase, tagged

from fakes.ponto import FakePonto
from fakes.saltedge import FakeSaltEdge
from fakes.yodlee import FakeYodlee
from online_sync_case import TEST_PHONE, choose_bank
from test_aggregators import AggregatorFlow

STILL_ACTIVE = "may still be active"


class RecoveryFlow(AggregatorFlow):
    """Steps shared by the scenarios below; the whole flow itself is tested in test_aggregators."""

    test_full_flow = None
    test_callback_refuses_a_forged_foreign_or_replayed_state = None

    def chatter(self, link):
        return " ".join(link.message_ids.mapped("body"))

    def reconnect(self, link, action=None):
        action = action or link.action_reconnect()
        if action.get("type") == "ir.actions.act_url":
            self.go_through_consent(action)

    def security_events(self):
        return self.env["online.sync.event"].sudo().search_count([
            ("company_id", "=", self.env.company.id), ("kind", "=", "invalid_credentials"),
        ])

    def assertReconnectKeepsEverything(self, link):
        """Reconnect succeeds; the connection, accounts, journals and lines stay; new lines come in."""
        accounts, journals = link.account_ids, link.account_ids.journal_ids
        lines = {account: self.imported(account) for account in accounts}
        self.reconnect(link)
        self.assertEqual(link.state, "connected")
        link.action_fetch_transactions()
        self.assertEqual(link.state, "connected", link.error_message)
        self.assertEqual(link.account_ids, accounts, "the same Odoo accounts")
        self.assertEqual(link.account_ids.journal_ids, journals, "the same journals")
        self.assertEqual(set(link.account_ids.mapped("provider_account_id")), set(self.fake.account_ids()))
        for account in accounts:
            self.assertLessEqual(lines[account], self.imported(account), "no line is lost")
        account = accounts[0]
        new_id = self.fake.add_transaction(account.provider_account_id, Decimal("-19.99"), date.today())
        link.action_fetch_transactions()
        line = self.imported(account).filtered(lambda l: l.online_transaction_identifier == new_id)
        self.assertEqual((line.amount, line.journal_id), (-19.99, account.journal_id))

    def assertDisconnectSaysTheConsentMayStayActive(self, link, fail):
        """Revocation refused twice: disconnected here, and the chatter says what to do."""
        fail()
        link.action_disconnect()
        self.assertEqual(link.state, "disconnected")
        self.assertFalse(self.fake.revoked)
        self.assertIn(STILL_ACTIVE, self.chatter(link))
        self.assertIn("Withdraw it in your", self.chatter(link))


@tagged("post_install", "-at_install", "online_sync")
class TestPontoRecovery(RecoveryFlow, HttpCase):
    fake_class = FakePonto
    config_options = {"ponto_connect": True}

    def test_renewal_survives_a_failing_next_call(self):
        link = self.connect()
        for fault in (429, 503, "timeout"):
            with self.subTest(fault=fault):
                # Half an hour later the access token has expired: the run renews it first.
                link._set_tokens(dict(link._get_tokens(), expires_at="2000-01-01T00:00:00"))
                spent = link._get_tokens()["refresh_token"]
                self.fake.fail_next(fault, {"errors": [{"code": "serviceUnavailable", "detail": "Retry."}]},
                                    count=3, path="/accounts$")
                link.action_fetch_transactions()
                self.assertIn(link.state, ("error", "action_required"))
                self.assertNotEqual(link.error_code, "reauth_required")
                rotated = link._get_tokens()["refresh_token"]
                self.assertNotEqual(rotated, spent, "the renewal's tokens are kept despite the failure")
                self.assertIn(rotated, self.fake.refresh_tokens, "the kept refresh token is the live one")
                link.action_fetch_transactions()
                self.assertEqual(link.state, "connected", link.error_message)
        sent = [r.form().get("refresh_token") for r in self.fake.requests
                if r.path == "/oauth2/token" and r.form().get("grant_type") == "refresh_token"]
        self.assertEqual(len(sent), len(set(sent)), "a spent refresh token is never sent again")
        self.assertInSync(link)

    def test_one_reconnect_per_ended_bank_and_the_user_is_told(self):
        link = self.connect()
        self.fake.expire_consent()
        link.action_fetch_transactions()
        self.assertEqual(link.state, "action_required")
        self.reconnect(link)
        self.assertIn("1 more bank authorizations", self.chatter(link))
        link.action_fetch_transactions()
        self.assertEqual(link.state, "action_required", "the second bank's authorization has ended too")
        told = self.chatter(link).count("more bank authorizations")
        self.reconnect(link)
        self.assertEqual(self.chatter(link).count("more bank authorizations"), told, "none remains")
        link.action_fetch_transactions()
        self.assertEqual(link.state, "connected", link.error_message)
        self.assertInSync(link)

    def test_disconnect_retries_a_refused_revocation(self):
        link = self.connect()
        self.fake.fail_next(503, {"errors": [{"code": "serviceUnavailable", "detail": "Retry."}]},
                            path="/oauth2/revoke")
        link.action_disconnect()
        self.assertTrue(self.fake.revoked)
        self.assertNotIn(STILL_ACTIVE, self.chatter(link))

    def test_disconnect_refused_twice(self):
        self.assertDisconnectSaysTheConsentMayStayActive(self.connect(), lambda: self.fake.fail_next(
            503, {"errors": [{"code": "serviceUnavailable", "detail": "Retry."}]}, count=2, path="/oauth2/revoke"))


@tagged("post_install", "-at_install", "online_sync")
class TestSaltEdgeRecovery(RecoveryFlow, HttpCase):
    fake_class = FakeSaltEdge

    def test_removed_connection_is_reconnected_as_a_new_one(self):
        link = self.connect()
        self.fake.remove_connection()
        link.action_fetch_transactions()
        self.assertEqual(link.state, "action_required")
        self.assertIn("ConnectionNotFound", link.error_message)
        self.assertReconnectKeepsEverything(link)

    def test_cancelling_a_first_connection_is_not_a_withdrawn_consent(self):
        # All countries: the fake's banks are in several.
        wizard = self.env["online.link.connect"].create({"phone": TEST_PHONE, "country_id": False})
        wizard.action_search()
        choose_bank(wizard, self.fake.institution_id, self.fake.provider_code)
        action = wizard.action_connect()
        self.fake.cancel_next_consent()
        response = self.callback(self.fake.consent(action["url"]))
        self.assertIn("not given", response.text)
        self.assertNotIn("withdrawn", response.text)
        self.assertFalse(self.env["online.link"].search([("provider", "=", self.fake.provider_code)]))

    def test_disconnect_removes_the_customer(self):
        link = self.connect()
        customer_id = link._get_tokens()["customer_id"]
        link.action_disconnect()
        self.assertTrue(self.fake.revoked)
        self.assertEqual(self.fake.removed_customers, [customer_id])
        self.assertNotIn(STILL_ACTIVE, self.chatter(link))

    def test_disconnect_refused_twice(self):
        body = {"error": {"class": "InternalServerError", "message": "Oops."}}
        self.assertDisconnectSaysTheConsentMayStayActive(self.connect(), lambda: self.fake.fail_next(
            500, body, count=20, path="/connections/[0-9]+$|/customers/"))

    def test_history_start_is_told_once(self):
        self.fake.limit_history(20)
        link = self.connect()
        start = date.today() - timedelta(days=20)
        told = self.chatter(link).count("gave less history than asked")
        self.assertEqual(told, len(link.account_ids))
        self.assertIn(str(start), self.chatter(link))
        link.action_fetch_transactions()
        self.assertEqual(self.chatter(link).count("gave less history than asked"), told)


@tagged("post_install", "-at_install", "online_sync")
class TestYodleeRecovery(RecoveryFlow, HttpCase):
    fake_class = FakeYodlee

    def test_rejected_token_gets_a_new_one_and_no_security_event(self):
        link = self.connect()
        events = self.security_events()
        account = link.account_ids[0]
        for code in ("Y008", "Y020", "Y023"):
            with self.subTest(code=code):
                self.fake.token_error_code = code
                self.fake.invalidate_tokens()
                new_id = self.fake.add_transaction(account.provider_account_id, Decimal("25.00"), date.today())
                link.action_fetch_transactions()
                self.assertEqual(link.state, "connected", link.error_message)
                self.assertIn(new_id, self.imported(account).mapped("online_transaction_identifier"))
                self.assertIn(link._get_tokens()["access_token"], self.fake.tokens, "the new token is kept")
        self.assertEqual(self.security_events(), events)
        self.assertNotIn("settings are wrong", self.chatter(link))
        self.assertInSync(link)

    def test_deleted_provider_account_is_linked_again(self):
        link = self.connect()
        self.fake.remove_provider_account()
        link.action_fetch_transactions()
        self.assertEqual(link.state, "action_required")
        self.assertReconnectKeepsEverything(link)

    def test_security_code_advice_names_update_credentials(self):
        link = self.connect()
        self.fake.require_security_code()
        link.action_fetch_transactions()
        self.assertEqual((link.state, link.error_code), ("action_required", "mfa_required"))
        self.assertIn("Update Credentials", self.chatter(link))
        self.assertNotIn("click Synchronize Now", self.chatter(link))
        self.reconnect(link, link.action_update_credentials())
        link.action_fetch_transactions()
        self.assertEqual(link.state, "connected", link.error_message)

    def test_disconnect_with_a_rejected_token_still_revokes(self):
        link = self.connect()
        self.fake.invalidate_tokens()
        link.action_disconnect()
        self.assertTrue(self.fake.revoked)
        self.assertNotIn(STILL_ACTIVE, self.chatter(link))

    def test_disconnect_refused_twice(self):
        body = {"errorCode": "Y902", "errorMessage": "Oops some issue at our end", "referenceCode": "ref-1"}
        self.assertDisconnectSaysTheConsentMayStayActive(self.connect(), lambda: self.fake.fail_next(
            503, body, count=20, path="^/providerAccounts/"))
