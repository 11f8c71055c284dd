"""Run Odoo's command line on a throw-away copy of the test template database."""
import os
import subprocess
import sys
from contextlib import contextmanager

import pytest


#: The repository's launcher of Odoo's command line (which workers mode needs to start its gevent process).
LAUNCHER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts", "odoo")


def odoo_command(*args):
    """The command line running `odoo` with ``args`` and this repository's addons."""
    command = [sys.executable, LAUNCHER, *args, f"--addons-path={os.environ['AOS_ADDONS_PATH']}", "--log-level=warn"]
    if os.environ.get("ODOO_DATA_DIR"):
        command.append(f"--data-dir={os.environ['ODOO_DATA_DIR']}")
    return command


def odoo(*args, stdin=None):
    """Run `odoo` with this repository's addons; return its standard output (fail on a non-zero exit)."""
    result = subprocess.run(odoo_command(*args), input=stdin, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def odoo_shell(database, script):
    """Run ``script`` in `odoo shell` on ``database``; return its standard output."""
    return odoo("shell", "-d", database, "--no-http", stdin=script)


@contextmanager
def template_copy(suffix):
    """A copy of the template database (Accounting with this addon auto-installed), dropped afterwards."""
    base = os.environ.get("AOS_TEST_BASE_DB")
    if not base:
        pytest.fail("AOS_TEST_BASE_DB is not set: run the suite with `make test`")
    name = f"{base}_{suffix}_{os.getpid()}"  # several suites may run at once on one server
    subprocess.run(["dropdb", "--if-exists", name], check=True)
    subprocess.run(["createdb", "-T", base, name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["dropdb", "--if-exists", name], check=True)
