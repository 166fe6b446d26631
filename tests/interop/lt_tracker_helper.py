"""libtorrent seeder that announces to a given tracker, for tests/interop/opentracker_test.ts.

Usage: lt_tracker_helper.py ANNOUNCE_URL WORK_DIR
Protocol on stdout (one JSON object per line):
  {"infoHash": HEX, "port": N}      torrent made, session listening (not yet announced)
  {"announced": true}               after the test writes "start\n" to stdin and the tracker replied
Seeds until stdin closes.
"""
import json
import os
import sys
import time

import libtorrent as lt

sys.dont_write_bytecode = True  # importing lt_settings leaves no __pycache__ in the tree
from lt_settings import loopback_settings  # noqa: E402


def say(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    announce_url, work_dir = sys.argv[1], sys.argv[2]
    data_dir = os.path.join(work_dir, "seed")
    os.makedirs(data_dir, exist_ok=True)
    with open(os.path.join(data_dir, "payload.bin"), "wb") as f:
        f.write(os.urandom(64 * 1024))
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(data_dir, "payload.bin"))
    t = lt.create_torrent(fs, 16 * 1024, lt.create_torrent.v1_only)
    t.add_tracker(announce_url, 0)
    lt.set_piece_hashes(t, data_dir)
    info = lt.torrent_info(lt.bencode(t.generate()))

    # The tracker lists the seeder itself; with per-IP peers its self-connection would ban
    # 127.0.0.1: loopback_settings allows several connections per IP.
    session = lt.session(loopback_settings(
        alert_mask=lt.alert.category_t.tracker_notification | lt.alert.category_t.error_notification,
    ))
    say({"infoHash": str(info.info_hash()), "port": session.listen_port()})
    if sys.stdin.readline().strip() != "start":
        return
    handle = session.add_torrent({"ti": info, "save_path": data_dir, "flags": lt.torrent_flags.seed_mode})
    deadline = time.monotonic() + 20
    announced = False
    while not announced and time.monotonic() < deadline:
        session.wait_for_alert(500)
        for alert in session.pop_alerts():
            if isinstance(alert, lt.tracker_reply_alert):
                announced = True
            elif isinstance(alert, (lt.tracker_error_alert,)):
                sys.stderr.write("tracker error: %s\n" % alert.message())
    if not announced:
        sys.stderr.write("libtorrent never got a tracker reply\n")
        return
    say({"announced": True})
    sys.stdin.read()  # seed until the test closes stdin
    session.remove_torrent(handle)


if __name__ == "__main__":
    main()
