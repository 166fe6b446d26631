#!/usr/bin/python3
"""A libtorrent peer for Bittern's session interop tests and benchmarks.

  lt_peer.py seed  --torrent FILE --data DIR [--port P]
  lt_peer.py leech --torrent FILE --out DIR [--port P] [--peer HOST:PORT]...
  lt_peer.py leech --magnet URI --out DIR [--peer HOST:PORT]...  (metadata from peers, BEP 9)
  Either mode: [--upload-limit BYTES_PER_S] (default 0: unlimited)
               [--plain] (never try an encrypted handshake first: libtorrent's
               default tries MSE, and a peer without MSE costs it a reconnect)
               [--forced-encryption] (MSE with RC4 both ways, nothing else)

Prints one JSON object per line on stdout:
  {"event": "listening", "port": N}
  {"event": "progress", "progress": 0.5, "rate": bytes_per_s, "peers": n}
  {"event": "finished", "seconds": s}   (leech: from first peer to complete)
  {"event": "metadata", "seconds": s}   (leech from a magnet: from adding to metadata known)
  {"event": "first-piece", "seconds": s}   (leech: from adding to the first verified piece)
  {"event": "peers", "peers": ["127.0.0.1:6881", ...]}   (on "peers" in stdin)
Runs until stdin closes (or a line "quit"). TCP only (uTP is slow on loopback),
no DHT/LSD/UPnP/NAT-PMP, plain connections allowed.
"""
import argparse
import json
import os
import select
import sys
import time

import libtorrent as lt

sys.dont_write_bytecode = True  # importing lt_settings leaves no __pycache__ in the tree
from lt_settings import loopback_settings  # noqa: E402


def emit(**fields):
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def make_session(port, upload_limit=0, plain=False, forced=False):
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
    parser.add_argument("mode", choices=["seed", "leech"])
    parser.add_argument("--torrent")
    parser.add_argument("--magnet")
    parser.add_argument("--data")
    parser.add_argument("--out")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--peer", action="append", default=[])
    parser.add_argument("--upload-limit", type=int, default=0)
    parser.add_argument("--plain", action="store_true")
    parser.add_argument("--forced-encryption", action="store_true")
    parser.add_argument("--poll", type=float, default=0.05)  # seconds between status checks
    args = parser.parse_args()

    ses = make_session(args.port, args.upload_limit, args.plain, args.forced_encryption)
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
            emit(event="finished", seconds=time.time() - (started or time.time()))
        now = time.time()
        if now - last_progress >= 1:
            last_progress = now
            emit(event="progress", progress=status.progress, rate=status.download_rate,
                 upload_rate=status.upload_rate, peers=status.num_peers)
    ses.pause()


if __name__ == "__main__":
    main()
