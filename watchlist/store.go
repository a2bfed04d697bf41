package watchlist

import (
	"context"
	"errors"
	"sync"
)

var errTODO = errors.New("watchlist store: not implemented yet")

// Store is a directory of watchlists with their history. It is safe for
// concurrent use.
type Store struct {
	mu  sync.Mutex
	dir string
	opt Options
}

// Open opens (creating it if needed) the store in dir.
func Open(dir string, opt Options) (*Store, error) { return nil, errTODO }

// List returns the records that f selects, sorted by id.
func (s *Store) List(f Filter) []Record { return nil }

// Get returns one record.
func (s *Store) Get(id string) (Record, error) { return Record{}, errTODO }

// Validate checks a spec alone (its id, rule or keywords) without storing
// it; a problem is an *InvalidError.
func (s *Store) Validate(spec Spec) error { return errTODO }

// Apply creates (ifVersion 0) or edits (ifVersion the version read) a
// watchlist; the result is a draft. A live revision keeps matching until
// the new one is approved. A stale ifVersion is ErrConflict.
func (s *Store) Apply(ctx context.Context, actor string, spec Spec, ifVersion int) (Record, error) {
	return Record{}, errTODO
}

// Submit asks for approval of a draft (or rejected) revision: it becomes pending.
func (s *Store) Submit(ctx context.Context, actor, id, note string) (Record, error) {
	return Record{}, errTODO
}

// Approve makes a pending revision live, by someone other than its last
// editor (ErrSelfApproval). The whole live set is validated first; a set
// that does not compile or is over quota is refused and nothing changes.
func (s *Store) Approve(ctx context.Context, actor, id, note string) (Record, error) {
	return Record{}, errTODO
}

// Reject sends a pending revision back; the live revision, if any, keeps matching.
func (s *Store) Reject(ctx context.Context, actor, id, note string) (Record, error) {
	return Record{}, errTODO
}

// Pause takes a watchlist out of the live set.
func (s *Store) Pause(ctx context.Context, actor, id, note string) (Record, error) {
	return Record{}, errTODO
}

// Resume puts a paused watchlist's last approved revision back in the live set.
func (s *Store) Resume(ctx context.Context, actor, id, note string) (Record, error) {
	return Record{}, errTODO
}

// Delete removes a watchlist (and from the live set); its history stays.
func (s *Store) Delete(ctx context.Context, actor, id, note string) error { return errTODO }

// History returns a watchlist's changes, oldest first.
func (s *Store) History(id string) ([]Change, error) { return nil, errTODO }

// Import brings the watchlist files of a directory (kept and reviewed in
// git) in as live revisions.
func (s *Store) Import(ctx context.Context, actor, yamlDir string) ([]Record, error) {
	return nil, errTODO
}
