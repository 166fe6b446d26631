#!/usr/bin/python3
"""Drives libtorrent (python3-libtorrent) for Bittern's interop tests.

Every subcommand prints one JSON object on stdout. Add subcommands here as
later tests need them (seeding, downloading...); keep output JSON.

  make-torrent --path PATH --out FILE [--piece-size N] [--tracker URL]...
               [--private] [--comment TEXT] [--hybrid] [--url-seed URL]...
      Makes a v1 torrent of PATH (a file or a directory), or with --hybrid a
      v1+v2 one (with padding files); --url-seed adds a BEP 19 url-list entry.
      Prints {"info_hash"} (the v1 hash).
  info FILE
      Reads FILE with libtorrent. Prints name, info hash, pieces, files
      (path segments, size, offset, pad), trackers and the private flag.
"""
import argparse
import json
import os
import sys

import libtorrent as lt


def make_torrent(args):
    path = os.path.abspath(args.path)
    fs = lt.file_storage()
    lt.add_files(fs, path)
    if fs.num_files() == 0:
        raise SystemExit("no files under " + path)
    # Hybrid (v1 + v2) torrents align files to pieces with BEP 47 padding files.
    flags = 0 if args.hybrid else lt.create_torrent.v1_only
    t = lt.create_torrent(fs, args.piece_size, flags)
    for tier, url in enumerate(args.tracker or []):
        t.add_tracker(url, tier)
    for url in args.url_seed or []:
        t.add_url_seed(url)
    if args.private:
        t.set_priv(True)
    if args.comment:
        t.set_comment(args.comment)
    t.set_creator("lt_helper")
    lt.set_piece_hashes(t, os.path.dirname(path))
    data = lt.bencode(t.generate())
    with open(args.out, "wb") as out:
        out.write(data)
    info = lt.torrent_info(args.out)
    return {"info_hash": str(info.info_hashes().v1)}


def info(args):
    ti = lt.torrent_info(args.file)
    fs = ti.files()
    files = []
    for i in range(fs.num_files()):
        files.append({
            "path": fs.file_path(i).split(os.sep),
            "size": fs.file_size(i),
            "offset": fs.file_offset(i),
            "pad": bool(fs.file_flags(i) & lt.file_storage.flag_pad_file),
        })
    return {
        "name": ti.name(),
        "info_hash": str(ti.info_hashes().v1),
        "piece_length": ti.piece_length(),
        "num_pieces": ti.num_pieces(),
        "total_size": ti.total_size(),
        "private": ti.priv(),
        "comment": ti.comment(),
        "trackers": [{"url": t.url, "tier": t.tier} for t in ti.trackers()],
        "files": files,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("make-torrent")
    make.add_argument("--path", required=True)
    make.add_argument("--out", required=True)
    make.add_argument("--piece-size", type=int, default=16384)
    make.add_argument("--tracker", action="append")
    make.add_argument("--private", action="store_true")
    make.add_argument("--comment")
    make.add_argument("--hybrid", action="store_true")
    make.add_argument("--url-seed", action="append")
    make.set_defaults(run=make_torrent)
    read = commands.add_parser("info")
    read.add_argument("file")
    read.set_defaults(run=info)
    args = parser.parse_args()
    json.dump(args.run(args), sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
