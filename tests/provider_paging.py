"""Read a connector's transactions the way the engine does: page after page until no cursor."""


def all_transactions(provider, tokens, account_id, date_from):
    """Every transaction of an account over every page, and the number of pages."""
    transactions, cursor, pages = [], None, 0
    while True:
        page = provider.list_transactions(tokens, account_id, date_from, cursor=cursor)
        transactions += page.transactions
        pages += 1
        if not page.next_cursor:
            return transactions, pages
        assert page.next_cursor != cursor, "the cursor must move on"
        cursor = page.next_cursor
