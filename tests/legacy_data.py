"""Realistic data of the former synchronization (account_online_sync), shared by the legacy tests.

Also run inside `odoo shell` by the install-order tests, so it only needs an ``env``.
"""
import hashlib
from datetime import date, timedelta

#: (company key, institution, provider type, status, [(account name, number, currency or None)])
LEGACY_CONNECTIONS = [
    ("main", "Belfius", "ponto", "connected", [("Compte courant", "BE68539007547034", None),
                                               ("Compte épargne", "BE71096123456769", None)]),
    ("main", "Chase", "plaid", "error", [("Checking", "****1234", "USD")]),
    ("other", "HSBC", "yodlee", "connected", [("Business Account", "GB29NWBK60161331926819", None)]),
]


def create_legacy_data(env):
    """Two companies, three legacy connections, four journals with statements; return the providers."""
    companies = {"main": env.ref("base.main_company"), "other": _other_company(env)}
    providers = env["account.online.provider"]
    for serial, (company_key, name, provider_type, status, accounts) in enumerate(LEGACY_CONNECTIONS):
        company = companies[company_key]
        online_journals = []
        for index, (account_name, number, currency_code) in enumerate(accounts):
            journal = _bank_journal(env, company, f"L{serial}{index}", f"{name} {account_name}", currency_code)
            online_journals.append((0, 0, {
                "name": account_name,
                "account_number": number,
                "online_identifier": f"{provider_type}-acc-{serial}-{index}",
                "balance": 1000.0 * (index + 1),
                "last_sync": date(2020, 11, 30),
                "journal_ids": [(6, 0, journal.ids)],
            }))
        providers |= providers.create({
            "name": name,
            "provider_type": provider_type,
            "status": status,
            "provider_identifier": f"{provider_type}-ins-{serial}",
            "provider_account_identifier": f"{provider_type}-conn-{serial}",
            "client_id": f"client-{serial}",
            "last_refresh": "2020-11-30 06:00:00",
            "company_id": company.id,
            "account_online_journal_ids": online_journals,
        })
    return providers


def _other_company(env):
    company = env["res.company"].search([("name", "=", "Legacy Subsidiary")])
    if not company:
        company = env["res.company"].create({"name": "Legacy Subsidiary", "currency_id": env.ref("base.EUR").id})
        env["account.chart.template"].try_loading("generic_coa", company=company, install_demo=False)
    return company


def _bank_journal(env, company, code, name, currency_code):
    currency = env.ref(f"base.{currency_code}") if currency_code else env["res.currency"]
    if currency:
        currency.active = True
    journal = env["account.journal"].with_company(company).create({
        "name": name, "code": code, "type": "bank", "company_id": company.id,
        "currency_id": currency.id, "bank_statements_source": "online_sync",
    })
    for month in range(3):
        start = date(2020, 9 + month, 1)
        env["account.bank.statement"].with_company(company).create({
            "name": f"{code} {start:%Y-%m}",
            "journal_id": journal.id,
            "line_ids": [(0, 0, {
                "journal_id": journal.id,
                "date": start + timedelta(days=day * 7),
                "amount": (-1) ** day * (100.0 + 13.5 * day + month),
                "payment_ref": f"{name} transaction {month}-{day}",
            }) for day in range(4)],
        })
    return journal


def statements_fingerprint(env):
    """A digest of every statement and statement line: it changes if anything is lost or altered."""
    env.cr.execute("""
        SELECT string_agg(concat_ws('|', l.id, l.journal_id, m.date, l.amount, l.payment_ref, l.statement_id,
                                    s.name, s.balance_start, s.balance_end_real), ';' ORDER BY l.id)
          FROM account_bank_statement_line l
          JOIN account_move m ON m.id = l.move_id
     LEFT JOIN account_bank_statement s ON s.id = l.statement_id
    """)
    digest = env.cr.fetchone()[0] or ""
    env.cr.execute("SELECT count(*) FROM account_bank_statement_line")
    return env.cr.fetchone()[0], hashlib.sha256(digest.encode()).hexdigest()
