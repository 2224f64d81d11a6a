#!/usr/bin/env python3
"""Issue 14 prototype: a corpus' versions as per-document zstd groups, sizes and decode times.

Usage (python-zstandard in a venv): repack-groups-exp.py MANIFEST.tsv MODE LEVEL [DOCUMENTS]
MODE `solid`: each document's distinct versions as one frame; `groupN`: groups of at most N MiB
of consecutive versions, each after the first compressed with the document's first version as
prefix (raw-content dictionary). Prints total compressed bytes and the slowest decode of a group.
docs/benchmarks.md, "Repack (issue 14): snapshot groups", has the figures.
"""
import sys, csv, time, collections, zstandard as zs
man = sys.argv[1]; mode = sys.argv[2]; level = int(sys.argv[3]); limit = int(sys.argv[4]) if len(sys.argv) > 4 else 0
docs = collections.OrderedDict()
seen = set()
with open(man) as f:
    for row in csv.DictReader(f, delimiter='\t'):
        if row['sha256'] in seen: continue
        seen.add(row['sha256'])
        docs.setdefault((row['entity'], row['document']), []).append(row)
root = man.rsplit('/', 1)[0]
def load(r):
    return open(root + '/' + r['path'], 'rb').read()
keys = list(docs)
if limit: keys = keys[:limit]
total = 0; raw = 0; worst = 0.0; t0 = time.time(); nver = 0
def cparams(n):
    wl = max(10, min(27, (n).bit_length()))
    return zs.ZstdCompressionParameters.from_level(level, window_log=wl, enable_ldm=True)
for k in keys:
    vers = [load(r) for r in sorted(docs[k], key=lambda r: r['captured_at'])]
    nver += len(vers)
    raw += sum(map(len, vers))
    if mode == 'solid':
        blob = b''.join(vers)
        c = zs.ZstdCompressor(compression_params=cparams(len(blob))).compress(blob)
        total += len(c)
        t = time.perf_counter(); zs.ZstdDecompressor(max_window_size=1<<27).decompress(c); worst = max(worst, time.perf_counter()-t)
    elif mode.startswith('group'):
        R = int(mode[5:]) << 20
        key = vers[0]
        groups = []; cur = []; n = 0
        for v in vers:
            if cur and n + len(v) > R:
                groups.append(cur); cur = []; n = 0
            cur.append(v); n += len(v)
        groups.append(cur)
        for gi, g in enumerate(groups):
            blob = b''.join(g)
            if gi == 0:
                c = zs.ZstdCompressor(compression_params=cparams(len(blob))).compress(blob)
                d = zs.ZstdDecompressor(max_window_size=1<<27)
            else:
                pd = zs.ZstdCompressionDict(key, dict_type=zs.DICT_TYPE_RAWCONTENT)
                c = zs.ZstdCompressor(dict_data=pd, compression_params=cparams(len(blob)+len(key))).compress(blob)
                d = zs.ZstdDecompressor(dict_data=pd, max_window_size=1<<27)
            total += len(c)
            t = time.perf_counter(); d.decompress(c); worst = max(worst, time.perf_counter()-t)
print(f"{mode} L{level} docs={len(keys)} versions={nver} raw={raw} comp={total} worst_decode_ms={worst*1000:.2f} secs={time.time()-t0:.1f}")
