from . import models


def post_init_hook(env):
    """Disconnect the legacy connections at once when the new synchronization is already installed."""
    env["account.online.provider"]._hand_over_to_online_synchronization()
