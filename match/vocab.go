package match

import "github.com/earshot-dev/earshot/textnorm"

// vocab maps folded words to ids. Most words of a post are in no watchlist,
// so the lookup is built for the miss: a bitset filter small enough to stay
// in cache rejects most of them with one memory access, and an
// open-addressing table keyed by the word's hash answers the rest.
type vocab struct {
	filter []uint64 // one bit per hash bucket
	fbits  uint64   // bits in filter - 1 (a power of two minus one)
	keys   []uint64 // word hashes; 0 is an empty slot
	ids    []uint32
	words  []string // by id, to confirm a hash hit
	mask   uint64
}

// fnv is 64-bit FNV-1a, never 0 (0 marks an empty slot).
func fnv(b []byte) uint64 {
	h := uint64(fnvOffset)
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	if h == 0 {
		h = 1
	}
	return h
}

func newVocab(words map[string]uint32) *vocab {
	size := uint64(16)
	for size < uint64(len(words))*2 {
		size <<= 1
	}
	fsize := max(size*8, 1<<16) // ~8 filter bits per word: about 1 false pass in 8 misses... fewer once spread
	v := &vocab{
		filter: make([]uint64, fsize/64),
		fbits:  fsize - 1,
		keys:   make([]uint64, size),
		ids:    make([]uint32, size),
		words:  make([]string, len(words)),
		mask:   size - 1,
	}
	for w, id := range words {
		h := textnorm.WordHash([]byte(w))
		v.words[id] = w
		b := (h >> 20) & v.fbits
		v.filter[b>>6] |= 1 << (b & 63)
		i := h & v.mask
		for v.keys[i] != 0 {
			i = (i + 1) & v.mask
		}
		v.keys[i], v.ids[i] = h, id
	}
	return v
}

func (v *vocab) lookup(h uint64, w []byte) (uint32, bool) {
	if !v.maybe(h) {
		return 0, false
	}
	return v.find(h, w)
}

// maybe is the filter: false means no keyword has a word of hash h.
func (v *vocab) maybe(h uint64) bool {
	b := (h >> 20) & v.fbits
	return v.filter[b>>6]&(1<<(b&63)) != 0
}

// find looks w (of hash h) up in the table.
func (v *vocab) find(h uint64, w []byte) (uint32, bool) {
	for i := h & v.mask; ; i = (i + 1) & v.mask {
		switch k := v.keys[i]; {
		case k == 0:
			return 0, false
		case k == h && v.words[v.ids[i]] == string(w):
			return v.ids[i], true
		}
	}
}
