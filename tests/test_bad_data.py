"""Hostile or broken data from the bank never crashes a synchronization nor leaves a link retried silently.

The real Ponto connector (custom integration mode) reads a fake Ponto API serving data no
aggregator documents: attributes of the wrong type, impossible dates, amounts a float would round.
"""
import dataclasses
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from freezegun import freeze_time

from odoo.tests import TransactionCase, tagged

from odoo.addons.account_online_synchronization.providers.errors import MalformedResponse
from odoo.addons.account_online_synchronization.providers.parsing import parse_amount, parse_datetime
from odoo.addons.account_online_synchronization.providers.schema import Transaction

from fakes.ponto import ACCOUNTS, FakePonto
from online_sync_case import TEST_PHONE, choose_bank, click

EUR_ACCOUNT = ACCOUNTS[0][0]
LOGGER = "odoo.addons.account_online_synchronization.models.online_link"


class HostilePonto(FakePonto):
    """Ponto answering, when told to, with account attributes as a list."""

    attributes_as_list = False

    def _account_resource(self, account_id):
        resource = super()._account_resource(account_id)
        if self.attributes_as_list:
            resource["attributes"] = ["x"]
        return resource


@tagged("post_install", "-at_install", "online_sync")
class TestBadBankData(TransactionCase):

    def setUp(self):
        super().setUp()
        self.fake = HostilePonto().start()
        self.addCleanup(self.fake.stop)
        config = dict(self.fake.provider_config(), timeout=0.5, retries=0, backoff=0.01)
        self.patch(type(self.env["online.provider.config"]), "_get_for", lambda _self, _code, _company: dict(config))
        self.env["online.institution"]._refresh_from_provider("ponto")
        wizard = self.env["online.link.connect"].create({"phone": TEST_PHONE})
        choose_bank(wizard, self.fake.institution_id, "ponto").action_connect()
        self.link = wizard.link_id
        self.account = self.link.account_ids.filtered(lambda a: a.provider_account_id == EUR_ACCOUNT)
        self.account._link_to_journal(None, date.today() - timedelta(days=30))

    def lines(self):
        return self.env["account.bank.statement.line"].search([("online_account_id", "=", self.account.id)])

    def assertStoppedWithOneMessage(self, messages, text):
        self.assertEqual(self.link.state, "error")
        self.assertRegex(self.link.error_reference, r"^OBS-\d{8}-[0-9A-F]{6}$")
        self.assertEqual(len(messages), 1, "one chatter message")
        self.assertIn(text, messages.body)
        self.assertIn(self.link.error_reference, messages.body)

    def test_an_unexpected_shape_stops_the_link_with_a_reference_not_a_crash(self):
        self.fake.attributes_as_list = True
        before = self.link.message_ids
        with self.assertLogs(LOGGER, "ERROR") as logs:
            result = click(self.env, self.link.action_fetch_transactions)
        self.assertEqual(result["params"]["type"], "warning")
        self.assertIn(self.link.error_reference, result["params"]["message"])
        messages = self.link.message_ids - before
        self.assertStoppedWithOneMessage(messages, "could not be processed")
        self.assertNotIn("Traceback", messages.body + self.link.error_message, "the traceback is for the log only")
        self.assertNotIn("AttributeError", messages.body)
        log = "\n".join(logs.output)
        self.assertIn(self.link.error_reference, log)
        self.assertIn("AttributeError", log, "the server log has what support needs")

    def test_the_scheduler_records_an_unexpected_error_once_and_not_silently(self):
        self.fake.attributes_as_list = True
        before = self.link.message_ids
        with self.assertLogs(LOGGER, "ERROR"):
            self.env["online.link"]._cron_fetch_online_transactions()
        self.assertTrue(self.link.last_attempt, "the attempt is recorded")
        self.assertStoppedWithOneMessage(self.link.message_ids - before, "could not be processed")
        with freeze_time(datetime.now() + timedelta(hours=2)), self.assertLogs(LOGGER, "ERROR"):
            self.env["online.link"]._cron_fetch_online_transactions()
        self.assertEqual(len(self.link.message_ids - before), 1, "the same failure is not posted again")
        self.fake.attributes_as_list = False
        with freeze_time(datetime.now() + timedelta(hours=4)):
            self.env["online.link"]._cron_fetch_online_transactions()
        self.assertEqual(self.link.state, "connected", "the next good run recovers")
        self.assertTrue(self.lines())

    def check_refused(self, attributes, text):
        transaction_id = self.fake.add_transaction(EUR_ACCOUNT, "10.00", date.today() - timedelta(days=2))
        self.fake.as_is[transaction_id] = attributes
        before = self.link.message_ids
        click(self.env, self.link.action_fetch_transactions)
        messages = self.link.message_ids - before
        self.assertStoppedWithOneMessage(messages, text)
        self.assertIn(transaction_id, self.link.error_message, "the transaction is named")
        self.assertFalse(self.lines(), "nothing of the fetch is imported")

    def test_an_amount_a_float_would_round_is_refused(self):
        self.check_refused({"amount": "12345678901234567.89"}, "more than 15 significant digits")

    def test_digit_separators_are_refused(self):
        self.check_refused({"amount": "1_000.50"}, "invalid amount")

    def test_an_impossible_date_is_refused(self):
        self.check_refused({"executionDate": "0001-01-01T00:00:00+05:00"}, "implausible booking date")

    def test_a_dict_where_text_is_expected_is_refused(self):
        self.check_refused({"remittanceInformation": {"text": "x"}}, "dict as label where text is expected")


# The shared checks every connector's values go through.

def test_amounts_are_never_rounded_nor_read_loosely():
    assert parse_amount("1500.00") == Decimal("1500.00")
    assert parse_amount(12.5) == Decimal("12.5")
    for value in ("12345678901234567.89", 12345678901234567.89, "1_000.50", "NaN", "Infinity", " 1 000", True, None):
        with pytest.raises(MalformedResponse):
            parse_amount(value)


def test_dates_out_of_range_are_refused_not_crashing():
    for value in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "1066-10-14T09:00:00Z"):
        with pytest.raises(MalformedResponse):
            parse_datetime(value)


def test_transactions_refuse_wrong_types_and_sizes():
    valid = {"id": "t-1", "booking_date": date(2026, 1, 5), "amount": Decimal("1.00"), "currency": "EUR"}
    Transaction(**valid)
    for change, text in (({"id": "x" * 256}, "more than the 255"), ({"label": {"a": 1}}, "dict as label"),
                         ({"counterparty_name": "n" * 600}, "counterparty name of 600"),
                         ({"amount": Decimal("12345678901234567.89")}, "significant digits"),
                         ({"booking_date": "2026-01-05"}, "booking date"), ({"status": "maybe"}, "unknown status")):
        with pytest.raises(MalformedResponse, match=text):
            Transaction(**dict(valid, **change))


def test_the_raw_payload_is_kept_whole_as_json_text():
    raw = {"amount": Decimal("-12.50"), "bookedAt": datetime(2026, 1, 5, 9, 30), "remittance": ["Loyer été", None],
           "creditor": {"name": "Ünïcode & Co", "iban": "BE71096123456769"}}
    transaction = Transaction(id="t-1", booking_date=date(2026, 1, 5), amount=Decimal("-12.50"), currency="EUR", raw=raw)
    expected = {"amount": "-12.50", "bookedAt": "2026-01-05 09:30:00", "remittance": ["Loyer été", None],
                "creditor": {"name": "Ünïcode & Co", "iban": "BE71096123456769"}}
    assert transaction.payload == expected, "decimals and dates as their text, nothing else changed"
    assert dataclasses.replace(transaction, status="pending").payload == expected
    assert Transaction(id="t-2", booking_date=date(2026, 1, 5), amount=Decimal(1), currency="EUR").payload == {}
