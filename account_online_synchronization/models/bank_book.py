"""The bank's booked balance on any day of a synchronization window, from the bank's own figures."""
from bisect import bisect_right
from datetime import date, timedelta
from decimal import Decimal
from itertools import accumulate, groupby


class BankBook:
    """What the bank says its account held at the end of each day from ``since`` (the day before) to today.

    Built from the bank's figures only, never from the journal's: the balance
    after each transaction where the bank gives it, and the account's booked
    balance at its reference day. Other days are reached from the nearest of
    those through the bank's posted transactions in between.
    """

    def __init__(self, transactions, since, balance=None, balance_date=None):
        """``transactions``: every posted transaction from ``since``, sorted by booking date."""
        self.since = since
        self.days = [t.booking_date for t in transactions]
        #: ``totals[i]``: the sum of the first ``i`` transactions.
        self.totals = [Decimal(0), *accumulate(t.amount for t in transactions)]
        self.anchors = {}
        for day, day_transactions in groupby(transactions, key=lambda t: t.booking_date):
            end = self._day_end(list(day_transactions))
            if end is not None:
                self.anchors[day] = end
        balance_date = balance_date or date.today()
        if balance is not None and balance_date >= since - timedelta(days=1):
            self.anchors[balance_date] = balance

    @staticmethod
    def _day_end(transactions):
        """The balance after a day's last transaction, when the bank gives one after each of them.

        The last one is the one no other transaction continues from (the bank's
        order within a day is not the order of its answer everywhere).
        """
        if any(t.balance_after is None for t in transactions):
            return None
        starts = {t.balance_after - t.amount for t in transactions}
        last = [t for t in transactions if t.balance_after not in starts] or transactions
        return last[-1].balance_after

    def at(self, day):
        """The booked balance at the end of ``day``; None when the bank gave no balance to start from."""
        if not self.anchors or day < self.since - timedelta(days=1):
            return None
        later = [anchor for anchor in self.anchors if anchor >= day]
        anchor = min(later) if later else max(self.anchors)
        moved = self._total_through(anchor) - self._total_through(day)
        return self.anchors[anchor] - moved

    def _total_through(self, day):
        """The sum of the transactions booked up to ``day``."""
        return self.totals[bisect_right(self.days, day)]
