"""Writes the inputs of gotok's benchmark: every piece of the vocabulary
(piece, score, its row in the static table or -1) and a file of posts.

  python export.py /tmp/enc14pieces.tsv /tmp/enc14texts.txt
"""
import sys
import enc, static

e5 = enc.E5()
t = static.Table.load()
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for i, (p, s) in enumerate(e5.vocab()):
        p = p.replace("\t", " ").replace("\n", " ")
        f.write(f"{p}\t{s}\t{t.row.get(i, -1)}\n")
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for name in ("umsab_val", "tweeteval_val"):
        for r in enc.rows(name):
            f.write(r[2].replace("\n", " ") + "\n")
