"""Reactivating a blocked company: a code bound to its company and number, a limit no burst gets past,
a phone number nobody reads, and no code left in the database."""
import random
import threading
import time

import psycopg2

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import UserError

from fakes.iap_sms import FakeIapSms
from online_sync_case import TEST_PHONE
from rpc_case import RpcCase


class TestReactivation(RpcCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager_of_both = cls.user("rpc_reactivating", "account.group_account_manager,account.group_account_user",
                                       companies=cls.company | cls.other_company)
        for company in (cls.company, cls.other_company):
            company._online_sync_set_phone(TEST_PHONE)
            company._online_sync_block(f"a test of {company.name}")
        cls.link = cls.env["online.link"].create({"name": "Sandbox Bank", "company_id": cls.company.id})

    def setUp(self):
        super().setUp()
        self.fake = FakeIapSms().start()
        self.addCleanup(self.fake.stop)
        self.env["ir.config_parameter"].set_param("sms.endpoint", self.fake.url)

    def open_wizard(self, user):
        self.login(user)
        action = self.call_kw("online.link", "action_reactivate_synchronization", [self.link.id])
        return action["res_id"]

    def send_code(self, wizard_id):
        self.call_kw("online.sync.reactivate", "write", [wizard_id], {"phone": TEST_PHONE})
        self.call_kw("online.sync.reactivate", "action_confirm_phone", [wizard_id])
        number, content = self.fake.sent[-1]
        self.assertEqual(number, "+32470123456", "the code goes to the registered number")
        return content.rsplit(" ", 1)[-1]

    def test_the_code_reactivates_its_own_company_only(self):
        wizard_id = self.open_wizard(self.manager_of_both)
        code = self.send_code(wizard_id)
        self.assertRegex(code, r"^\d{6}$")
        self.assertFalse(self.env["sms.sms"].sudo().search([]), "the text with the code is not kept once sent")
        self.assertRefused("AccessError", "online.sync.reactivate", "write", [wizard_id],
                           {"company_id": self.other_company.id})
        # Even moved by the superuser, the wizard's code does not fit another company.
        wizard = self.env["online.sync.reactivate"].browse(wizard_id)
        wizard.sudo().company_id = self.other_company
        self.call_kw("online.sync.reactivate", "write", [wizard_id], {"code": code})
        message = self.assertRefused("UserError", "online.sync.reactivate", "action_confirm_code", [wizard_id],
                                     companies=self.company | self.other_company)
        self.assertIn("not the one sent by SMS", message)
        self.assertTrue(self.other_company.online_sync_blocked)

        wizard.sudo().company_id = self.company
        self.call_kw("online.sync.reactivate", "action_confirm_code", [wizard_id])
        self.assertFalse(self.company.online_sync_blocked)
        event = self.env["online.sync.event"].search([("company_id", "=", self.company.id),
                                                      ("kind", "=", "reactivation")])
        self.assertEqual(event.user_id, self.manager_of_both, "the log states a check that did happen, by whom")

    def test_a_failed_sms_leaves_no_code_behind(self):
        self.fake.answer_state = "server_error"
        wizard_id = self.open_wizard(self.manager)
        self.call_kw("online.sync.reactivate", "write", [wizard_id], {"phone": TEST_PHONE})
        message = self.assertRefused("UserError", "online.sync.reactivate", "action_confirm_phone", [wizard_id])
        self.assertIn("could not be sent by SMS", message)
        self.assertFalse(self.env["sms.sms"].sudo().search([]), "no failed text keeps the code")
        self.assertFalse(self.env["online.sync.reactivate"].browse(wizard_id).code_sent)

    def test_steps_out_of_order_are_refused_clearly(self):
        wizard_id = self.open_wizard(self.manager)
        self.call_kw("online.sync.reactivate", "write", [wizard_id], {"code": "123456"})
        message = self.assertRefused("UserError", "online.sync.reactivate", "action_confirm_code", [wizard_id])
        self.assertIn("Confirm the phone number first", message)

    def test_the_phone_number_is_not_readable(self):
        self.login(self.manager)
        [company] = self.call_kw("res.company", "read", [self.company.id], ["online_sync_phone_hint"])
        self.assertEqual(company["online_sync_phone_hint"], "\N{HORIZONTAL ELLIPSIS}56", "only its last digits show")
        self.assertRefused("AccessError", "res.company", "read", [self.company.id], ["online_sync_phone_hash"])
        self.assertNotIn("online_sync_phone", self.env["res.company"]._fields, "the number itself is not stored")
        self.assertTrue(self.company._online_sync_phone_matches("+32470123456"))
        self.assertFalse(self.company._online_sync_phone_matches("+32470123457"))

    def test_another_company_manager_cannot_read_the_block_reason(self):
        self.login(self.other_manager)
        self.assertRefused("AccessError", "online.sync.reactivate", "create", {"company_id": self.company.id})
        self.assertRefused("AccessError", "online.link", "read", [self.link.id], ["company_block_reason"])
        wizard_id = self.open_wizard(self.manager)
        self.login(self.other_manager)
        self.assertRefused("AccessError", "online.sync.reactivate", "read", [wizard_id], ["block_reason"])


ATTEMPTS = 24


def test_parallel_wrong_codes_are_checked_five_times_only(registry):
    """Wrong codes sent at once from many workers: the company's row serializes them."""
    from odoo.addons.account_online_synchronization.wizard.online_sync_reactivate import _digest

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company = env["res.company"].create({"name": "Parallel reactivation"})
        manager = env["res.users"].create({
            "name": "Parallel manager", "login": f"parallel_{company.id}", "company_id": company.id,
            "company_ids": [Command.set(company.ids)],
            "groups_id": [Command.link(env.ref("account.group_account_manager").id)],
        })
        company._online_sync_set_phone(TEST_PHONE)
        company._online_sync_block("a test")
        wizard = env["online.sync.reactivate"].with_user(manager).with_company(company).create({})
        wizard.sudo().write({"code_sent": True, "code_digest": _digest(company, "654321"),
                             "code_expiry": "2099-01-01 00:00:00"})
        ids = (company.id, manager.id, wizard.id)
    messages = []
    barrier = threading.Barrier(ATTEMPTS)

    def attempt():
        barrier.wait()
        for _retry in range(100):  # as Odoo retries a request that failed to serialize
            try:
                with registry.cursor() as cr:
                    env = api.Environment(cr, ids[1], {"allowed_company_ids": [ids[0]]})
                    wizard = env["online.sync.reactivate"].browse(ids[2])
                    wizard.code = "111111"
                    message = "reactivated"
                    try:
                        wizard.action_confirm_code()
                    except UserError as error:
                        message = error.args[0]
                    cr.commit()  # what the refusal commits outside tests
                messages.append(message)
                return
            except psycopg2.errors.SerializationFailure:
                time.sleep(random.random() / 20)

    threads = [threading.Thread(target=attempt) for _index in range(ATTEMPTS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert len(messages) == ATTEMPTS
        assert sum("not the one sent" in message for message in messages) == 5, messages
        assert sum("Too many failed attempts" in message for message in messages) == ATTEMPTS - 5
    finally:
        with registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})["res.users"].browse(ids[1]).active = False
