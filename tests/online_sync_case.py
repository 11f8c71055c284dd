"""Shared set-up for the online synchronization tests: connect the sandbox bank as a user would."""
from datetime import date, timedelta

from odoo.tests import TransactionCase, tagged

from odoo.addons.account_online_synchronization.providers.sandbox import SandboxProvider

TEST_PHONE = "+32 470 12 34 56"


def bank_posted_ids(link, account, date_from):
    """Ids of the posted transactions the sandbox bank holds for ``account`` from ``date_from``."""
    provider = SandboxProvider({"scenario": "normal"})
    tokens = link._get_tokens()
    ids, cursor = set(), None
    while True:
        page = provider.list_transactions(tokens, account.provider_account_id, date_from, cursor=cursor)
        ids |= {t.id for t in page.transactions if t.is_posted}
        if not page.next_cursor:
            return ids
        cursor = page.next_cursor


def run_queued_imports(env):
    """Run the imports the clicks queued, as Odoo's scheduler does: again while some are queued."""
    links = env["online.link"]
    for _run in range(10):
        if not links.search_count([("import_state", "!=", False)]):
            return
        links._cron_import_queued()
    raise AssertionError("the queued imports did not end")


def click(env, button):
    """Click ``button`` (a bound method); run the import it queued, as the scheduler does.

    Return the notification the user gets: the click's own, or the import's
    summary when the import went to the background.
    """
    env["online.link"].take_import_summaries()  # those of earlier imports
    result = button()
    if not env["online.link"].search_count([("import_state", "!=", False)]):
        return result
    run_queued_imports(env)
    summaries = env["online.link"].take_import_summaries()
    return {"params": summaries[-1]} if summaries else result


def choose_bank(wizard, identifier, provider="sandbox"):
    """Pick the institution ``identifier`` of ``provider`` in the connect wizard, as a user does in its list."""
    wizard.institution_id = wizard.env["online.institution"].search([
        ("provider", "=", provider), ("identifier", "=", identifier),
    ])
    return wizard


@tagged("post_install", "-at_install", "online_sync")
class OnlineSyncCase(TransactionCase):
    """Connects the sandbox bank through the connect wizard, like an accounting manager."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.StatementLine = cls.env["account.bank.statement.line"]

    def connect(self, institution="sandbox_bank", accounts=("Current Account",), first_sync_date=None,
                volume=1, env=None, bank_settings=None, scenario=None):
        """Connect ``institution``, link ``accounts`` to new journals and run the first sync.

        ``bank_settings`` are further sandbox switches kept in the tokens (``pending_days``...);
        ``scenario`` is the sandbox scenario of the first sync.
        """
        env = env or self.env
        wizard = env["online.link.connect"].create({"phone": TEST_PHONE})
        choose_bank(wizard, institution).action_connect()
        link = wizard.link_id
        link._set_tokens(dict(link._get_tokens(), daily_volume=volume, **(bank_settings or {})))
        if scenario:
            link.sandbox_scenario = scenario
        for line in wizard.account_line_ids:
            line.action = "new" if line.name in accounts else "skip"
        wizard.first_sync_date = first_sync_date or date.today() - timedelta(days=30)
        wizard.action_confirm()
        self.run_queued_imports()
        return link

    def run_queued_imports(self):
        run_queued_imports(self.env)

    def lines_of(self, account):
        return self.StatementLine.search([("online_account_id", "=", account.id)])

    def assertImportedExactly(self, account, expected_ids):
        lines = self.lines_of(account)
        identifiers = lines.mapped("online_transaction_identifier")
        self.assertEqual(len(identifiers), len(set(identifiers)), "a transaction was imported twice")
        self.assertEqual(set(identifiers), expected_ids)

    def chatter(self, link):
        return link.message_ids.mapped("body")
