// Package gotok is an experiment (issue 14), not used by earshot: what a
// static token-embedding table would cost a post in Go. It tokenizes with
// the XLM-R SentencePiece Unigram model (Viterbi over a byte trie of the
// pieces, "▁" stored as a space) and averages the int8 rows of the pieces
// the table holds. Missing from it: SentencePiece's NFKC normalisation map.
package gotok

import "math"

// Table is a piece trie with a score per piece and, for the pieces the
// embedding table keeps, their int8 row.
type Table struct {
	// trie: node i's children are kids[first[i]:first[i+1]] (sorted by
	// byte); root children are direct-indexed by rootKid
	first   []int32
	label   []byte
	child   []int32
	piece   []int32 // piece id ending at node, -1 none
	rootKid [256]int32
	// nodes with many children (the "▁" node has ~200) look up a
	// 256-entry block instead of scanning
	dense    []int32 // node -> block offset in denseKid, -1 none
	denseKid []int32
	score    []float32
	row      []int32 // piece id -> table row, -1 none
	dims     int
	rows     []int8
	unk      float32
}

// Scratch is per-worker state, so Embed allocates nothing.
type Scratch struct {
	best []float32
	from []int32
	id   []int32
	acc  []int32
}

// New builds the table. pieces use a space for "▁"; keep[i] is piece i's
// row in rows (dims int8 values each) or -1.
func New(pieces []string, scores []float32, keep []int32, rows []int8, dims int) *Table {
	t := &Table{score: scores, row: keep, rows: rows, dims: dims, unk: -100}
	// build a map trie first, then flatten it breadth-first
	type node struct {
		kids  map[byte]*node
		piece int32
	}
	root := &node{kids: map[byte]*node{}, piece: -1}
	for i, p := range pieces {
		if p == "" {
			continue
		}
		n := root
		for j := 0; j < len(p); j++ {
			k := n.kids[p[j]]
			if k == nil {
				k = &node{kids: map[byte]*node{}, piece: -1}
				n.kids[p[j]] = k
			}
			n = k
		}
		n.piece = int32(i)
	}
	queue := []*node{root}
	idx := map[*node]int32{root: 0}
	for q := 0; q < len(queue); q++ {
		n := queue[q]
		t.first = append(t.first, int32(len(t.label)))
		t.piece = append(t.piece, n.piece)
		for b := 0; b < 256; b++ {
			if k := n.kids[byte(b)]; k != nil {
				idx[k] = int32(len(queue))
				queue = append(queue, k)
				t.label = append(t.label, byte(b))
				t.child = append(t.child, idx[k])
			}
		}
	}
	t.first = append(t.first, int32(len(t.label)))
	for b := range t.rootKid {
		t.rootKid[b] = -1
	}
	for i := t.first[0]; i < t.first[1]; i++ {
		t.rootKid[t.label[i]] = t.child[i]
	}
	t.dense = make([]int32, len(t.piece))
	for n := range t.dense {
		t.dense[n] = -1
		if t.first[n+1]-t.first[n] > 8 {
			off := int32(len(t.denseKid))
			for range 256 {
				t.denseKid = append(t.denseKid, -1)
			}
			for i := t.first[n]; i < t.first[n+1]; i++ {
				t.denseKid[off+int32(t.label[i])] = t.child[i]
			}
			t.dense[n] = off
		}
	}
	return t
}

func (t *Table) next(n int32, b byte) int32 {
	if n == 0 {
		return t.rootKid[b]
	}
	if d := t.dense[n]; d >= 0 {
		return t.denseKid[d+int32(b)]
	}
	for i := t.first[n]; i < t.first[n+1]; i++ {
		if t.label[i] == b {
			return t.child[i]
		} else if t.label[i] > b {
			break
		}
	}
	return -1
}

// Embed writes the mean of the table rows of text's pieces into out
// (unscaled int8 sums / count) and returns the number of pieces found. text
// is given with a leading space and spaces for "▁" (the caller's cleaning).
func (t *Table) Embed(s *Scratch, text []byte, out []float32) int {
	n := len(text)
	if cap(s.best) < n+1 {
		s.best, s.from, s.id = make([]float32, n+1), make([]int32, n+1), make([]int32, n+1)
	}
	if len(s.acc) < t.dims {
		s.acc = make([]int32, t.dims)
	}
	best, from, id := s.best[:n+1], s.from[:n+1], s.id[:n+1]
	for i := range best {
		best[i] = float32(math.Inf(-1))
	}
	best[0] = 0
	for i := 0; i < n; i++ {
		if math.IsInf(float64(best[i]), -1) {
			continue
		}
		// an unknown byte run to the next UTF-8 start
		e := i + 1
		for e < n && text[e]&0xC0 == 0x80 {
			e++
		}
		if v := best[i] + t.unk; v > best[e] {
			best[e], from[e], id[e] = v, int32(i), -1
		}
		node := int32(0)
		for j := i; j < n; j++ {
			if node = t.next(node, text[j]); node < 0 {
				break
			}
			if p := t.piece[node]; p >= 0 {
				if v := best[i] + t.score[p]; v > best[j+1] {
					best[j+1], from[j+1], id[j+1] = v, int32(i), p
				}
			}
		}
	}
	acc := s.acc[:t.dims]
	clear(acc)
	found := 0
	for e := n; e > 0; e = int(from[e]) {
		if p := id[e]; p >= 0 {
			if r := t.row[p]; r >= 0 {
				row := t.rows[int(r)*t.dims : int(r+1)*t.dims]
				for k, v := range row {
					acc[k] += int32(v)
				}
				found++
			}
		}
	}
	if found > 0 {
		inv := 1 / float32(found)
		for k := range out[:t.dims] {
			out[k] = float32(acc[k]) * inv
		}
	}
	return found
}
