package api

// recentSet is a set that remembers the last max keys added to it: past
// max, each new key forgets the oldest. Not safe for concurrent use (its
// owners hold their own locks).
type recentSet[K comparable] struct {
	max  int
	seen map[K]struct{}
	ring []K // oldest first once full
	next int
}

func newRecentSet[K comparable](max int) recentSet[K] {
	return recentSet[K]{max: max, seen: map[K]struct{}{}}
}

// add adds k and says whether it was new.
func (s *recentSet[K]) add(k K) bool {
	if s.has(k) {
		return false
	}
	if len(s.ring) < s.max {
		s.ring = append(s.ring, k)
	} else {
		delete(s.seen, s.ring[s.next])
		s.ring[s.next] = k
		s.next = (s.next + 1) % s.max
	}
	s.seen[k] = struct{}{}
	return true
}

func (s *recentSet[K]) has(k K) bool {
	_, ok := s.seen[k]
	return ok
}

// len is how many keys it remembers.
func (s *recentSet[K]) len() int { return len(s.seen) }
