"""The Bank Synchronization section of the Accounting settings: aggregators, schedule, encryption key."""
from odoo.tests import TransactionCase, tagged
from odoo.tools import config

FETCH_CRON = "account_online_synchronization.ir_cron_fetch_online_transactions"


@tagged("post_install", "-at_install", "online_sync")
class TestSettingsSection(TransactionCase):

    def settings(self):
        return self.env["res.config.settings"].create({})

    def test_the_section_shows_in_the_accounting_settings(self):
        arch = self.env["res.config.settings"].get_views([(False, "form")])["views"]["form"]["arch"]
        for setting in ("online_sync_aggregators", "online_sync_schedule", "online_sync_encryption_key"):
            self.assertIn(f'id="{setting}"', arch)

    def test_the_schedule_says_how_often_and_opens_the_scheduled_action(self):
        cron = self.env.ref(FETCH_CRON)
        cron.write({"interval_number": 12, "interval_type": "hours", "active": True})
        settings = self.settings()
        self.assertEqual(settings.online_sync_schedule, "Every 12 hours")
        self.assertEqual(settings.action_open_online_sync_schedule()["res_id"], cron.id)
        cron.active = False
        self.assertIn("Off", self.settings().online_sync_schedule)

    def test_the_key_status_says_where_the_key_is(self):
        self.patch(config, "options", dict(config.options, online_sync_encryption_key=""))
        self.assertIn("Kept in the database", self.settings().online_sync_key_status)
        self.patch(config, "options", dict(config.options, online_sync_encryption_key="a-key-from-the-file"))
        status = self.settings().online_sync_key_status
        self.assertIn("configuration file", status)
        self.assertNotIn("a-key-from-the-file", status, "the key itself is never shown")

    def test_the_settings_page_receives_the_schedule_and_key_status(self):
        # What the web client asks when it opens the settings: the computed values of a new record.
        spec = {"company_id": {}, "online_sync_schedule": {}, "online_sync_key_status": {}}
        values = self.env["res.config.settings"].onchange({}, [], spec)["value"]
        self.assertTrue(values.get("online_sync_schedule"))
        self.assertTrue(values.get("online_sync_key_status"))
