from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..providers import PROVIDERS

#: Models of the former synchronization (account_online_sync), before December 2020.
LEGACY_MODELS = ("account.online.provider", "account.online.journal")


class OnlineLink(models.Model):
    """Connections of the former synchronization, shown disconnected beside the new ones."""

    _inherit = "online.link"

    is_legacy = fields.Boolean(
        string="Made Before December 2020", readonly=True, copy=False,
        help="Made with the former online synchronization: it cannot be synchronized any more. "
             "Create a new connection instead.",
    )
    legacy_provider_ref = fields.Integer(
        string="Former Connection ID", readonly=True, copy=False, index="btree_not_null",
    )

    _sql_constraints = [
        ("legacy_provider_ref_unique", "unique(legacy_provider_ref)",
         "A former connection is shown only once."),
    ]

    @api.model
    def _migrate_legacy_connections(self):
        """Disconnect every connection of the former synchronization and show it here.

        Journals keep their statements and lines but no longer point to the
        former synchronization. Running it again changes nothing more.
        Returns the connections created by this run.
        """
        if LEGACY_MODELS[0] not in self.env:
            return self.browse()
        legacy_providers = self.env[LEGACY_MODELS[0]].sudo().with_context(active_test=False).search([])
        self._retire_legacy_scheduler()
        legacy_providers.filtered(lambda provider: provider.status != "disconnected").write({"status": "disconnected"})
        journals_by_provider = {
            provider: provider.account_online_journal_ids.journal_ids for provider in legacy_providers
        }
        all_journals = self.env["account.journal"].union(*journals_by_provider.values())
        all_journals.write({"account_online_journal_id": False})
        all_journals.filtered(lambda journal: journal.bank_statements_source == "online_sync").write(
            {"bank_statements_source": "undefined"},
        )
        shown = set(self.sudo().with_context(active_test=False).search([("is_legacy", "=", True)]).mapped(
            "legacy_provider_ref",
        ))
        to_show = legacy_providers.filtered(lambda provider: provider.id not in shown)
        links = self.sudo().with_context(mail_create_nolog=True, tracking_disable=True).create([
            self._legacy_link_values(provider) for provider in to_show
        ])
        for link, provider in zip(links, to_show):
            link._post_legacy_note(journals_by_provider[provider])
        return links

    @api.model
    def _legacy_link_values(self, provider):
        company_currency = provider.company_id.currency_id
        return {
            "name": provider.name,
            "company_id": provider.company_id.id,
            "provider": provider.provider_type if provider.provider_type in PROVIDERS else False,
            "institution_identifier": provider.provider_identifier,
            "state": "disconnected",
            "auto_sync": False,
            "last_refresh": provider.last_refresh,
            "is_legacy": True,
            "legacy_provider_ref": provider.id,
            "account_ids": [
                fields.Command.create({
                    "name": online_journal.name,
                    "provider_account_id": online_journal.online_identifier or f"legacy-{online_journal.id}",
                    "account_number": online_journal.account_number,
                    "currency_id": (online_journal.journal_ids[:1].currency_id or company_currency).id,
                    "balance": online_journal.balance,
                    "last_sync": online_journal.last_sync,
                })
                for online_journal in provider.account_online_journal_ids
            ],
        }

    def _post_legacy_note(self, journals):
        self.ensure_one()
        body = Markup("<p>%s</p><p>%s</p>") % (
            _("%(bank)s was connected with the online synchronization used before December 2020. "
              "It has been disconnected and will not be synchronized any more.", bank=self.name),
            _("Journals %(journals)s keep all their statements and lines. To synchronize them again, create a new "
              "connection from Accounting > Configuration > Online Synchronization > Add a Bank Account and link "
              "the accounts to these journals.", journals=", ".join(journals.mapped("name")) or "-"),
        )
        self.message_post(body=body)

    @api.model
    def _retire_legacy_scheduler(self):
        """Stop the former scheduled action and point its menu to these connections."""
        self.env["ir.cron"].sudo().search([("model_id.model", "in", LEGACY_MODELS)]).write({"active": False})
        legacy_menu = self.env.ref("account_online_sync.menu_account_online_provider", raise_if_not_found=False)
        action = self.env.ref("account_online_synchronization.action_online_link")
        if legacy_menu and legacy_menu.action != action:
            legacy_menu.sudo().action = action

    def _check_resynchronizable(self):
        legacy = self.filtered("is_legacy")
        if legacy:
            raise UserError(_(
                "%(banks)s was connected with the online synchronization used before December 2020 and cannot be "
                "synchronized any more. Create a new connection from Accounting > Configuration > Online "
                "Synchronization > Add a Bank Account.",
                banks=", ".join(legacy.mapped("name")),
            ))
        return super()._check_resynchronizable()
