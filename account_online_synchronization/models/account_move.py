from odoo import models

#: Context key under which a bank import's new entries are numbered together.
BATCH_NUMBERING = "online_sync_batch_numbering"


class AccountMove(models.Model):
    _inherit = "account.move"

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
