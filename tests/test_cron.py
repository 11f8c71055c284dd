from datetime import date, timedelta

from freezegun import freeze_time
from lxml import etree

from odoo.tests import tagged

from online_sync_case import OnlineSyncCase

TODAY = date(2026, 3, 18)


@tagged("post_install", "-at_install", "online_sync")
class TestCron(OnlineSyncCase):

    def test_cron_is_scheduled_every_12_hours(self):
        cron = self.env.ref("account_online_synchronization.ir_cron_fetch_online_transactions")
        self.assertTrue(cron.active)
        self.assertEqual((cron.interval_number, cron.interval_type), (12, "hours"))
        self.assertEqual(cron.code.strip(), "model._cron_fetch_online_transactions()")

    def test_dashboard_offers_synchronize_now_and_the_connection_state(self):
        arch = self.env.ref("account.account_journal_dashboard_kanban_view")._get_combined_arch()
        tree = etree.fromstring(arch) if isinstance(arch, (str, bytes)) else arch
        self.assertTrue(tree.xpath("//button[@name='manual_sync']"), "Synchronize Now is on the bank cards")
        self.assertTrue(tree.xpath("//a[@name='action_open_online_link']"), "a warning links to the connection")
        for field in ("online_link_id", "online_link_state", "online_last_refresh"):
            self.assertTrue(tree.xpath(f"//field[@name='{field}']"), field)

    def test_cron_works_in_batches_and_reports_progress(self):
        with freeze_time(TODAY):
            links = [self.connect(first_sync_date=TODAY) for _i in range(3)]
        cron = self.env.ref("account_online_synchronization.ir_cron_fetch_online_transactions")
        progress = self.env["ir.cron.progress"].create({"cron_id": cron.id, "remaining": 0, "done": 0})
        model = self.env["online.link"].with_context(ir_cron_progress_id=progress.id)
        with freeze_time(TODAY + timedelta(days=1)):
            model._cron_fetch_online_transactions(batch_size=2)
            self.assertEqual((progress.done, progress.remaining), (2, 1))
            model._cron_fetch_online_transactions(batch_size=2)
            self.assertEqual((progress.done, progress.remaining), (1, 0))
            self.assertTrue(all(link.last_attempt.date() == TODAY + timedelta(days=1) for link in links))

    def test_cron_skips_links_without_auto_sync(self):
        with freeze_time(TODAY):
            link = self.connect(first_sync_date=TODAY)
        link.auto_sync = False
        account = link.account_ids.filtered("journal_id")
        with freeze_time(TODAY + timedelta(days=2)):
            self.env["online.link"]._cron_fetch_online_transactions()
        self.assertEqual(account.last_sync, TODAY)

    def test_manual_only_institution_message_posted_once(self):
        with freeze_time(TODAY):
            link = self.connect(institution="sandbox_manual", first_sync_date=TODAY)
        self.assertFalse(link.auto_sync, "new connections to such banks start without automatic sync")
        link.auto_sync = True
        account = link.account_ids.filtered("journal_id")
        for days in (1, 2, 3):
            with freeze_time(TODAY + timedelta(days=days)):
                self.env["online.link"]._cron_fetch_online_transactions()
        bodies = [b for b in self.chatter(link) if "does not allow transactions to be fetched automatically" in b]
        self.assertEqual(len(bodies), 1)
        self.assertEqual(account.last_sync, TODAY, "the cron does not refresh such banks")
        with freeze_time(TODAY + timedelta(days=3)):
            account.journal_id.manual_sync()
        self.assertEqual(account.last_sync, TODAY + timedelta(days=3), "manual sync still works")
