from . import controllers
from . import models
from . import wizard


def post_init_hook(env):
    """Disconnect the connections of the former synchronization (account_online_sync), if any."""
    env["online.link"]._migrate_legacy_connections()
