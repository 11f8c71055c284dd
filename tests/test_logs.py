"""The server log cannot be forged by an aggregator, and keeps no one-use secret of the consent callback."""
import logging
import time
from datetime import date, timedelta
from urllib.parse import urlencode

from odoo.tests import HttpCase, TransactionCase, tagged

from fakes.ponto import FakePonto
from online_sync_case import TEST_PHONE, choose_bank, click

FORGED_LINE = "\n2026-12-01 03:00:00,000 1 CRITICAL prod odoo.service.server: forged"


@tagged("post_install", "-at_install", "online_sync")
class TestAggregatorTextInLogs(TransactionCase):

    def test_an_aggregator_error_cannot_write_a_line_of_its_own(self):
        fake = FakePonto().start()
        self.addCleanup(fake.stop)
        config = dict(fake.provider_config(), timeout=0.5, retries=0, backoff=0.01)
        self.patch(type(self.env["online.provider.config"]), "_get_for", lambda _self, _code, _company: dict(config))
        self.env["online.institution"]._refresh_from_provider("ponto")
        wizard = self.env["online.link.connect"].create({"phone": TEST_PHONE})
        choose_bank(wizard, fake.institution_id, "ponto").action_connect()
        link = wizard.link_id
        link.account_ids[0]._link_to_journal(None, date.today() - timedelta(days=10))
        fake.fail_next(400, path=r"/accounts/[^/]+/transactions$", headers={"ibanity-request-id": "req\r\nCRITICAL x"},
                       body={"errors": [{"code": "badRequest" + FORGED_LINE, "detail": "x"}]})
        with self.assertLogs("odoo.addons.account_online_synchronization") as logs:
            click(self.env, link.action_fetch_transactions)
        self.assertEqual(link.state, "error")
        logged = [record.getMessage() for record in logs.records]
        self.assertTrue(any("CRITICAL prod" in message for message in logged), "the text is logged...")
        for message in logged:
            self.assertNotIn("\n", message, "...on its own line only")
            self.assertNotIn("\r", message)

    def test_masking_removes_control_characters(self):
        text = self.env["online.link"]._scrub("a\nb\r\x1b[31mc\u2028d\x00e token-1234567890", ["token-1234567890"])
        self.assertEqual(text, "a b [31mc d e ********")


@tagged("post_install", "-at_install", "online_sync")
class TestCallbackAccessLog(HttpCase):

    def test_the_callback_code_and_state_stay_out_of_the_access_log(self):
        self.authenticate("admin", "admin")
        query = urlencode({"state": "state-token-abcdef123456", "code": "one-use-code-987654"})
        with self.assertLogs("werkzeug", logging.INFO) as logs:
            self.url_open(f"/online_sync/callback?{query}", allow_redirects=False)
            self._wait_remaining_requests()
            for _wait in range(20):  # the access line is written once the answer is sent
                if any("/online_sync/callback" in record.getMessage() for record in logs.records):
                    break
                time.sleep(0.1)
        access = [record.getMessage() for record in logs.records if "/online_sync/callback" in record.getMessage()]
        self.assertTrue(access, "the request is logged")
        for message in access:
            self.assertIn("/online_sync/callback?[redacted]", message)
            self.assertNotIn("state-token-abcdef123456", message)
            self.assertNotIn("one-use-code-987654", message)
