"""What Odoo does with a connector, for the connector tests: the consent, and reading every page."""

CALLBACK = "https://odoo.example.test/online_sync/callback"


def connect(fake, provider, mode="new", tokens=None, state="state-1", callback=CALLBACK):
    """Start the consent, act as the user on the aggregator's page, complete it; return the tokens."""
    start = provider.start_connection(fake.institution_id, mode=mode, tokens=tokens, redirect_url=callback,
                                      state=state)
    params = fake.consent(start.redirect_url)
    assert params["state"] == state, "the aggregator sends the state back"
    return provider.complete_connection(fake.institution_id, params, dict(tokens or {}, **start.pending))


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
