"""Imports run in the background: queued by a click, run by a scheduled action, followed by the user."""
import logging
import math
import time
from datetime import timedelta

from markupsafe import Markup

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, config
from odoo.tools.misc import format_date, formatLang

from . import online_account
from .online_link import ImportPaused

_logger = logging.getLogger(__name__)

IMPORT_CRON = "account_online_synchronization.ir_cron_import_online_transactions"
#: Bus notification type of the progress of a background import.
PROGRESS_NOTIFICATION = "account_online_synchronization/import_progress"
#: Synchronize Now answers at once when it expects at most this many new lines (a few seconds of work).
INLINE_MAX_LINES = 100
#: Days of history from which the daily number of new lines of an account is estimated.
RATE_DAYS = 30
#: Lines of the first chunk of a run of the import job, which has a time budget: a run that is out of time
#: stops after a chunk, and later chunks are sized from the pace of the previous one.
BACKGROUND_CHUNK_SIZE = 50
#: Share of Odoo's real-time limit of a cron job that one run of the import job uses. A cron worker's limit
#: also counts its wait before the job, up to about a minute when the clock rather than a trigger wakes it.
REAL_TIME_SHARE = 0.25
#: Share of Odoo's CPU time limit (per unit of work of a worker) that one run uses.
CPU_TIME_SHARE = 0.5
#: A queued import whose connection is being synchronized by another run is tried again after this delay.
BUSY_RETRY = timedelta(minutes=1)


class OnlineLink(models.Model):
    _inherit = "online.link"

    import_state = fields.Selection(
        [("queued", "Queued"), ("running", "Importing")], string="Background Import", readonly=True, copy=False,
    )
    import_account_ids = fields.Many2many(
        "online.account", "online_link_import_account_rel", "link_id", "account_id",
        string="Accounts to Import", readonly=True, copy=False,
    )
    import_user_id = fields.Many2one("res.users", string="Import Requested By", readonly=True, copy=False)
    #: The HTTP details of the user who queued the import (IP address, user agent...), encrypted, for
    #: the aggregators that tell the bank a user is present; kept until the import ends.
    import_psu_encrypted = fields.Text(groups="base.group_system", copy=False, exportable=False)
    import_started = fields.Datetime(readonly=True, copy=False)
    import_progress = fields.Json(
        string="Progress by Account", readonly=True, copy=False,
        help="Lines imported so far and whether done, per account.",
    )
    import_status = fields.Char(compute="_compute_import_status", string="Import Progress")
    import_summary = fields.Json(
        string="Summary of the Last Import", readonly=True, copy=False, groups="base.group_system",
        help="Waiting for the web client of the user who started the import.",
    )
    import_summary_user_id = fields.Many2one("res.users", string="Summary For", readonly=True, copy=False,
                                             index="btree_not_null")

    @api.depends("import_state", "import_progress", "import_account_ids")
    def _compute_import_status(self):
        for link in self:
            link.import_status = link._import_status_text()

    def _import_status_text(self):
        if self.import_state == "queued":
            return _("Import queued: it starts in a moment.")
        if self.import_state != "running":
            return False
        progress = (self.import_progress or {}).values()
        return _(
            "Importing: %(done)s of %(total)s accounts, %(lines)s lines so far",
            done=sum(1 for _lines, finished in progress if finished),
            total=len(self.import_account_ids),
            lines=formatLang(self.env, sum(lines for lines, _finished in progress), digits=0),
        )

    # buttons -----------------------------------------------------------------

    def _synchronize_or_queue(self, accounts=None):
        """Synchronize ``accounts`` (all by default) now when it is quick, else in the background.

        Return the notification telling the user which.
        """
        self.ensure_one()
        if self.import_state:
            return self._import_busy_notification()
        accounts = (accounts or self.account_ids).filtered("journal_ids")
        if self._expected_new_lines(accounts) <= INLINE_MAX_LINES:
            failures = self._fetch_transactions_as_user(unattended=False, accounts=accounts)
            return self._sync_result_notification(failures, accounts)
        return self._queue_import(accounts)

    def _queue_import(self, accounts):
        """Queue the import of ``accounts`` for the background job, once; return the notification."""
        self.ensure_one()
        self.check_access("write")
        with self._sync_lock() as locked:
            if not locked:
                raise self._busy_error()
        # Two clicks at once: the second waits here, then sees the first one's queued import.
        self.flush_recordset(["import_state"])
        self.env.cr.execute(SQL("SELECT import_state FROM online_link WHERE id = %s FOR UPDATE", self.id),
                            log_exceptions=False)
        state = self.env.cr.fetchone()[0]
        if state == "queued":
            self.sudo().import_account_ids |= accounts
        if state:
            self.invalidate_recordset(["import_state"])
            return self._import_busy_notification()
        present_user = self._present_user()
        self.sudo().write({
            "import_state": "queued",
            "import_account_ids": [Command.set(accounts.ids)],
            "import_user_id": self.env.uid,
            "import_psu_encrypted": self._encrypt(present_user) if present_user else False,
            "import_started": False,
            "import_progress": {},
        })
        self.env.ref(IMPORT_CRON).sudo()._trigger()
        self._send_import_progress()
        return self._notification(_(
            "%(bank)s is importing in the background: its connection and journals show the progress, "
            "and you will be notified when it ends.", bank=self.name,
        ), "info")

    def _import_busy_notification(self):
        return self._notification(_(
            "%(bank)s is already importing in the background: %(status)s", bank=self.name, status=self.import_status,
        ), "info")

    def _expected_new_lines(self, accounts):
        """Roughly how many new lines synchronizing ``accounts`` brings now; infinite before a first import.

        The daily number of lines of each account over its last RATE_DAYS days,
        times the days since its last synchronization.
        """
        today = fields.Date.today()
        expected = 0
        for account in accounts:
            if not account.last_sync:
                return math.inf
            history_start = min(account.last_sync, max(account.last_sync - timedelta(days=RATE_DAYS),
                                                       account.first_sync_date or account.last_sync))
            recent = self.env["account.bank.statement.line"].sudo().search_count([
                ("online_account_id", "=", account.id), ("date", ">=", history_start),
                ("date", "<=", account.last_sync),
            ])
            days = (account.last_sync - history_start).days + 1
            expected += recent / days * max((today - account.last_sync).days, 1)
        return expected

    # background job ----------------------------------------------------------

    @api.model
    def _cron_import_queued(self):
        """Run the queued imports, one after the other, within a time budget well under Odoo's limits.

        An import still running when the time is up stops after its last
        committed chunk, and the job triggers itself: the next run resumes it
        under limits counted afresh. (A job that reports remaining work is run
        again by the same worker within the same limits, so the job reports
        none.) A connection synchronized by another run right now is tried
        again a minute later. An import cut anyway (a worker killed) is found
        "running" with its lock free: it resumes the same way.
        """
        budget = self._import_time_budget()
        deadline = budget and time.monotonic() + budget
        # Importing creates journal entries, which the user who asked may not create himself.
        links = self.sudo().search([("import_state", "!=", False)], order="import_started nulls last, id")
        ran = busy = self.browse()
        for link in links:
            if deadline and time.monotonic() >= deadline:
                break
            with link._sync_lock() as locked:
                if not locked:
                    busy |= link
                    continue
                link.with_context(online_sync_deadline=deadline)._run_import()
                ran |= link
        left = self.sudo().search([("import_state", "!=", False)])
        if left - busy:
            self.env.ref(IMPORT_CRON)._trigger()
        elif left:
            self.env.ref(IMPORT_CRON)._trigger(fields.Datetime.now() + BUSY_RETRY)
        self.env["ir.cron"]._notify_progress(done=len(ran), remaining=0)

    @api.model
    def _import_time_budget(self):
        """Seconds one run of the import job may work, from Odoo's time limits; None without limits."""
        real = config["limit_time_real_cron"]
        if not real or real < 0:
            real = config["limit_time_real"]
        limits = ((real, REAL_TIME_SHARE), (config["limit_time_cpu"], CPU_TIME_SHARE))
        budgets = [limit * share for limit, share in limits if limit and limit > 0]
        return min(budgets, default=None)

    def _chunk_size(self, lines=0, seconds=0.0):
        """How many lines the next chunk of an import takes, after a chunk of ``lines`` took ``seconds``.

        Without a time budget, the largest chunks, which cost the least per
        line. Within a run of the import job, the first chunk is small; each
        next one takes the lines that fit in half the time left at the pace
        of the previous one, between that size and the largest, so that a
        run ends near its budget without ever overrunning it by much.
        """
        largest = online_account.CHUNK_SIZE
        deadline = self.env.context.get("online_sync_deadline")
        if not deadline:
            return largest
        smallest = min(BACKGROUND_CHUNK_SIZE, largest)
        if not lines or seconds <= 0:
            return smallest
        fitting = (deadline - time.monotonic()) / 2 * lines / seconds
        return max(smallest, min(largest, int(fitting)))

    def _check_import_time(self):
        """Raise ImportPaused when the run of the import job is out of time (called after a committed chunk)."""
        deadline = self.env.context.get("online_sync_deadline")
        if deadline and time.monotonic() >= deadline:
            raise ImportPaused()

    def _run_import(self):
        """Import the queued accounts of the link, then tell the user who asked how it went."""
        self.ensure_one()
        resumed = self.import_state == "running"
        if not resumed:
            # The transaction's time, which the lines it creates carry as their creation date.
            self.sudo().write({"import_state": "running", "import_started": self.env.cr.now(), "import_progress": {}})
            self._commit()
        self._send_import_progress()
        error = False
        try:
            if self.company_id.online_sync_blocked:
                self.company_id._online_sync_check_not_blocked()
            link = self.with_context(
                online_sync_resumed=resumed,
                # The user who clicked is present for this import: the bank need not count it as unattended.
                online_sync_present_user=self._decrypt(self.sudo().import_psu_encrypted),
            )
            # Resuming an import paused (or cut) by the time limit: the accounts it finished are done.
            progress = self.import_progress or {}
            accounts = link.import_account_ids.filtered(lambda account: not progress.get(str(account.id), [0, False])[1])
            if link._fetch_transactions(unattended=False, accounts=accounts or link.import_account_ids):
                error = _("%(error)s (reference %(reference)s)", error=self.error_message, reference=self.error_reference)
        except ImportPaused:
            return  # what is imported is committed; the next run resumes
        except UserError as refusal:
            error = str(refusal)
        except Exception:
            if not self.env["account.move"]._can_commit():
                raise
            self.env.cr.rollback()
            _logger.exception("Background import of online link %s failed", self.id)
            error = _("unexpected error")
        self._finish_import(error)

    def _finish_import(self, error):
        """Close the import and leave its summary for the user who asked; tell his web client it ended."""
        accounts = self.import_account_ids
        user = self.import_user_id
        counts = self._imported_counts(accounts, [("create_date", ">=", self.import_started)]) \
            if self.import_started else {}
        summary = self._import_summary(accounts, counts, error)
        if not error:  # a failure is in the chatter already, once
            self._post_import_summary(accounts, counts, author=user)
        title = _("Import from %(bank)s failed", bank=self.name) if error else _("Import from %(bank)s done", bank=self.name)
        self.sudo().write({
            "import_state": False, "import_account_ids": [Command.clear()], "import_user_id": False,
            "import_progress": {}, "import_psu_encrypted": False,
            "import_summary": user.id and {
                "title": title, "message": "\n".join(summary), "type": "warning" if error else "success",
            },
            "import_summary_user_id": user.id,
        })
        self._send_import_progress(user)
        self._commit()

    @api.model
    def take_import_summaries(self):
        """The summaries of the imports the current user started that ended since his web client last asked.

        Each summary is given once, whichever of his tabs or views asks first.
        """
        links = self.sudo().search([("import_summary_user_id", "=", self.env.uid)], order="id")
        summaries = links.mapped("import_summary")
        links.write({"import_summary": False, "import_summary_user_id": False})
        return summaries

    def _imported_counts(self, accounts, domain):
        """Map each of ``accounts`` to (lines, first date, last date) of its lines matching ``domain``."""
        return {
            account: (count, first, last)
            for account, count, first, last in self.env["account.bank.statement.line"].sudo()._read_group(
                [("online_account_id", "in", accounts.ids), *domain],
                ["online_account_id"], ["__count", "date:min", "date:max"],
            )
        }

    def _post_import_summary(self, accounts, counts, author=None):
        """Leave in the chatter what a successful synchronization imported, one sentence per account.

        Nothing when it imported nothing: the scheduler runs every few hours, and the
        user who clicked is told by the notification. A failed run posts its one error
        message only (a background import's notification says what it kept).
        """
        if not any(count for count, _first, _last in counts.values()):
            return
        self.message_post(
            body=Markup("<br/>").join(self._import_summary(accounts, counts)),
            author_id=author.partner_id.id if author else None,
            subtype_xmlid="mail.mt_note",
        )

    def _import_summary(self, accounts, counts, error=False):
        """One sentence per account (lines of ``counts``, journal, period, pending at the bank), then the error."""
        summary = []
        for account in accounts:
            count, first, last = counts.get(account, (0, None, None))
            values = {
                "account": account.name, "journal": account.journal_id.name, "count": formatLang(self.env, count, digits=0),
                "pending": account.pending_count,
            }
            if count:
                summary.append(_(
                    "%(account)s: %(count)s new lines in %(journal)s, booked %(first)s to %(last)s; "
                    "%(pending)s pending at the bank.",
                    first=format_date(self.env, first), last=format_date(self.env, last), **values,
                ))
            else:
                summary.append(_("%(account)s: no new line in %(journal)s; %(pending)s pending at the bank.", **values))
        if error:
            summary.append(_(
                "Stopped: %(error)s. The lines imported are kept; the next synchronization resumes where this one "
                "stopped.", error=error,
            ))
        return summary

    def _import_progress(self, account, finished=False):
        """Record the lines ``account`` has received so far in the running background import.

        Called with each chunk, before it is committed: what it reports is
        what is kept, counted since the import started, across the runs of
        an import cut by the time limit. It also tells the scheduler the job
        progresses, so that such an import is run again rather than counted as failed.
        """
        if self.import_state != "running":
            return
        imported = self.env["account.bank.statement.line"].sudo().search_count([
            ("online_account_id", "=", account.id), ("create_date", ">=", self.import_started),
        ])
        progress = dict(self.import_progress or {}, **{str(account.id): [imported, finished]})
        self.sudo().import_progress = progress
        self.env["ir.cron"]._notify_progress(
            done=sum(lines for lines, _finished in progress.values()),
            remaining=len(self.import_account_ids) - sum(1 for _lines, done in progress.values() if done),
        )
        self._send_import_progress()

    def _send_import_progress(self, user=None):
        """Tell the web client of the user who asked (or ``user``) where the import stands."""
        user = user or self.import_user_id
        if user:
            user._bus_send(PROGRESS_NOTIFICATION, {
                "link_id": self.id,
                "journal_ids": self.account_ids.journal_ids.ids,
                "status": self._import_status_text(),
            })
