"""Field-level protection: what each role may write through ``create``/``write`` (RPC included).

``readonly`` only limits the web client. Each protected model lists, per group, the fields
its members may write; every other guarded field is written by the synchronization engine
only, which runs as superuser (``sudo()``). The superuser is never restricted.
"""
from odoo import _, api, models
from odoo.exceptions import AccessError


def check_writable(records, vals_list, writable, guarded=None, creating=False):
    """Refuse ``vals_list`` when it sets a guarded field the current user may not write.

    ``writable`` maps a group's XML id to the fields its members may write; ``guarded``
    limits the check to some fields (every field of the model by default). At creation,
    empty values are what the field holds anyway: only values given are refused.
    """
    env = records.env
    if env.su:
        return
    allowed = set()
    for group, field_names in writable.items():
        if env.user.has_group(group):
            allowed.update(field_names)
    refused = {
        name for vals in vals_list for name, value in vals.items()
        if name not in allowed and (guarded is None or name in guarded) and (value or not creating)
    }
    if refused:
        labels = sorted(records._fields[name].string if name in records._fields else name for name in refused)
        message = _(
            "You may not create %(model)s records with %(fields)s: these values are set by the bank "
            "synchronization itself.", model=records._description, fields=", ".join(labels),
        ) if creating else _(
            "You may not change %(fields)s of %(model)s: these values are set by the bank synchronization itself.",
            model=records._description, fields=", ".join(labels),
        )
        raise AccessError(message)


def check_company_allowed(env, company_ids):
    """Refuse a company the current user has not selected (``env.companies``)."""
    foreign = env["res.company"].browse(company_ids) - env.companies
    if foreign and not env.su:
        mine = env.user.company_ids
        raise AccessError(_(
            "You cannot act for %(companies)s: it is not one of the companies selected in the company switcher.",
            companies=", ".join(company.name if company in mine else f"#{company.id}" for company in foreign.sudo()),
        ))


class OnlineSyncProtected(models.AbstractModel):
    """Restricts ``create`` and ``write`` to the fields listed in ``_user_writable`` and ``_user_creatable``."""

    _name = "online.sync.protected"
    _description = "Online Synchronization Field Protection"

    #: Group XML id -> fields its members may write (others: the engine only).
    _user_writable = {}
    #: Group XML id -> fields its members may give at creation (others: the engine only).
    _user_creatable = {}

    def _guarded_fields(self):
        """The fields under protection: all but the chatter's."""
        thread_fields = self.env["mail.thread"]._fields if "mail.thread" in self.env else {}
        return set(self._fields) - set(thread_fields)

    @api.model_create_multi
    def create(self, vals_list):
        check_writable(self, vals_list, self._user_creatable, self._guarded_fields(), creating=True)
        if "company_id" in self._fields:
            check_company_allowed(self.env, {vals["company_id"] for vals in vals_list if vals.get("company_id")})
        return super().create(vals_list)

    def write(self, vals):
        check_writable(self, [vals], self._user_writable, self._guarded_fields())
        return super().write(vals)


class OnlineSyncGuarded(models.AbstractModel):
    """For Odoo's own models: the fields of ``_online_guarded_fields`` are written by the engine only."""

    _name = "online.sync.guarded"
    _description = "Online Synchronization Fields of Odoo Models"

    #: Fields that only the synchronization engine (as superuser) may write.
    _online_guarded_fields = set()

    @api.model_create_multi
    def create(self, vals_list):
        check_writable(self, vals_list, {}, self._online_guarded_fields, creating=True)
        return super().create(vals_list)

    def write(self, vals):
        check_writable(self, [vals], {}, self._online_guarded_fields)
        return super().write(vals)
