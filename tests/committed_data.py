"""Data committed for tests that need other database connections or processes to see it.

Such tests cannot run inside the usual rolled-back test transaction; they work
in a company of their own and remove what they created at the end.
"""
import uuid


def create_company(env, prefix):
    """A new company with the generic chart of accounts, named ``prefix`` plus a random suffix."""
    company = env["res.company"].create({
        "name": f"{prefix} {uuid.uuid4().hex[:8]}", "currency_id": env.company.currency_id.id,
    })
    env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
    return company


def remove_links(links):
    """Remove ``links`` with the statements and lines they imported."""
    lines = links.env["account.bank.statement.line"].search([("online_account_id", "in", links.account_ids.ids)])
    statements = lines.statement_id
    lines.unlink()
    statements.unlink()
    links.unlink()


def line_identifiers(registry, account_id):
    """The transaction ids imported into ``account_id``, as committed."""
    with registry.cursor() as cr:
        cr.execute(
            "SELECT online_transaction_identifier FROM account_bank_statement_line WHERE online_account_id = %s",
            (account_id,),
        )
        return [row[0] for row in cr.fetchall()]
