"""Refused consent callbacks block a company only when they come from someone who may connect banks."""
from urllib.parse import urlencode

from rpc_case import RpcCase


class TestRefusedCallbackCounting(RpcCase):

    def callback(self, state):
        return self.url_open("/online_sync/callback?" + urlencode({"state": state, "code": "x"}),
                             allow_redirects=False)

    def refused_events(self):
        return self.env["online.sync.event"].search([("kind", "=", "callback_refused")])

    def test_users_who_cannot_connect_banks_cannot_block_the_company(self):
        for user in (self.employee, self.accountant):
            self.login(user)
            for attempt in range(8):
                response = self.callback(f"forged-{user.login}-{attempt}")
                self.assertEqual(response.status_code, 403)
                self.assertIn("accounting administrators", response.text)
        self.assertFalse(self.company.online_sync_blocked)
        self.assertFalse(self.refused_events(), "their requests are refused without counting")

    def test_refused_callbacks_count_per_user(self):
        second_manager = self.user("rpc_manager_2", "account.group_account_manager,account.group_account_user")
        for user in (self.manager, second_manager):
            self.login(user)
            for attempt in range(5):
                self.assertEqual(self.callback(f"stale-{user.login}-{attempt}").status_code, 403)
        self.assertFalse(self.company.online_sync_blocked, "ten stale callbacks of two users are no attack")
        self.assertEqual(len(self.refused_events()), 10)
        self.assertEqual(self.callback("forged-sixth").status_code, 403)
        self.assertTrue(self.company.online_sync_blocked, "one user's burst is a real signal")
        self.assertIn("callbacks", self.company.online_sync_block_reason)
