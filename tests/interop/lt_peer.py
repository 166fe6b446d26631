#!/usr/bin/python3
"""A libtorrent peer for Bittern's session interop tests and benchmarks.

  lt_peer.py seed  --torrent FILE --data DIR [--port P]
  lt_peer.py leech --torrent FILE --out DIR [--port P] [--peer HOST:PORT]...
  lt_peer.py leech --magnet URI --out DIR [--peer HOST:PORT]...  (metadata from peers, BEP 9)
  lt_peer.py dht-node [--port P] [--dht-node HOST:PORT]...  (a DHT node, no torrent)
  Either mode: [--upload-limit BYTES_PER_S] (default 0: unlimited)
               [--plain] (never try an encrypted handshake first: libtorrent's
               default tries MSE, and a peer without MSE costs it a reconnect)
               [--forced-encryption] (MSE with RC4 both ways, nothing else)
               [--dht] (libtorrent's DHT on the listening port, no public routers)
               [--dht-node HOST:PORT]... (DHT nodes to join; implies --dht)

Prints one JSON object per line on stdout:
  {"event": "listening", "port": N}
  {"event": "progress", "progress": 0.5, "rate": bytes_per_s, "peers": n}
  {"event": "finished", "seconds": s, "cpu": s}   (leech: from first peer to complete;
      cpu: the process's CPU seconds so far, user plus system, all threads)
  {"event": "metadata", "seconds": s}   (leech from a magnet: from adding to metadata known)
  {"event": "first-piece", "seconds": s}   (leech: from adding to the first verified piece)
  {"event": "peers", "peers": ["127.0.0.1:6881", ...]}   (on "peers" in stdin)
  {"event": "dht-status", "nodes": n}   (on "dht-status" in stdin: routing table size)
  {"event": "dht-peers", "info_hash": hex, "peers": ["127.0.0.1:6881", ...]}
      (on "dht-get-peers HEX" in stdin: a DHT lookup's answer)
  {"event": "dht-node", "node": "HOST:PORT"}   (on "dht-add-node HOST:PORT" in stdin)
Runs until stdin closes (or a line "quit"). TCP only (uTP is slow on loopback),
no LSD/UPnP/NAT-PMP, no DHT unless asked, plain connections allowed.
"""
import argparse
import json
import os
import select
import sys
import time

import libtorrent as lt

sys.dont_write_bytecode = True  # importing lt_settings leaves no __pycache__ in the tree
from lt_settings import dht_loopback_settings, loopback_settings  # noqa: E402


def emit(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def make_session(port, upload_limit=0, plain=False, forced=False, dht=False):
    encryption = {}
    if forced:
        encryption = {
            "out_enc_policy": lt.enc_policy.forced,
            "in_enc_policy": lt.enc_policy.forced,
            "allowed_enc_level": lt.enc_level.rc4,
        }
    settings = loopback_settings(
        port,
        upload_rate_limit=upload_limit,
        min_reconnect_time=1,
        max_failcount=100,
        out_enc_policy=lt.enc_policy.disabled if plain else lt.enc_policy.enabled,
        alert_mask=lt.alert.category_t.status_notification | lt.alert.category_t.error_notification,
        peer_connect_timeout=3,
    )
    settings.update(encryption)
    if dht:
        settings.update(dht_loopback_settings())
        settings["alert_mask"] |= (lt.alert.category_t.dht_notification
                                   | lt.alert.category_t.dht_operation_notification)
    ses = lt.session(settings)
    if upload_limit:
        # Peers on the local network are exempt from rate limits by default: put every
        # IPv4 peer in the global class so the limit holds on 127.0.0.1 too.
        everyone = lt.ip_filter()
        everyone.add_rule("0.0.0.0", "255.255.255.255", 1 << lt.session.global_peer_class_id)
        ses.set_peer_class_filter(everyone)
    return ses


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["seed", "leech", "dht-node"])
    parser.add_argument("--torrent")
    parser.add_argument("--magnet")
    parser.add_argument("--data")
    parser.add_argument("--out")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--peer", action="append", default=[])
    parser.add_argument("--upload-limit", type=int, default=0)
    parser.add_argument("--plain", action="store_true")
    parser.add_argument("--forced-encryption", action="store_true")
    parser.add_argument("--dht", action="store_true")
    parser.add_argument("--dht-node", action="append", default=[])
    parser.add_argument("--poll", type=float, default=0.05)  # seconds between status checks
    args = parser.parse_args()

    dht = args.dht or bool(args.dht_node) or args.mode == "dht-node"
    ses = make_session(args.port, args.upload_limit, args.plain, args.forced_encryption, dht)
    for node in args.dht_node:
        host, port = node.rsplit(":", 1)
        ses.add_dht_node((host, int(port)))
    if args.mode == "dht-node":
        return run_dht_node(ses, args.poll)
    if args.magnet:
        params = lt.parse_magnet_uri(args.magnet)
    else:
        params = lt.add_torrent_params()
        params.ti = lt.torrent_info(args.torrent)
    params.save_path = os.path.abspath(args.data if args.mode == "seed" else args.out)
    if args.mode == "seed":
        params.flags |= lt.torrent_flags.seed_mode
    added = time.time()
    handle = ses.add_torrent(params)
    deadline = time.time() + 10
    while ses.listen_port() == 0 and time.time() < deadline:
        time.sleep(0.05)
    emit(event="listening", port=ses.listen_port())

    for peer in args.peer:
        host, port = peer.rsplit(":", 1)
        handle.connect_peer((host, int(port)))

    started = None
    finished = False
    had_metadata = not args.magnet
    had_piece = False
    last_progress = 0
    while True:
        readable, _, _ = select.select([sys.stdin], [], [], args.poll)
        if readable:
            line = sys.stdin.readline()
            if not line or line.strip() == "quit":
                break
            command = line.split()
            if command and command[0] == "connect":
                host, port = command[1].rsplit(":", 1)
                handle.connect_peer((host, int(port)))
            elif command and command[0] == "peers":
                emit(event="peers", peers=["%s:%d" % (p.ip[0], p.ip[1]) for p in handle.get_peer_info()])
            else:
                dht_command(ses, command)
        dht_alerts(ses)
        status = handle.status()
        if started is None and status.num_peers > 0:
            started = time.time()
        if not had_metadata and status.has_metadata:
            had_metadata = True
            emit(event="metadata", seconds=time.time() - added)
        if args.mode == "leech" and not had_piece and status.num_pieces > 0:
            had_piece = True
            emit(event="first-piece", seconds=time.time() - added)
        if args.mode == "leech" and not finished and status.is_seeding:
            finished = True
            emit(
                event="finished",
                seconds=time.time() - (started or time.time()),
                cpu=time.process_time(),
            )
        now = time.time()
        if now - last_progress >= 1:
            last_progress = now
            emit(event="progress", progress=status.progress, rate=status.download_rate,
                 upload_rate=status.upload_rate, peers=status.num_peers)
    ses.pause()


def dht_command(ses, command):
    """The DHT commands of every mode: dht-status, dht-get-peers HEX, dht-add-node HOST:PORT."""
    if not command:
        return
    if command[0] == "dht-status":
        emit(event="dht-status", nodes=ses.status().dht_nodes)
    elif command[0] == "dht-get-peers":
        ses.dht_get_peers(lt.sha1_hash(bytes.fromhex(command[1])))
    elif command[0] == "dht-add-node":
        host, port = command[1].rsplit(":", 1)
        ses.add_dht_node((host, int(port)))
        emit(event="dht-node", node=command[1])


def dht_alerts(ses):
    """Turns DHT lookup answers into events (other alerts are dropped)."""
    for alert in ses.pop_alerts():
        if isinstance(alert, lt.dht_get_peers_reply_alert):
            emit(event="dht-peers", info_hash=str(alert.info_hash),
                 peers=["%s:%d" % (ip, port) for ip, port in alert.peers()])


def run_dht_node(ses, poll):
    """A session with the DHT and no torrent, until stdin closes."""
    deadline = time.time() + 10
    while ses.listen_port() == 0 and time.time() < deadline:
        time.sleep(0.05)
    emit(event="listening", port=ses.listen_port())
    while True:
        readable, _, _ = select.select([sys.stdin], [], [], poll)
        if readable:
            line = sys.stdin.readline()
            if not line or line.strip() == "quit":
                break
            dht_command(ses, line.split())
        dht_alerts(ses)
    ses.pause()


if __name__ == "__main__":
    main()
