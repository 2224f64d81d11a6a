#!/usr/bin/env python3
"""Builds an Open Terms Archive-shaped snapshots git repository from a manifest corpus.

    tools/ota-git-from-corpus.py /tmp/ota/manifest.tsv /tmp/ota-snapshots

Each manifest row, in capture-time order, becomes one commit (via `git fast-import`) that writes
`<entity>/<document>.<ext>` with the captured bytes, committer and author date = `captured_at`,
and the trailer `X-source-document-location: <source_url>`, as OTA's engine records snapshots.
A row whose bytes equal the file already there makes no commit (OTA commits only changes); the
count of such rows is printed. Standard library only. Used to measure `evarc import ota`
against `evarc import manifest` of the same corpus (docs/benchmarks.md).
"""

import csv
import os
import subprocess
import sys
from datetime import datetime, timezone


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    manifest, target = sys.argv[1], sys.argv[2]
    base = os.path.dirname(os.path.abspath(manifest))
    with open(manifest, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    rows.sort(key=lambda r: r["captured_at"])
    if os.path.exists(target):
        print(f"{target} exists: choose a new directory", file=sys.stderr)
        return 2
    subprocess.run(["git", "init", "-q", "-b", "main", target], check=True)
    fast_import = subprocess.Popen(
        ["git", "fast-import", "--quiet"], cwd=target, stdin=subprocess.PIPE
    )
    out = fast_import.stdin
    current = {}
    commits = unchanged = 0
    for row in rows:
        ext = os.path.splitext(row["path"])[1] or ".html"
        path = f"{row['entity']}/{row['document']}{ext}"
        with open(os.path.join(base, row["path"]), "rb") as f:
            data = f.read()
        if current.get(path) == data:
            unchanged += 1
            continue
        first = path not in current
        current[path] = data
        at = datetime.strptime(row["captured_at"], "%Y-%m-%dT%H:%M:%SZ")
        stamp = int(at.replace(tzinfo=timezone.utc).timestamp())
        verb = "Start tracking" if first else "Record new changes of"
        message = (
            f"{verb} {row['entity']} {row['document']}\n\n"
            f"X-source-document-location: {row['source_url']}\n"
            "X-engine-version: 0.0.0-evarc-bench\n"
        ).encode()
        ident = f"OTA-Bot <bot@opentermsarchive.org> {stamp} +0000".encode()
        out.write(b"commit refs/heads/main\n")
        out.write(b"author " + ident + b"\ncommitter " + ident + b"\n")
        out.write(b"data %d\n" % len(message) + message)
        quoted = '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out.write(b"M 100644 inline " + quoted.encode() + b"\n")
        out.write(b"data %d\n" % len(data) + data + b"\n")
        commits += 1
    out.close()
    if fast_import.wait() != 0:
        print("git fast-import failed", file=sys.stderr)
        return 1
    subprocess.run(["git", "checkout", "-q", "main"], cwd=target, check=True)
    print(f"{target}: {commits} commits from {len(rows)} rows ({unchanged} unchanged, no commit)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
