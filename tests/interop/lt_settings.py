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
