"""Faults of the network, of the bank's data and of the database during a synchronization.

Each fault is injected at the HTTP boundary of the real Ponto connector, in its
custom integration mode (the connection completes without a consent page),
against the fake Ponto API, with chunks of ten lines so that importing the
account's history takes several commits. For each fault: the user gets one
chatter message with a reference, nothing is half-imported, no transaction is
imported twice, the synchronized date does not pass what is imported, and the
next run imports exactly the bank's posted transactions.
"""
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal

from freezegun import freeze_time

from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL, mute_logger

from odoo.addons.account_online_synchronization.models import online_account

from fakes.ponto import ACCOUNTS, FakePonto
from online_sync_case import TEST_PHONE, choose_bank, run_queued_imports

#: The listing of an account's booked transactions (paged).
TRANSACTIONS = r"/accounts/[^/]+/transactions$"
EUR_ACCOUNT = ACCOUNTS[0][0]
FIRST_SYNC = date.today() - timedelta(days=120)
CHUNK_SIZE = 10
#: Attempts of one call: the connector is configured with two retries.
ATTEMPTS = 3

#: Summed over the module and printed at its end.
FIGURES = {"faults": 0, "imported": 0, "duplicates": 0}


def tearDownModule():
    print(f"\nFaults injected: {FIGURES['faults']}, transactions imported: {FIGURES['imported']}, "
          f"duplicates found: {FIGURES['duplicates']}")


def ponto_error(status_code, detail):
    """A Ponto JSON:API error body and its headers, with the request id support would quote."""
    request_id = str(uuid.uuid4())
    body = {"errors": [{"code": status_code, "detail": detail, "meta": {"requestId": request_id}}]}
    return {"body": body, "headers": {"ibanity-request-id": request_id}}


@tagged("post_install", "-at_install", "online_sync")
class TestFaults(TransactionCase):

    def setUp(self):
        super().setUp()
        self.fake = FakePonto().start()
        self.addCleanup(self.fake.stop)
        config = dict(self.fake.provider_config(), timeout=0.5, retries=ATTEMPTS - 1, backoff=0.01)
        self.patch(type(self.env["online.provider.config"]), "_get_for", lambda _self, _code, _company: dict(config))
        self.patch(online_account, "CHUNK_SIZE", CHUNK_SIZE)
        self.env["online.institution"]._refresh_from_provider("ponto")
        wizard = self.env["online.link.connect"].create({"phone": TEST_PHONE})
        choose_bank(wizard, self.fake.institution_id, "ponto").action_connect()
        self.link = wizard.link_id
        self.account = self.link.account_ids.filtered(lambda a: a.provider_account_id == EUR_ACCOUNT)
        self.account._link_to_journal(None, FIRST_SYNC)

    def tearDown(self):
        FIGURES["imported"] += len(self.lines())
        super().tearDown()

    # steps ---------------------------------------------------------------------

    def inject(self, status, count=ATTEMPTS, **options):
        """Make the next calls listing booked transactions fail (by default every attempt of one call)."""
        FIGURES["faults"] += 1
        self.fake.fail_next(status, count=count, path=TRANSACTIONS, **options)

    def synchronize(self):
        """Click Fetch Transactions; return the notification the user gets and the chatter messages added.

        A first import goes to the background job: the user's notification comes when it ends.
        """
        before = self.link.message_ids
        result = self.link.action_fetch_transactions()
        if self.link.import_state:
            run_queued_imports(self.env)
            [summary] = self.env["online.link"].take_import_summaries()
            result = {"params": summary}
        return result, self.link.message_ids - before

    def lines(self):
        return self.env["account.bank.statement.line"].search([("online_account_id", "=", self.account.id)])

    def booked_in_import_order(self):
        """The bank's booked transactions of the account as the engine imports them: by date, then id."""
        return sorted(self.fake.posted[EUR_ACCOUNT], key=lambda t: (t["attributes"]["executionDate"], t["id"]))

    # checks --------------------------------------------------------------------

    def assertNoDuplicates(self):
        identifiers = self.lines().mapped("online_transaction_identifier")
        duplicates = len(identifiers) - len(set(identifiers))
        FIGURES["duplicates"] += duplicates
        self.assertEqual(duplicates, 0, "a transaction was imported twice")
        return set(identifiers)

    def assertFailed(self, sync, code, text, lines_before, request_id=None):
        """One failed run: a clear error with a reference, told once, and nothing half-imported."""
        result, messages = sync
        link = self.link
        retried = code in ("rate_limited", "institution_unavailable")
        self.assertEqual(link.state, "retrying" if retried else "error", "an outage is retried, not an error")
        self.assertEqual(link.error_code, code)
        self.assertIn(text, link.error_message)
        self.assertRegex(link.error_reference, r"^OBS-\d{8}-[0-9A-F]{6}$")
        self.assertEqual(len(messages), 1, "one chatter message per failure")
        self.assertIn(text, messages.body)
        self.assertIn(link.error_reference, messages.body)
        if request_id:
            self.assertIn(request_id, messages.body, "support can find the call at the aggregator")
        self.assertEqual(result["params"]["type"], "warning")
        self.assertIn(link.error_reference, result["params"]["message"])
        self.assertEqual(self.lines(), lines_before, "nothing half-imported")
        self.assertNoDuplicates()
        self.assertFalse(self.account.last_sync, "the synchronized date does not move")

    def assertCatchesUp(self):
        """The next run completes: exactly the bank's booked transactions are imported, once."""
        result, messages = self.synchronize()
        self.assertEqual(self.link.state, "connected")
        self.assertEqual(result["params"]["type"], "success")
        self.assertIn("works again", " ".join(messages.mapped("body")))
        self.assertInSync()

    def assertInSync(self):
        self.assertEqual(self.assertNoDuplicates(), set(self.fake.posted_ids(EUR_ACCOUNT)))
        self.assertEqual(self.account.last_sync, date.today())

    def fails_then_catches_up(self, status, code, text, count=ATTEMPTS, **options):
        self.inject(status, count, **options)
        self.assertFailed(self.synchronize(), code, text, self.lines(),
                          request_id=options.get("headers", {}).get("ibanity-request-id"))
        self.assertCatchesUp()

    # the network and the aggregator --------------------------------------------

    def test_timeouts(self):
        self.fails_then_catches_up("timeout", "institution_unavailable", "did not answer in time")

    def test_connection_resets(self):
        self.fails_then_catches_up("reset", "institution_unavailable", "the connection broke")

    def test_answers_cut_off_midway(self):
        self.fails_then_catches_up("cut", "institution_unavailable", "the connection broke",
                                   body={"data": [{"type": "transaction", "id": "x" * 64}] * 20})

    def test_server_errors(self):
        self.fails_then_catches_up(503, "institution_unavailable", "Ponto is temporarily unavailable",
                                   **ponto_error("serviceUnavailable", "The service is temporarily unavailable."))

    def test_rate_limited_with_retry_after(self):
        error = ponto_error("tooManyRequests", "Too many requests, please retry later.")
        error["headers"]["Retry-After"] = "1"
        started = time.monotonic()
        self.inject(429, **error)
        sync = self.synchronize()
        self.assertGreaterEqual(time.monotonic() - started, 2, "Retry-After is honoured between attempts")
        self.assertFailed(sync, "rate_limited", "limits how often", self.lines(),
                          request_id=error["headers"]["ibanity-request-id"])
        self.assertCatchesUp()

    def test_truncated_json(self):
        headers = dict(ponto_error("-", "-")["headers"], **{"Content-Type": "application/json"})
        self.fails_then_catches_up(200, "malformed_response", "not valid JSON", count=1, headers=headers,
                                   body='{"data": [{"type": "transaction", "id": "6f1c3a52-7d0e-4b8f')

    def test_malformed_json(self):
        self.fails_then_catches_up(200, "malformed_response", "invalid list of resources", count=1,
                                   body={"data": {"type": "transaction"}, "links": {}})

    def test_page_failing_in_the_middle_of_paging(self):
        listed = len([r for r in self.fake.requests if r.path.endswith("/transactions")])
        self.fails_then_catches_up(500, "institution_unavailable", "Ponto is temporarily unavailable", after=2,
                                   **ponto_error("internalServerError", "An unexpected error occurred."))
        calls = [r for r in self.fake.requests if r.path.endswith("/transactions")][listed:]
        self.assertEqual([bool(r.arg("page[after]")) for r in calls[:5]], [False, True, True, True, True],
                         "the third page failed, after two pages were read")

    def test_single_transient_faults_are_absorbed_by_the_retry(self):
        faults = [
            ("timeout", {}),
            (503, ponto_error("serviceUnavailable", "The service is temporarily unavailable.")),
            ("reset", {}),
            ("cut", {"body": {"data": []}}),
            (429, {"headers": {"Retry-After": "1"}}),
        ]
        for day, (status, options) in enumerate(faults):
            self.fake.add_transaction(EUR_ACCOUNT, Decimal("-10.00") - day, date.today() - timedelta(days=day))
            self.inject(status, count=1, **options)
            started = time.monotonic()
            result, messages = self.synchronize()
            self.assertEqual(result["params"]["type"], "success", status)
            self.assertEqual(self.link.state, "connected", status)
            self.assertFalse(messages.filtered(lambda message: "pending at the bank" not in message.body),
                             "nothing to tell the user but what was imported")
            self.assertInSync()
        self.assertGreaterEqual(time.monotonic() - started, 1, "the 429 answer's Retry-After is honoured")

    # the bank's data -------------------------------------------------------------

    def test_duplicate_ids_inside_one_page(self):
        booked = self.booked_in_import_order()  # Ponto lists them newest first, ten per page
        self.fake.repeat_in_page(booked[-1]["id"])
        self.fake.repeat_in_page(booked[-CHUNK_SIZE]["id"])
        FIGURES["faults"] += 1
        result, _messages = self.synchronize()
        self.assertEqual(result["params"]["type"], "success")
        self.assertEqual(len(self.lines()), len(self.fake.posted[EUR_ACCOUNT]))
        self.assertInSync()

    def test_transaction_id_changing_when_booked(self):
        pending = {t["id"] for t in self.fake.pending[EUR_ACCOUNT]}
        self.synchronize()
        self.assertEqual(self.account.pending_count, len(pending))
        self.fake.post_pending()
        FIGURES["faults"] += 1
        self.synchronize()
        identifiers = self.assertNoDuplicates()
        self.assertFalse(identifiers & pending, "the pending ids are never imported")
        self.assertEqual(self.account.pending_count, 0)
        self.assertEqual(len(identifiers), len(self.fake.posted[EUR_ACCOUNT]), "each booked once, under its new id")
        self.assertInSync()

    def test_amounts_as_strings_with_trailing_zeros_are_exact(self):
        booked = self.booked_in_import_order()
        self.fake.serve_as_is(booked[0]["id"], amount="-12.3400000")
        self.fake.serve_as_is(booked[-1]["id"], amount="1500.0000000000")
        FIGURES["faults"] += 1
        self.synchronize()
        amounts = {line.online_transaction_identifier: line.amount for line in self.lines()}
        self.assertEqual(amounts[booked[0]["id"]], -12.34)
        self.assertEqual(amounts[booked[-1]["id"]], 1500.0)
        self.assertInSync()

    def test_amount_more_precise_than_its_currency_is_refused(self):
        newest = self.booked_in_import_order()[-1]["id"]
        self.fake.serve_as_is(newest, amount="-12.3456789")
        FIGURES["faults"] += 1
        self.assertFailed(self.synchronize(), "malformed_response", f"Transaction {newest} has the amount -12.3456789",
                          self.lines())
        self.fake.as_is.clear()  # the bank corrects its feed
        self.assertCatchesUp()

    def test_unknown_currency_code(self):
        newest = self.booked_in_import_order()[-1]["id"]
        self.fake.serve_as_is(newest, currency="XQZ")
        FIGURES["faults"] += 1
        self.assertFailed(self.synchronize(), "malformed_response", "unknown currency code: XQZ", self.lines())
        self.fake.as_is.clear()
        self.assertCatchesUp()

    def test_booking_dates_in_the_future_wait_for_their_day(self):
        today = date.today()
        future = self.fake.add_transaction(EUR_ACCOUNT, Decimal("-99.99"), today + timedelta(days=2))
        FIGURES["faults"] += 1
        self.synchronize()
        self.assertEqual(self.link.state, "connected")
        self.assertNotIn(future, self.lines().mapped("online_transaction_identifier"))
        self.assertEqual(self.account.pending_count, len(self.fake.pending[EUR_ACCOUNT]) + 1)
        self.assertEqual(self.account.last_sync, today, "never past today")
        with freeze_time(today + timedelta(days=1)):
            self.synchronize()
            self.assertNotIn(future, self.lines().mapped("online_transaction_identifier"))
            self.assertEqual(self.account.last_sync, today + timedelta(days=1))
        with freeze_time(today + timedelta(days=2)):
            self.synchronize()
            self.assertEqual(self.account.pending_count, len(self.fake.pending[EUR_ACCOUNT]))
            self.assertEqual(self.assertNoDuplicates(), set(self.fake.posted_ids(EUR_ACCOUNT)))
            self.assertEqual(self.account.last_sync, today + timedelta(days=2))

    # the database ------------------------------------------------------------------

    def test_database_error_in_the_middle_of_a_batch(self):
        booked = self.booked_in_import_order()
        self.assertEqual(len(booked), 4 * CHUNK_SIZE)
        marked = booked[2 * CHUNK_SIZE + 5]["id"]  # in the third chunk
        self.env.cr.execute(SQL(
            """CREATE FUNCTION test_refuse_marked_line() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN RAISE EXCEPTION 'marked statement line refused'; END $$;
               CREATE TRIGGER test_refuse_marked_line BEFORE INSERT ON account_bank_statement_line
               FOR EACH ROW WHEN (NEW.online_transaction_identifier = %s)
               EXECUTE FUNCTION test_refuse_marked_line()""",
            marked,
        ))
        FIGURES["faults"] += 1
        with mute_logger("odoo.sql_db", online_account.__name__):
            result, messages = self.synchronize()
        self.assertEqual(self.link.state, "error")
        self.assertEqual(self.link.error_message, "Compte courant: unexpected error: marked statement line refused")
        self.assertEqual(len(messages), 1)
        self.assertIn(self.link.error_reference, messages.body)
        self.assertIn(self.link.error_reference, result["params"]["message"])
        committed = booked[:2 * CHUNK_SIZE]
        self.assertEqual(self.assertNoDuplicates(), {t["id"] for t in committed},
                         "the chunks before are kept, the failing one is entirely absent")
        self.assertEqual(self.account.last_sync, date.fromisoformat(committed[-1]["attributes"]["executionDate"][:10]))
        self.assertEqual(max(self.lines().mapped("date")), self.account.last_sync)
        self.assertTrue(all(line.move_id.state == "posted" for line in self.lines()))
        self.env.cr.execute(SQL("DROP TRIGGER test_refuse_marked_line ON account_bank_statement_line"))
        self.assertCatchesUp()
