"""Each synchronization of an account leaves a run in the log."""
import time

from odoo import fields, models

from ..providers import ProviderError, RateLimited
from ..providers.base import quota_end


class OnlineAccount(models.Model):
    _inherit = "online.account"

    def _synchronize_safely(self, provider, tokens, unattended):
        """Synchronize, then log the run: its window, counts, the bank's quota and the error."""
        self.ensure_one()
        started, clock = fields.Datetime.now(), time.monotonic()
        provider.quota_remaining = provider.quota_reset_at = None
        stats = {}
        account = self.with_context(online_sync_run=stats)
        try:
            error = super(OnlineAccount, account)._synchronize_safely(provider, tokens, unattended)
        except ProviderError as link_error:
            self._log_run(provider, unattended, stats, started, clock, link_error)
            raise
        self._log_run(provider, unattended, stats, started, clock, error)
        return error

    def _fetch_bank_transactions(self, provider, tokens, date_from, unattended, changes=None):
        """Note, for the run's log, what the bank listed and which of it the journal held before."""
        posted, waiting, history_start = super()._fetch_bank_transactions(
            provider, tokens, date_from, unattended, changes=changes,
        )
        stats = self.env.context.get("online_sync_run")
        if stats is not None:
            stats.update(date_from=date_from, posted_ids=[t.id for t in posted], pending=len(waiting),
                         known=self._count_lines_among([t.id for t in posted]))
        return posted, waiting, history_start

    def _count_lines_among(self, transaction_ids):
        return self.env["account.bank.statement.line"].sudo().search_count([
            ("online_account_id", "=", self.id), ("online_transaction_identifier", "in", transaction_ids),
        ]) if transaction_ids else 0

    def _log_run(self, provider, unattended, stats, started, clock, error):
        link = self.link_id
        posted_ids = stats.get("posted_ids", [])
        held = self._count_lines_among(posted_ids)
        known = stats.get("known", 0)
        retry = isinstance(error, RateLimited) and error.retry_after
        next_allowed = provider.quota_reset_at if provider.quota_remaining == 0 else False
        if retry:
            next_allowed = quota_end(error.retry_after)
        trigger, user = link._run_origin(unattended)
        self.env["online.sync.run"].sudo().create({
            "link_id": link.id,
            "account_id": self.id,
            "company_id": link.company_id.id,
            "started": started,
            "duration": time.monotonic() - clock,
            "trigger": trigger,
            "user_id": user,
            "date_from": stats.get("date_from"),
            "date_to": "date_from" in stats and fields.Date.today(),
            "fetched_count": len(posted_ids) + stats.get("pending", 0),
            "new_count": held - known,
            "known_count": known,
            "pending_count": stats.get("pending", 0),
            # What a complete run left out of the journal, it left out on purpose.
            "ignored_count": 0 if error else len(posted_ids) - held,
            "quota_told": provider.quota_remaining is not None,
            "quota_remaining": provider.quota_remaining or 0,
            "next_allowed_refresh": next_allowed,
            "state": "failed" if error else "done",
            "error_message": error and link._scrub(error.message, link._known_secrets(provider))[:500],
        })
