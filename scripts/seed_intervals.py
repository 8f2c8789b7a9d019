# Welch 95% intervals of differences between arms of per-seed means of a
# cmd/experiment results.json (docs/RESULTS.md, issue 16), e.g.
#   python3 scripts/seed_intervals.py runs/exp-entropy-guidance/results.json groups_with_signal pass_at_m
# t quantiles for 4 to 8 degrees of freedom are tabulated (no scipy here);
# the Welch df is rounded down, which widens an interval slightly.
import json,statistics as st, math, sys
T={4:2.776,5:2.571,6:2.447,7:2.365,8:2.306}
r=json.load(open(sys.argv[1]))
by={}
for x in r['cells']: by.setdefault(x['arm'],[]).append(x)
def ci(a,b,key):
    xa=[x[key] for x in by[a]]; xb=[x[key] for x in by[b]]
    d=st.mean(xa)-st.mean(xb); va,vb=st.variance(xa)/len(xa),st.variance(xb)/len(xb); se=math.sqrt(va+vb)
    df=(va+vb)**2/(va**2/(len(xa)-1)+vb**2/(len(xb)-1)) if va+vb>0 else 8
    t=T[max(4,min(8,int(df)))]; return d,d-t*se,d+t*se
pairs=[('arpo','grpo-m6'),('arpo-calibrated','grpo-m6'),('arpo-beta0','grpo-m6'),('grpo','grpo-m6'),('arpo','arpo-beta0'),('arpo-calibrated','arpo-beta0'),('arpo','grpo'),('arpo-calibrated','grpo'),('arpo-beta0','grpo')]
for key in sys.argv[2:]:
    for a,b in pairs:
        if a in by and b in by: print(f"{key:20s} {a:16s} vs {b:10s}", '%+.4f [%+.4f, %+.4f]'%ci(a,b,key))
for a in by: print(a, [round(x['test_acc'],3) for x in sorted(by[a],key=lambda x:x['seed'])])
