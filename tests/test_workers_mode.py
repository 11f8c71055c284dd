"""An accounting manager links a bank and synchronizes over HTTP, against Odoo in workers mode.

A real `odoo` server runs on a copy of the template database as in
production: two HTTP workers, a cron worker and Odoo's default limits (a
request is killed after 120 s). The test logs in as an accounting manager and
clicks through JSON-RPC, as the web client does: every click must answer
within seconds, and the import must complete in the background, reporting
its progress, without duplicating a line and without a worker killed by the
limits: each run of the import job stops within them and the next resumes.
"""
import json
import socket
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest
import requests

from odoo_cli import odoo, odoo_command, odoo_shell, template_copy

LOGIN = PASSWORD = "background_manager"
TEST_PHONE = "+32 470 12 34 56"
#: What a click may take, far below the 120 s after which Odoo kills a request.
CLICK_SECONDS = 5
IMPORT_TIMEOUT = 1500

SETUP = f"""
env["res.users"].create({{
    "name": "Background Manager", "login": {LOGIN!r}, "password": {PASSWORD!r},
    "groups_id": [(6, 0, [env.ref("base.group_user").id, env.ref("account.group_account_manager").id])],
}})
# The twelve-hourly synchronization stays out of the way: the clicks are what is tried here.
env.ref("account_online_synchronization.ir_cron_fetch_online_transactions").nextcall = "2099-01-01 00:00:00"
env.cr.commit()
"""

BANK_CHECK = """
import json
from odoo.addons.account_online_synchronization.providers.sandbox import SandboxProvider
link = env["online.link"].browse({link_id})
provider, tokens, result = SandboxProvider({{"scenario": "normal"}}), link._get_tokens(), {{}}
for account in link.account_ids:
    ids, cursor = set(), None
    while True:
        page = provider.list_transactions(tokens, account.provider_account_id, account.first_sync_date, cursor=cursor)
        ids |= {{t.id for t in page.transactions if t.is_posted}}
        cursor = page.next_cursor
        if not cursor:
            break
    result[account.id] = sorted(ids)
print("RESULT", json.dumps(result))
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Client:
    """A logged-in web client session; times every call."""

    def __init__(self, url, database):
        self.url, self.session = url, requests.Session()
        self.rpc("/web/session/authenticate", {"db": database, "login": LOGIN, "password": PASSWORD})

    def rpc(self, path, params):
        started = time.monotonic()
        response = self.session.post(self.url + path, json={"jsonrpc": "2.0", "method": "call", "params": params},
                                     timeout=180)
        self.elapsed = time.monotonic() - started
        response.raise_for_status()
        body = response.json()
        assert "error" not in body, body["error"]
        return body["result"]

    def call(self, model, method, *args, **kwargs):
        return self.rpc(f"/web/dataset/call_kw/{model}/{method}",
                        {"model": model, "method": method, "args": list(args), "kwargs": kwargs})

    def click(self, model, method, record_id):
        """Click a button of ``record_id``; fail if the answer takes more than a few seconds."""
        result = self.call(model, method, [record_id])
        assert self.elapsed < CLICK_SECONDS, f"{model}.{method} answered in {self.elapsed:.1f} s"
        return result, self.elapsed


@pytest.fixture(scope="module")
def server():
    """Odoo in workers mode with default limits on a copy of the template database; yields (url, database, log)."""
    with template_copy("workers") as database, tempfile.TemporaryFile("w+") as log:
        odoo("-d", database, "-u", "account_online_synchronization", "--stop-after-init")
        odoo_shell(database, SETUP)
        port = free_port()
        process = subprocess.Popen(odoo_command(
            "-d", database, f"--db-filter=^{database}$", "--workers=2", "--max-cron-threads=1",
            f"--http-port={port}", f"--gevent-port={free_port()}",
        ), stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                assert process.poll() is None, "the server stopped"
                try:
                    if requests.get(url + "/web/login", timeout=10).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(1)
            yield url, database, log
        finally:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.seek(0)
            print(log.read()[-4000:])


def committed_lines(database, account_ids):
    with psycopg2.connect(dbname=database, host="127.0.0.1") as connection, connection.cursor() as cr:
        cr.execute("""SELECT online_account_id, online_transaction_identifier FROM account_bank_statement_line
                       WHERE online_account_id = ANY(%s)""", (account_ids,))
        lines = {}
        for account_id, identifier in cr.fetchall():
            lines.setdefault(account_id, []).append(identifier)
        return lines


def bus_messages(database, kind):
    """The payloads of the bus notifications of type ``kind`` sent to the manager's web client."""
    with psycopg2.connect(dbname=database, host="127.0.0.1") as connection, connection.cursor() as cr:
        cr.execute("SELECT partner_id FROM res_users WHERE login = %s", (LOGIN,))
        channel = [database, "res.partner", cr.fetchone()[0]]
        cr.execute("SELECT channel, message FROM bus_bus ORDER BY id")
        messages = [json.loads(message) for target, message in cr.fetchall() if json.loads(target) == channel]
    return [message["payload"] for message in messages if message["type"] == kind]


def import_job_runs(database):
    """How many times Odoo ran the import job."""
    with psycopg2.connect(dbname=database, host="127.0.0.1") as connection, connection.cursor() as cr:
        cr.execute("""SELECT count(*) FROM ir_cron_progress p JOIN ir_model_data d ON d.res_id = p.cron_id
                       WHERE d.model = 'ir.cron' AND d.name = 'ir_cron_import_online_transactions'""")
        return cr.fetchone()[0]


def wait_for_import(client, link_id):
    """Poll the connection as its form does until its import ends; return the progress texts seen."""
    seen = []
    deadline = time.monotonic() + IMPORT_TIMEOUT
    while True:
        [link] = client.call("online.link", "read", [link_id], ["import_state", "import_status"])
        if not link["import_state"]:
            return seen
        if link["import_status"] not in seen:
            seen.append(link["import_status"])
        assert time.monotonic() < deadline, f"the import did not end: {seen[-1:]}"
        time.sleep(0.5)


def test_clicks_answer_at_once_and_imports_run_in_the_background(server):
    url, database, log = server
    client = Client(url, database)

    # Add a Bank Account: the sandbox bank, every account to a new journal, from the default date.
    [wizard_id] = client.call("online.link.connect", "create", [{"phone": TEST_PHONE}])
    [bank_id] = client.call("online.institution", "search",
                            [("provider", "=", "sandbox"), ("identifier", "=", "sandbox_bank")])
    client.call("online.link.connect", "write", [wizard_id], {"institution_id": bank_id})
    client.click("online.link.connect", "action_connect", wizard_id)
    [wizard] = client.call("online.link.connect", "read", [wizard_id], ["link_id", "account_line_ids"])
    link_id = wizard["link_id"][0]
    assert len(wizard["account_line_ids"]) == 3

    # Link and Synchronize, double-clicked: two requests at once.
    with ThreadPoolExecutor(2) as pool:
        clicks = [pool.submit(Client(url, database).click, "online.link.connect", "action_confirm", wizard_id)
                  for _click in range(2)]
        answers = [click.result() for click in clicks]
    for action, _elapsed in answers:
        assert (action["res_model"], action["res_id"]) == ("online.link", link_id), "both open the connection"
    journals = client.call("account.journal", "search_read", [("online_link_id", "=", link_id)], ["name"])
    assert len(journals) == 3, "one journal per account, whatever the number of clicks"

    progress = wait_for_import(client, link_id)
    assert any(text.startswith("Importing: ") for text in progress), progress
    [link] = client.call("online.link", "read", [link_id], ["state", "last_refresh", "account_ids"])
    assert link["state"] == "connected" and link["last_refresh"]
    account_ids = link["account_ids"]
    bank = {int(k): set(v) for k, v in json.loads(next(
        line for line in odoo_shell(database, BANK_CHECK.format(link_id=link_id)).splitlines()
        if line.startswith("RESULT "))[7:]).items()}
    lines = committed_lines(database, account_ids)
    for account_id in account_ids:
        assert len(lines[account_id]) == len(set(lines[account_id])), "no line twice"
        assert set(lines[account_id]) == bank[account_id], "every posted transaction of the bank, once"

    # The manager's web client was told each step and the end, and takes the summary once.
    steps = [payload["status"] for payload in bus_messages(database, "account_online_synchronization/import_progress")]
    assert "Importing: 3 of 3 accounts, {:,} lines so far".format(sum(map(len, lines.values()))) in steps
    assert steps[-1] is False, "the end of the import"
    [summary] = client.call("online.link", "take_import_summaries")
    assert summary["title"] == "Import from Sandbox Bank done"
    assert summary["message"].count(" new lines in ") == 3, summary["message"]
    assert client.call("online.link", "take_import_summaries") == []
    # Each run of the job stopped within the limits: no worker was killed.
    log.seek(0)
    server_log = log.read()
    assert "timeout after" not in server_log and "Exception occurred, exiting" not in server_log, server_log[-3000:]
    runs = import_job_runs(database)

    # Synchronize Now on each journal and Fetch Transactions: up to date, they answer inline.
    timings = []
    for journal in journals:
        result, elapsed = client.click("account.journal", "manual_sync", journal["id"])
        assert result["params"]["type"] == "success", result
        timings.append(elapsed)
    result, elapsed = client.click("online.link", "action_fetch_transactions", link_id)
    assert result["params"]["message"].startswith("Synchronization done"), result
    timings.append(elapsed)
    # Fetch Accounts only lists the bank's accounts: every one has its journal already.
    result, elapsed = client.click("online.link", "action_fetch_accounts", link_id)
    assert result["params"]["message"] == "Every account of Sandbox Bank is already synchronized.", result
    assert not client.call("online.link", "read", [link_id], ["import_state"])[0]["import_state"]
    timings.append(elapsed)
    for account_id, identifiers in committed_lines(database, account_ids).items():
        assert len(identifiers) == len(set(identifiers)), "no line twice"
        assert set(identifiers) >= set(lines[account_id])
    print(f"\nLink and Synchronize answered in {max(e for _a, e in answers):.2f} s (two clicks at once); "
          f"{sum(map(len, lines.values()))} lines imported in the background in {runs} runs of the job, progress "
          f"seen: {progress}; Synchronize Now / Fetch Transactions / Fetch Accounts answered in "
          f"{max(timings):.2f} s at most")
