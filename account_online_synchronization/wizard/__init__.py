from . import online_link_connect
