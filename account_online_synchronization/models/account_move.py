from odoo import models, tools

#: Context key under which a bank import's new entries are linked, numbered and posted together.
BATCH_NUMBERING = "online_sync_batch_numbering"
#: What Odoo's statement line creation writes on each new entry to link it to its line.
LINK_VALUES = {"statement_line_id", "narration", "name"}
#: What Odoo's entry creation writes on the entries it just created.
CREATED_VALUES = {"is_manually_modified": False}
#: The fields whose value is the entry's journal, on the entry, its journal items and its statement line.
JOURNAL_FIELDS = (("account.move", "journal_id"), ("account.move.line", "journal_id"),
                  ("account.bank.statement.line", "journal_id"))
#: The fields Odoo computes from the entry's currency on invoices only, which a bank entry never is.
INVOICE_CURRENCY_FIELDS = (("account.move.line", "currency_id"), ("account.move", "invoice_currency_rate"))


class AccountMove(models.Model):
    _inherit = "account.move"

    def write(self, vals):
        if self.env.context.get(BATCH_NUMBERING):
            if vals == CREATED_VALUES and self._online_sync_are_unlinked_drafts():
                self._online_sync_set_as_computed(vals)
                return True
            if vals.keys() == LINK_VALUES and self._online_sync_is_new_link(vals):
                self._online_sync_set_as_computed({**vals, "is_manually_modified": True})
                return True
        return super().write(vals)

    def _post(self, soft=True):
        if not self.env.context.get(BATCH_NUMBERING):
            return super()._post(soft)
        # What depends on the links written by ``_online_sync_link``, for the whole batch at once.
        with self.env.protecting(self._online_sync_unchanged_by_link()):
            self.modified(["statement_line_id", "name"])
        # The import gives each entry its "checked" flag at creation: posting sets it again, entry by entry.
        with self.env.protecting([self._fields["checked"]], self):
            return super()._post(soft)

    def _online_sync_are_unlinked_drafts(self):
        """Whether ``self`` are draft entries not linked to a statement line yet, as a bank import creates them."""
        return all(move.state == "draft" and not move.statement_line_id for move in self)

    def _online_sync_is_new_link(self, vals):
        """Whether ``vals`` is the link Odoo writes on the draft entry its new statement line was just created with."""
        return (len(self) == 1 and self._online_sync_are_unlinked_drafts() and not vals["name"]
                and self.env["account.bank.statement.line"].browse(vals["statement_line_id"]).move_id == self)

    def _online_sync_set_as_computed(self, vals):
        """Write ``vals`` on new entries as a computation does.

        Odoo's ``write`` would run, on each such write, the checks and the
        synchronization of a user's edit; none applies to draft entries nothing
        else refers to yet. Posting, which follows at once for the whole batch,
        recomputes what depends on the link, then checks the entries.
        """
        with self.env.protecting([self._fields[name] for name in vals], self):
            self.update(vals)

    def _online_sync_unchanged_by_link(self):
        """The fields of ``self``, their journal items and statement lines that their links cannot change.

        Odoo recomputes an entry's journal from its statement line only when
        the journal's type does not suit a bank entry; otherwise the journal
        stays. The journal items' currencies and the entry's invoice rate stay
        too: Odoo derives them from the entry's currency, which the link may
        change, on invoices only. Every field that depends on the link only
        through these, already computed at creation, is not recomputed;
        everything else that depends on the link still is.
        """
        kept = self.filtered(lambda move: move.journal_id.type in move._get_valid_journal_types()
                             and not move.is_invoice(include_receipts=True))
        records = {
            "account.move": kept,
            "account.move.line": kept.line_ids,
            "account.bank.statement.line": kept.statement_line_id,
        }
        return [(fields, records[model]) for model, fields in self._online_sync_fields_kept_by_link().items()
                if model in records]

    @tools.ormcache()
    def _online_sync_fields_kept_by_link(self):
        """By model, the fields that depend on an entry's link to its statement line only through its journal or
        the fields of invoices' currency, and these fields of invoices' currency."""
        invoice_currency = {self.env[model]._fields[name] for model, name in INVOICE_CURRENCY_FIELDS}
        unchanged = {self.env[model]._fields[name] for model, name in JOURNAL_FIELDS} | invoice_currency
        link = {self._fields[name] for name in LINK_VALUES}
        kept = ((self._online_sync_dependents(unchanged) | invoice_currency)
                - self._online_sync_dependents(link, unchanged) - link)
        by_model = {}
        for field in kept:
            by_model.setdefault(field.model_name, set()).add(field)
        return {model: frozenset(fields) for model, fields in by_model.items()}

    def _online_sync_dependents(self, fields, stop=()):
        """The fields that depend, directly or not, on ``fields``, without following what depends on ``stop``."""
        triggers = self.pool._field_triggers
        found, todo = set(), list(fields)
        while todo:
            for dependents in triggers.get(todo.pop(), {}).values():
                for dependent in dependents:
                    if dependent not in found and dependent not in stop:
                        found.add(dependent)
                        todo.append(dependent)
        return found

    def _compute_name(self):
        """Number the new entries of a bank import in one pass.

        Odoo numbers each entry with its own queries for the last number of
        its journal and period. Under ``BATCH_NUMBERING``, the first new entry
        of each journal and sequence period still gets its number that way;
        the next ones in date order take the following numbers of the same
        format. The numbers are those Odoo gives one by one, and the unique
        index on entry numbers still guards them.
        """
        if not self.env.context.get(BATCH_NUMBERING):
            return super()._compute_name()
        new = self.filtered(lambda move: (
            move.date and move.journal_id and move.name in (False, "/")
            and (move.state == "posted" or move.state == "draft" and not move.posted_before)
        ))
        super(AccountMove, self - new)._compute_name()
        drafts = new.filtered(lambda move: move.state == "draft")
        # Drafts are numbered when posted, which a bank import does at once.
        drafts.name = "/"
        (new - drafts)._number_in_sequence()
        new._inverse_name()

    def _number_in_sequence(self):
        """Give ``self`` consecutive numbers, ordered like Odoo orders the entries it numbers."""
        period = None
        for move in self.sorted(lambda m: (m.date, m.ref or "", m._origin.id)):
            if period and period[0] == move.journal_id and period[1] <= move.date <= period[2]:
                period[4]["seq"] += 1
                move.name = period[3].format(**period[4])
                continue
            super(AccountMove, move)._compute_name()
            number_format, values = move._get_sequence_format_param(move.name)
            start, end, *_forced = move._get_sequence_date_range(move._deduce_sequence_number_reset(move.name))
            period = (move.journal_id, start, end, number_format, values)
