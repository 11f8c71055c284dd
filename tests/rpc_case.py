"""Calls through Odoo's JSON-RPC (``/web/dataset/call_kw``) with real sessions, as the web client or a script makes them."""
import json

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged


class RpcError(Exception):
    """The error answered by the server: its exception class and message."""

    def __init__(self, name, message):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


@tagged("post_install", "-at_install", "online_sync")
class RpcCase(HttpCase):
    """Two companies, and users of each role, who act over JSON-RPC."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.other_company = cls.env["res.company"].create({
            "name": "Other Company", "currency_id": cls.company.currency_id.id,
        })
        cls.accountant = cls.user("rpc_accountant", "account.group_account_user")
        cls.manager = cls.user("rpc_manager", "account.group_account_manager,account.group_account_user")
        cls.admin = cls.user("rpc_admin", "account.group_account_manager,account.group_account_user,base.group_system")
        cls.other_manager = cls.user("rpc_other_manager", "account.group_account_manager,account.group_account_user",
                                     company=cls.other_company)
        cls.employee = cls.user("rpc_employee", "base.group_user")

    @classmethod
    def user(cls, login, groups, company=None, companies=None):
        company = company or cls.company
        return new_test_user(cls.env, login, password=login, groups=groups, company_id=company.id,
                             company_ids=[Command.set((companies or company).ids)])

    def login(self, user):
        self.authenticate(user.login, user.login)

    def call_kw(self, model, method, *args, companies=None, **kwargs):
        """``model.method(*args, **kwargs)`` over JSON-RPC in ``companies`` (the user's default one otherwise)."""
        if companies:
            kwargs["context"] = {"allowed_company_ids": companies.ids}
        payload = {"jsonrpc": "2.0", "method": "call", "id": 1,
                   "params": {"model": model, "method": method, "args": list(args), "kwargs": kwargs}}
        response = self.url_open(f"/web/dataset/call_kw/{model}/{method}", data=json.dumps(payload),
                                 headers={"Content-Type": "application/json"})
        response.raise_for_status()
        body = response.json()
        if "error" in body:
            raise RpcError(body["error"]["data"]["name"].rpartition(".")[2], body["error"]["data"]["message"])
        self.env.invalidate_all()
        return body["result"]

    def assertRefused(self, error_name, model, method, *args, **kwargs):
        """Assert the call is refused with ``error_name``; return the message."""
        with self.assertRaises(RpcError, msg=f"{model}.{method}{args}") as caught:
            self.call_kw(model, method, *args, **kwargs)
        self.assertEqual(caught.exception.name, error_name, caught.exception.message)
        self.env.invalidate_all()
        return caught.exception.message
