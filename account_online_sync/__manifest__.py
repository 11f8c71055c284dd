{
    "name": "Online Bank Synchronization (before December 2020)",
    "summary": "Keeps the bank synchronization data of before December 2020 readable; never synchronizes",
    "description": """
Former Online Bank Synchronization (data only)
==============================================

Keeps the connections and accounts created by the online bank synchronization used before December 2020,
so their history stays readable. This module never contacts a bank and never imports transactions.

To synchronize bank accounts, install **Online Bank Synchronization** (account_online_synchronization) and
connect the banks again from Accounting.
""",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "Online Bank Synchronization contributors",
    "website": "https://github.com/account-online-synchronization",
    "depends": ["account"],
    "data": [
        "security/account_online_sync_security.xml",
        "security/ir.model.access.csv",
        "views/account_online_provider_views.xml",
        "views/account_online_journal_views.xml",
        "views/account_journal_views.xml",
        "views/account_online_sync_menus.xml",
    ],
    "post_init_hook": "post_init_hook",
    "installable": True,
}
