"""armprof_symbols.py ONE.prof N.prof BIN.dbg D: per-symbol arm64 instructions of D inferences (the run with 1+D
inferences minus the run with 1), from armprof.c's per-block counts and the NativeAOT binary's symbols (its .dbg)."""
import sys, subprocess, bisect, collections
p1, pn, dbg, d = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
syms = []
for line in subprocess.run(['aarch64-linux-gnu-nm', '-n', dbg], capture_output=True, text=True).stdout.splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1] in 'tTwW':
        syms.append((int(parts[0], 16), parts[2]))
addrs = [a for a, _ in syms]
def load(f):
    r = []
    for line in open(f):
        v, s, l, b, o, e = line.split(); e = int(e)
        r.append((int(v, 16), int(s) * e, int(l) * e, int(b) * e, int(o) * e))
    return r
a, b = load(p1), load(pn)
# qemu-user maps a PIE guest at 0x5500000000 on a 64-bit host (its default guest base); offsets past 256 MB are other libraries
base = 0x5500000000
def sym(v):
    off = v - base
    if off < 0 or off > 0x10000000: return 'other-lib'
    i = bisect.bisect_right(addrs, off) - 1
    return syms[i][1] if i >= 0 else '?'
acc = collections.defaultdict(lambda: [0, 0, 0, 0])
for sign, recs in ((-1, a), (1, b)):
    for v, s, l, br, o in recs:
        x = acc[sym(v)]
        x[0] += sign * s; x[1] += sign * l; x[2] += sign * br; x[3] += sign * o
tot = [sum(x[i] for x in acc.values()) / d for i in range(4)]
print(f"TOTAL {sum(tot):,.0f}  simd {tot[0]:,.0f} ldst {tot[1]:,.0f} branch {tot[2]:,.0f} other {tot[3]:,.0f}")
for k, x in sorted(acc.items(), key=lambda kv: -sum(kv[1])):
    t = sum(x) / d
    if abs(t) < 1000: continue
    print(f"{t:12,.0f}  s{x[0]/d:10,.0f} l{x[1]/d:10,.0f} b{x[2]/d:9,.0f} o{x[3]/d:10,.0f}  {k[:110]}")
