#!/usr/bin/python3
"""A libtorrent seeder for Bittern's peer-wire interop test.

  lt_wire_helper.py --file PATH [--piece-size N]

Makes a v1 torrent of PATH, seeds it from PATH's directory on 127.0.0.1 (TCP
only: no uTP, DHT, LSD, UPnP, NAT-PMP), and prints one JSON line:
{"port", "info_hash", "piece_length", "num_pieces"}. Then it reads commands,
one per line, on stdin:

  peers   prints {"peers": [{"client", "ip", "port", "flags"}]} (one JSON line)

and exits when stdin closes.
"""
import argparse
import json
import os
import sys
import time

import libtorrent as lt

sys.dont_write_bytecode = True  # importing lt_settings leaves no __pycache__ in the tree
from lt_settings import loopback_settings  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", required=True)
    parser.add_argument("--piece-size", type=int, default=32768)
    args = parser.parse_args()

    path = os.path.abspath(args.file)
    fs = lt.file_storage()
    lt.add_files(fs, path)
    t = lt.create_torrent(fs, args.piece_size, lt.create_torrent.v1_only)
    lt.set_piece_hashes(t, os.path.dirname(path))
    info = lt.torrent_info(lt.bdecode(lt.bencode(t.generate())))

    session = lt.session(loopback_settings(alert_mask=0))
    handle = session.add_torrent({
        "ti": info,
        "save_path": os.path.dirname(path),
        "flags": lt.torrent_flags.seed_mode,
    })
    deadline = time.time() + 30
    while not handle.status().is_seeding:
        if time.time() > deadline:
            raise SystemExit("libtorrent did not start seeding within 30 s")
        time.sleep(0.05)

    print(json.dumps({
        "port": session.listen_port(),
        "info_hash": str(info.info_hashes().v1),
        "piece_length": info.piece_length(),
        "num_pieces": info.num_pieces(),
    }), flush=True)

    for line in sys.stdin:
        command = line.strip()
        if command == "peers":
            peers = [{
                "client": p.client.decode("utf-8", "replace") if isinstance(p.client, bytes) else p.client,
                "ip": p.ip[0],
                "port": p.ip[1],
                "flags": int(p.flags),
            } for p in handle.get_peer_info()]
            print(json.dumps({"peers": peers}), flush=True)
        else:
            print(json.dumps({"error": "unknown command " + command}), flush=True)


if __name__ == "__main__":
    main()
