#!/usr/bin/python3
"""libtorrent's side of Bittern's torrent creation interop tests (v1, v2, hybrid).

Every subcommand prints one JSON object on stdout.

  hashes FILE
      Loads FILE with libtorrent. Prints {"v1", "v2"}: its info hashes as hex,
      "" for a hash the torrent does not have.
  make --path PATH --out FILE --piece-size N --format v1|v2|hybrid
      Makes a torrent of PATH (a file or a directory) as libtorrent does by
      default for that format, writes it to FILE and prints {"v1", "v2"}.
"""
import argparse
import json
import os

import libtorrent as lt


def hashes_of(ti):
    hashes = ti.info_hashes()
    return {
        "v1": str(hashes.v1) if hashes.has_v1() else "",
        "v2": str(hashes.v2) if hashes.has_v2() else "",
    }


def make(args):
    path = os.path.abspath(args.path)
    fs = lt.file_storage()
    lt.add_files(fs, path)
    flags = {
        "v1": lt.create_torrent.v1_only,
        "v2": lt.create_torrent.v2_only,
        "hybrid": 0,
    }[args.format]
    t = lt.create_torrent(fs, args.piece_size, flags)
    lt.set_piece_hashes(t, os.path.dirname(path))
    with open(args.out, "wb") as out:
        out.write(lt.bencode(t.generate()))
    return hashes_of(lt.torrent_info(args.out))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    hashes = commands.add_parser("hashes")
    hashes.add_argument("file")
    maker = commands.add_parser("make")
    maker.add_argument("--path", required=True)
    maker.add_argument("--out", required=True)
    maker.add_argument("--piece-size", type=int, required=True)
    maker.add_argument("--format", choices=["v1", "v2", "hybrid"], required=True)
    args = parser.parse_args()
    if args.command == "hashes":
        result = hashes_of(lt.torrent_info(args.file))
    else:
        result = make(args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
