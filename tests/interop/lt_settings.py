"""Session settings the libtorrent helper scripts share (imported from their directory)."""
import libtorrent as lt


def loopback_settings(port=0, **overrides):
    """Settings for a libtorrent peer on 127.0.0.1:`port`, then `overrides`.

    TCP only (uTP is slow on loopback), no DHT/LSD/UPnP/NAT-PMP, several connections
    per IP (every peer is 127.0.0.1), encryption allowed but not required both ways.
    """
    settings = {
        "listen_interfaces": "127.0.0.1:%d" % port,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "allow_multiple_connections_per_ip": True,
        "out_enc_policy": lt.enc_policy.enabled,
        "in_enc_policy": lt.enc_policy.enabled,
    }
    settings.update(overrides)
    return settings


def dht_loopback_settings():
    """Settings that make libtorrent's DHT (2.0.8) work between sessions on 127.0.0.1.

    Merge them over `loopback_settings` (whose `listen_interfaces` must be an address
    literal such as "127.0.0.1:PORT", not 0.0.0.0: the DHT binds the listen address and
    port). Facts seen on loopback:
    - no public routers (`dht_bootstrap_nodes: ""`); join nodes with
      `session.add_dht_node(("127.0.0.1", port))` instead: routers from
      `dht_bootstrap_nodes` never enter the routing table;
    - every node is 127.0.0.1, so the per-IP restrictions on routing table entries and
      search results are off, and the per-IP rate limit (default 5 packets/s, then a
      300 s ban) is raised;
    - the 2.0.8 binding cannot call `session.dht_announce`, but adding a torrent (even a
      bare magnet) makes the session announce itself; `session.dht_get_peers(sha1_hash)`
      plus `dht_get_peers_reply_alert` looks up (the default `alert_mask` is errors only:
      add `dht_notification`);
    - a seeder becomes findable about 1.2 s after its add, and a new magnet's first
      `get_peers` goes out about 4 s after the add.
    """
    return {
        "enable_dht": True,
        "dht_bootstrap_nodes": "",
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "dht_block_ratelimit": 1000,
        "allow_multiple_connections_per_ip": True,
    }
