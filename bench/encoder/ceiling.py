"""Issue 14 experiment: features + logistic regression, trained on the
training parts enrich/train uses, reported on the files/parts it reports on.

  python ceiling.py KINDS [ROWS]
  KINDS: sent (encoder sentence embeddings), hash (hashed word 1-2-grams and
         char 2-4-grams, the plain baseline), static (the static table of
         static.py; ENC14_STATIC=raw|distil), joined with +: sent+hash
  ROWS:  embedded (default with sent: the rows embed.py has embedded) or all

Training rows: the Train part of afrisenti, politics, Mozetič and every row
of umsab_train and SemEval (as enrich/train), TweetEval val texts removed;
C is chosen on the Dev parts (mean accuracy over files); reported once on
UMSAB val, TweetEval val, the Test parts of Mozetič (positive against
negative probability, no abstention) and politics; complaints by 5-fold CV
(measure only, nothing kept).
"""
import os, sys
import numpy as np
from collections import Counter, defaultdict
from sklearn.linear_model import LogisticRegression
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.model_selection import StratifiedKFold
from scipy import sparse
import enc

TRAIN_FILES = ["umsab_train", "semeval", "afrisenti", "politics", "mozetic"]
WHOLE_TRAIN = {"umsab_train", "semeval"}


def load(name, kinds, which):
    """Rows as (lang, label, text, part, X row or None, tokens or None)."""
    rs = enc.rows(name)
    if which == "embedded":
        idx, X = enc.embedded(name)
    else:
        idx, X = np.array(enc.selected(name)), None
    toks = None
    if any(k.startswith("static") for k in kinds):
        import static
        toks = static.tokens(name)
    return [rs[i] + ((X[j] if X is not None else None), (toks[i] if toks else None)) for j, i in enumerate(idx)]


class Feats:
    def __init__(self, kinds, langs):
        self.kinds = kinds
        self.langs = {l: i for i, l in enumerate(sorted(langs))}
        self.hv_w = HashingVectorizer(n_features=2**18, ngram_range=(1, 2), alternate_sign=False, norm="l2")
        self.hv_c = HashingVectorizer(n_features=2**18, analyzer="char_wb", ngram_range=(2, 4),
                                      alternate_sign=False, norm="l2")
        if "static" in kinds:
            import static
            self.static = static.Table.load()

    def __call__(self, rows):
        L = np.zeros((len(rows), len(self.langs)), dtype=np.float32)
        for i, r in enumerate(rows):
            if r[0] in self.langs:
                L[i, self.langs[r[0]]] = 1
        parts = [sparse.csr_matrix(L)]
        if "sent" in self.kinds:
            parts.append(sparse.csr_matrix(np.array([r[4] for r in rows])))
        if "hash" in self.kinds:
            t = [r[2] for r in rows]
            parts += [self.hv_w.transform(t), self.hv_c.transform(t)]
        if "static" in self.kinds:
            parts.append(sparse.csr_matrix(self.static.embed([r[5] for r in rows])))
        return sparse.hstack(parts).tocsr()


def weights(rows):
    """As enrich/train: each (file, language) group counts like ~4,000 rows, within [0.3, 2]."""
    grp = Counter((r[6], r[0]) for r in rows)
    return np.array([min(2, max(0.3, (4000 / grp[(r[6], r[0])]) ** 0.5)) for r in rows])


def main():
    kinds = sys.argv[1].split("+")
    which = sys.argv[2] if len(sys.argv) > 2 else ("embedded" if "sent" in kinds else "all")
    val_texts = {r[2] for r in enc.rows("tweeteval_val")}
    train, dev, reports = [], defaultdict(list), defaultdict(list)
    for f in TRAIN_FILES:
        for r in load(f, kinds, which):
            r = r + (f,)
            if r[2] in val_texts:
                continue
            if r[3] == "dev":
                dev[f].append(r)
            elif r[3] == "test" and f not in WHOLE_TRAIN:
                reports[f + " test"].append(r)
            else:
                train.append(r)
    feats = Feats(kinds, {r[0] for r in train})
    Xtr, ytr, w = feats(train), np.array([r[1] for r in train]), weights(train)
    print(f"{sys.argv[1]} ({which} rows): {len(train)} training rows "
          f"({dict(Counter(r[6] for r in train))}), {Xtr.shape[1]} features", flush=True)
    best = None
    for C in [float(c) for c in os.environ.get("ENC14_C", "0.3,1,3,10").split(",")]:
        m = LogisticRegression(C=C, max_iter=3000).fit(Xtr, ytr, sample_weight=w)
        accs = {f: np.mean(np.array(predict(m, feats(rows))) == np.array([r[1] for r in rows]))
                for f, rows in dev.items() if rows}
        score = np.mean(list(accs.values()))
        print(f"  C={C}: Dev accuracy {score:.3f} " + " ".join(f"{f} {a:.3f} ({len(dev[f])})" for f, a in accs.items()), flush=True)
        if best is None or score > best[0]:
            best = (score, C, m)
    _, C, m = best
    print(f"chosen C={C} on Dev")
    for name in ["umsab_val", "tweeteval_val"]:
        reports[name] = [r + (name,) for r in load(name, kinds, which)]
    for name in ["umsab_val", "tweeteval_val", "mozetic test", "politics test"]:
        rows = reports[name]
        if not rows:
            print(f"\n{name}: no rows embedded yet")
            continue
        table(name, rows, m.predict_proba(feats(rows)), list(m.classes_), polar=name.startswith("mozetic"))
    complaints(kinds, which, feats)


def predict(m, X):
    return [m.classes_[i] for i in np.argmax(m.predict_proba(X), 1)]


def table(name, rows, P, cls, polar):
    if polar:  # positive against negative, every post decided
        ip, ineg = cls.index("pos"), cls.index("neg")
        pred = ["pos" if q[ip] >= q[ineg] else "neg" for q in P]
    else:
        pred = [cls[i] for i in np.argmax(P, 1)]
    by = defaultdict(list)
    for r, a in zip(rows, pred):
        by[r[0]].append((r[1], a))
    print(f"\n{name} ({len(rows)} rows){', positive against negative' if polar else ''}")
    print(f"  {'lang':8s} {'rows':>5s} {'acc':>6s} {'mrecall':>7s} {'majority':>8s} {'margin':>7s}")
    accs, n10 = [], 0
    for l in sorted(by) + ["all"]:
        pairs = by[l] if l != "all" else [x for v in by.values() for x in v]
        acc = np.mean([g == a for g, a in pairs])
        gold = Counter(g for g, _ in pairs)
        maj = gold.most_common(1)[0][1] / len(pairs)
        mr = np.mean([np.mean([a == c for g, a in pairs if g == c]) for c in gold])
        if l != "all":
            accs.append(acc)
            n10 += acc - maj >= 0.10
        print(f"  {l:8s} {len(pairs):5d} {acc:6.3f} {mr:7.3f} {maj:8.3f} {100 * (acc - maj):+7.1f}")
    print(f"  mean of languages {np.mean(accs):.3f}; languages >= +10 over majority: {n10}/{len(accs)}", flush=True)


def complaints(kinds, which, feats):
    """Measure only: 5-fold cross-validated F1 of `complaint` (nothing kept)."""
    rows = [r + ("complaints",) for r in load("complaints", kinds, which)]
    if len(rows) < 50:
        print("\ncomplaints: too few rows embedded yet")
        return
    y = np.array([r[1] == "complaint" for r in rows])
    F = feats(rows)
    f1s = []
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=14).split(F, y):
        m = LogisticRegression(C=1, max_iter=3000, class_weight="balanced").fit(F[tr], y[tr])
        p = m.predict(F[te])
        f1s.append(2 * np.sum(p & y[te]) / (np.sum(p) + np.sum(y[te])))
    allyes = 2 * y.mean() / (1 + y.mean())
    print(f"\ncomplaints ({len(rows)} rows), 5-fold CV F1 of complaint (measure only): {np.mean(f1s):.3f} "
          f"(folds {min(f1s):.3f}-{max(f1s):.3f}); all-yes F1 {allyes:.3f}", flush=True)


if __name__ == "__main__":
    main()
