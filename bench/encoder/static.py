"""Issue 14 experiment: a static token-embedding table from
multilingual-e5-small, model2vec's method: every vocabulary token is run
alone through the encoder ([CLS] token [SEP], mean-pooled), the vectors are
reduced by PCA, and a post is the SIF-weighted mean of its tokens' rows.

  python static.py build distil   # or: build raw (input embedding rows, no forward pass)
  (then ceiling.py static, static+hash)

Vocabulary: the pieces that occur in the training files' train and dev
parts (texts only), so the table needs no forward pass for the 200k pieces
our posts never use; the rest of the 250k vocabulary is dropped.
"""
import os, sys, time
import numpy as np
from collections import Counter
import enc

DIMS = int(os.environ.get("ENC14_DIMS", "128"))
SIF = 1e-4
PATH = os.path.join(enc.CACHE, "static_{kind}_{dims}.npz")


def tokens(name, e5=None):
    """Piece ids of every row of a file (cached)."""
    import pickle
    cp = os.path.join(enc.CACHE, f"tokens.{name}.pkl")
    if os.path.exists(cp):
        with open(cp, "rb") as f:
            return pickle.load(f)
    e5 = e5 or enc.E5()
    out = [e5.tokenize(r[2]) for r in enc.rows(name)]
    os.makedirs(enc.CACHE, exist_ok=True)
    with open(cp + ".tmp", "wb") as f:
        pickle.dump(out, f)
    os.rename(cp + ".tmp", cp)
    return out


def vocab_counts(e5):
    """Piece counts over the training files' rows that train (texts only)."""
    c = Counter()
    for f in ["umsab_train", "semeval", "afrisenti", "politics", "mozetic"]:
        for r, t in zip(enc.rows(f), tokens(f, e5)):
            if r[3] != "test" or f in ("umsab_train", "semeval"):
                c.update(t)
    return c


def build(kind):
    e5 = enc.E5()
    t = time.time()
    counts = vocab_counts(e5)
    # the most frequent pieces first; TOP caps the distilled vocabulary
    # (its forward passes are the cost), pieces past it are dropped
    ids = sorted(counts, key=lambda i: (-counts[i], i))[:int(os.environ.get("ENC14_TOP", "1000000"))]
    print(f"{len(ids)} pieces occur in the training texts ({sum(counts.values())} tokens); {time.time() - t:.0f} s", flush=True)
    vocab = e5.vocab()
    V = np.zeros((len(ids), e5.H), dtype=np.float32)
    t = time.process_time()
    if kind == "raw":
        import ctypes
        row = np.zeros(e5.H, dtype=np.float32)
        e5.lib.e5x_word_row.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
        for j, i in enumerate(ids):
            e5.lib.e5x_word_row(e5.m, i, row.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
            V[j] = row
    else:
        bs = 512
        for s in range(0, len(ids), bs):
            cp = os.path.join(enc.CACHE, f"tok.{len(ids)}.{s // bs}.npy")
            if not os.path.exists(cp):
                np.save(cp, e5.embed_tokens(ids[s:s + bs]))
                if s // bs % 10 == 0:
                    print(f"  {s + bs}/{len(ids)} pieces, {time.process_time() - t:.0f} CPU s", flush=True)
            V[s:s + bs] = np.load(cp)
    # PCA (centred), then SIF weights from the tokenizer's own unigram
    # log-probabilities (no corpus counts needed)
    mu = V.mean(0)
    U, S, Wt = np.linalg.svd(V - mu, full_matrices=False)
    P = (V - mu) @ Wt[:DIMS].T
    w = np.array([SIF / (SIF + np.exp(vocab[i][1])) for i in ids], dtype=np.float32)
    P = P * w[:, None]
    # int8, one scale per dimension: what a committed artifact would hold
    scale = np.abs(P).max(0) / 127
    Q = np.round(P / scale).astype(np.int8)
    np.savez(PATH.format(kind=kind, dims=DIMS), ids=np.array(ids), q=Q, scale=scale.astype(np.float32),
             pieces=np.array([vocab[i][0] for i in ids]), counts=np.array([counts[i] for i in ids]))
    print(f"table {len(ids)} x {DIMS} int8 = {Q.nbytes / 1e6:.1f} MB (+ pieces); variance kept "
          f"{(S[:DIMS] ** 2).sum() / (S ** 2).sum():.3f}; {time.process_time() - t:.0f} CPU s")


class Table:
    @classmethod
    def load(cls, kind=None, dims=DIMS):
        kind = kind or os.environ.get("ENC14_STATIC", "distil")
        z = np.load(PATH.format(kind=kind, dims=dims))
        t = cls()
        t.row = {int(i): j for j, i in enumerate(z["ids"])}
        t.M = z["q"].astype(np.float32) * z["scale"]
        return t

    def embed(self, toks):
        """toks: piece ids per post (tokens())."""
        out = np.zeros((len(toks), self.M.shape[1]), dtype=np.float32)
        for k, s in enumerate(toks):
            js = [self.row[i] for i in s if i in self.row]
            if js:
                v = self.M[js].mean(0)
                n = np.linalg.norm(v)
                out[k] = v / n if n > 0 else v
        return out


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(sys.argv[2])
    elif sys.argv[1] == "tokens":  # tokenize files (cached)
        for f in sys.argv[2:]:
            tokens(f)
