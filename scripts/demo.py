# Connect the company to the sandbox bank (first run) or synchronize it again
# (later runs), then print what the synchronization did.
#
# Run inside an Odoo shell, which provides `env`:
#   odoo shell -d DB --no-http < scripts/demo.py
import sys

from odoo.exceptions import UserError

PROVIDER = "sandbox"
INSTITUTION = "sandbox_bank"
PHONE = "+32 470 12 34 56"
WIDTH = 78


def out(text=""):
    print(text, flush=True)


def money(amount, currency):
    return f"{amount:,.2f} {currency.name}"


def find_link(env):
    return env["online.link"].search([
        ("provider", "=", PROVIDER),
        ("institution_identifier", "=", INSTITUTION),
        ("company_id", "=", env.company.id),
        ("state", "!=", "disconnected"),
    ], order="id desc", limit=1)


def line_counts(env, journals):
    """Number of statement lines per journal id."""
    groups = env["account.bank.statement.line"]._read_group(
        [("journal_id", "in", journals.ids)], ["journal_id"], ["__count"],
    )
    return {journal.id: count for journal, count in groups}


def run_queued_imports(env):
    """Run the imports the clicks queued, as Odoo's scheduler does in the background."""
    links = env["online.link"]
    for _run in range(20):
        if not links.search_count([("import_state", "!=", False)]):
            return
        links._cron_import_queued()
        env.cr.commit()


def connect(env):
    """First run: connect the sandbox bank and link every account to a new bank journal."""
    wizard = env["online.link.connect"].create({"phone": PHONE})
    wizard.institution_id = env["online.institution"].search([
        ("provider", "=", PROVIDER), ("identifier", "=", INSTITUTION),
    ])
    if not wizard.institution_id:
        raise UserError(f"The {PROVIDER} provider offers no institution {INSTITUTION!r}.")
    wizard.action_connect()
    wizard.account_line_ids.action = "new"
    out(f"Connected to {wizard.link_id.name}: {len(wizard.account_line_ids)} accounts found, "
        f"importing transactions booked since {wizard.first_sync_date} ...")
    wizard.action_confirm()
    return wizard.link_id


def print_account(account, imported, total_lines):
    journal = account.journal_id
    currency = account.currency_id
    out("-" * WIDTH)
    out(f"{account.name}  ({account.account_number or 'no account number'})")
    rows = [
        ("Journal", f"{journal.name} [{journal.code}]"),
        ("Currency", currency.name),
        ("Imported by this run", f"{imported} statement lines"),
        ("Lines in the journal", str(total_lines)),
        ("Opening balance", f"{money(account.opening_balance, currency)} at the end of {account.opening_date}"
         if account.opening_date else "none recorded (the journal had lines before)"),
        ("Bank balance", f"{money(account.balance, currency)} booked"
         + (f" ({money(account.available_balance, currency)} available)" if account.available_balance else "")),
        ("Journal balance", money(account.journal_balance, currency)),
        ("Difference", money(account.balance_difference, currency)),
        ("Synchronized until", str(account.last_sync or "never")),
        ("Pending at the bank", f"{account.pending_count} transactions (imported once posted)"),
    ]
    for label, value in rows:
        out(f"  {label:<22} {value}")
    verdict = "bank balance = journal balance" if currency.is_zero(account.balance_difference) else (
        account.balance_finding_message or "difference acknowledged: " + (account.balance_difference_note or ""))
    out(f"  {'':<22} {verdict}")

    statements = account.env["account.bank.statement"].search(
        [("journal_id", "=", journal.id)], order="first_line_index asc, id asc",
    )
    out("")
    if not statements:
        out("  No statement yet.")
        return
    name_width = max(len("Statement"), *(len(statement.name or "") for statement in statements))
    amount_width = max(
        len("Closing balance"),
        *(len(f"{value:,.2f}") for statement in statements
          for value in (statement.balance_start, statement.balance_end_real)),
    )
    out(f"  {'Statement':<{name_width}}  {'Lines':>5}  {'Opening balance':>{amount_width}}  "
        f"{'Closing balance':>{amount_width}}  Complete")
    for statement in statements:
        out(f"  {statement.name or '':<{name_width}}  {len(statement.line_ids):>5}  "
            f"{statement.balance_start:>{amount_width},.2f}  {statement.balance_end_real:>{amount_width},.2f}  "
            f"{'yes' if statement.is_complete and statement.is_valid else 'NO'}")
    unfiled = total_lines - sum(len(statement.line_ids) for statement in statements)
    if unfiled:
        out(f"  {'(not in a statement)':<{name_width}}  {unfiled:>5}")


def main(env):
    link = find_link(env)
    first_run = not link
    if first_run:
        out(f"No connection to the sandbox bank yet for {env.company.name}: connecting.")
        counts_before = {}
        try:
            link = connect(env)
        except UserError as error:
            env.cr.rollback()
            out(f"Error: the connection failed: {error}")
            return 1
    else:
        out(f"Synchronizing {link.name} (connection #{link.id}) for {env.company.name} ...")
        counts_before = line_counts(env, link.account_ids.journal_ids)
        try:
            link.action_fetch_transactions()
        except UserError as error:
            env.cr.rollback()
            out(f"Error: {error}")
            return 1
    env.cr.commit()
    run_queued_imports(env)

    link.invalidate_recordset()
    link.account_ids.invalidate_recordset()
    accounts = link.account_ids
    linked = accounts.filtered("journal_id")
    failed = link.state != "connected"
    counts_after = line_counts(env, linked.journal_ids)

    out("")
    out("=" * WIDTH)
    out(f"{link.name} - connection #{link.id} ({link.company_id.name})")
    out(f"  {'State':<22} {dict(link._fields['state'].selection).get(link.state, link.state)}")
    out(f"  {'Last refresh':<22} {link.last_refresh or 'never'} (UTC)")
    if failed:
        out(f"  {'Error':<22} {link.error_message or link.error_code}")
        out(f"  {'Reference':<22} {link.error_reference}")

    total_imported = 0
    for account in linked:
        journal = account.journal_id
        delta = counts_after.get(journal.id, 0) - counts_before.get(journal.id, 0)
        # The counter is only written when the account's synchronization finished.
        imported = delta if failed else account.last_sync_imported
        total_imported += imported
        print_account(account, imported, counts_after.get(journal.id, 0))

    unlinked = accounts - linked
    if unlinked:
        out("-" * WIDTH)
        out("Accounts found at the bank but not linked to a journal (not synchronized):")
        for account in unlinked:
            out(f"  {account.name:<28} {account.currency_id.name:<4} {money(account.balance, account.currency_id)}")
    out("=" * WIDTH)

    journals = len(linked)
    if failed:
        out(f"Synchronization failed ({link.error_message}); {total_imported} statement lines were imported "
            f"before the failure. Reference: {link.error_reference}.")
        return 1
    if not total_imported:
        out("Nothing new to import: the database is up to date.")
    elif first_run:
        out(f"Connected and imported {total_imported} statement lines into {journals} new bank journals.")
    else:
        out(f"Imported {total_imported} new statement lines into {journals} journals.")
    return 0


status = main(env)
if status:
    sys.exit(status)
