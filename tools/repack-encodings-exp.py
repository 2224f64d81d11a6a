#!/usr/bin/env python3
"""Delta sizes of one document's versions in the store's chain layout (runs of 8, Fenwick links),
with the zstd CLI: base only, base + up to CAP ancestors on the read path, previous only.

    tools/repack-encodings-exp.py DIR LEVEL MAX_VERSIONS [CAP]
"""
import os, subprocess, sys
d = sys.argv[1]; lvl = sys.argv[2]; limit=int(sys.argv[3])
files = sorted(os.listdir(d))
vers = []
for f in files:
    b = open(os.path.join(d,f),'rb').read()
    if b not in vers: vers.append(b)
vers = vers[:limit]
RUN=8
def base(n):
    if n % RUN: return n-1
    q=n//RUN; return (q-(q&-q))*RUN
def path(n):
    p=[]; a=n
    while a>0:
        a=base(a); p.append(a)
    return p[::-1]
def delta(prefix, data):
    open('/tmp/repack-exp-p','wb').write(prefix); open('/tmp/repack-exp-d','wb').write(data)
    out = subprocess.run(['zstd','-q','--single-thread','-%s'%lvl,'--ultra','--long=27','--patch-from=/tmp/repack-exp-p','-c','/tmp/repack-exp-d'],capture_output=True).stdout
    return len(out)
cap=int(sys.argv[4]) if len(sys.argv)>4 else 99
s=p=pr=0
for n in range(1,len(vers)):
    s+=delta(vers[base(n)],vers[n])
    p+=delta(b"".join(vers[i] for i in path(n)[-cap:]),vers[n])
    pr+=delta(vers[n-1],vers[n])
print(len(vers), 'single',s,'path',p,'prev',pr)
