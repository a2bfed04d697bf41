package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/earshot-dev/earshot/internal/durable"
	"github.com/earshot-dev/earshot/strictyaml"
)

// TokenPrefix starts every earshot API token, so a leaked one is easy to
// recognise (and to scan for).
const TokenPrefix = "es_"

// Token is a stored API token. The secret itself is never stored: only
// its SHA-256. A token is 32 random bytes, so a fast unsalted hash is the
// right tool — there is nothing to brute-force that is easier than the
// 256-bit secret itself, and a slow password hash (bcrypt, argon2) would
// only cost CPU on every request.
type Token struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Scope     Scope     `json:"scope"`
	Hash      string    `json:"sha256,omitempty"` // hex SHA-256 of the secret; empty in listings
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	RevokedBy string    `json:"revoked_by,omitempty"`
}

// Public is the token without its hash, for listings and the audit log.
func (t Token) Public() Token { t.Hash = ""; return t }

// Errors of the token store.
var (
	ErrTokenUnknown = errors.New("unknown token")
	ErrTokenExpired = errors.New("token expired")
	ErrTokenRevoked = errors.New("token revoked")
	ErrTokenName    = errors.New("token name in use")
)

// TokenStore keeps tokens in one JSON file, written whole to a temporary
// file and renamed into place, under an flock so that `earshot token` and a
// running API can share it. A running API reloads the file when it
// changes, so a revocation takes effect on the next request.
type TokenStore struct {
	path string
	now  func() time.Time

	mu     sync.Mutex
	tokens []Token
	byHash map[string]int // hex SHA-256 → index in tokens
	stamp  fileStamp
}

type fileStamp struct {
	mod  time.Time
	size int64
	ino  uint64
}

type tokenFile struct {
	Tokens []Token `json:"tokens"`
}

// OpenTokens opens the store at path (the file need not exist yet).
func OpenTokens(path string, now func() time.Time) (*TokenStore, error) {
	if now == nil {
		now = time.Now
	}
	s := &TokenStore{path: path, now: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(); err != nil {
		return nil, err
	}
	return s, nil
}

func stampOf(fi os.FileInfo) fileStamp {
	return fileStamp{mod: fi.ModTime(), size: fi.Size(), ino: inode(fi)}
}

// reload reads the file again if it changed. Callers hold s.mu.
func (s *TokenStore) reload() error {
	fi, err := os.Stat(s.path)
	if errors.Is(err, os.ErrNotExist) {
		s.tokens, s.byHash, s.stamp = nil, nil, fileStamp{}
		return nil
	}
	if err != nil {
		return fmt.Errorf("tokens: %w", err)
	}
	st := stampOf(fi)
	if st == s.stamp && s.stamp.ino != 0 {
		return nil
	}
	data, err := strictyaml.ReadFile(s.path)
	if err != nil {
		return fmt.Errorf("tokens: %w", err)
	}
	var f tokenFile
	if err := json.Unmarshal(data, &f); err != nil {
		// earshot replaces the file whole (internal/durable): this is a
		// file system that lost data in a crash, or a hand.
		return fmt.Errorf("tokens: %s is not a token file (%w): restore a copy, or move it away and create the tokens again (every token in it stops working)", s.path, err)
	}
	s.tokens, s.stamp = f.Tokens, st
	s.byHash = make(map[string]int, len(f.Tokens))
	for i, t := range f.Tokens {
		s.byHash[t.Hash] = i
	}
	return nil
}

// Authenticate returns the identity of a token secret. The stored token is
// found by the SHA-256 of the secret and the hashes are then compared in
// constant time. Looking a hash up in a map can take time that depends on
// the hash, but that tells a caller nothing about any stored secret: they
// cannot choose a secret whose SHA-256 starts with what they want, and a
// stored hash is not a credential. (Scanning every token in constant time
// instead costs 100 µs a request at 1000 tokens: BENCHMARKS.md.)
func (s *TokenStore) Authenticate(secret string) (Identity, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return Identity{}, ErrTokenUnknown
	}
	sum := sha256.Sum256([]byte(secret))
	want := []byte(hex.EncodeToString(sum[:]))
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(); err != nil {
		return Identity{}, err
	}
	found, ok := s.byHash[string(want)]
	if !ok || subtle.ConstantTimeCompare([]byte(s.tokens[found].Hash), want) != 1 {
		return Identity{}, ErrTokenUnknown
	}
	t := s.tokens[found]
	switch {
	case !t.RevokedAt.IsZero():
		return Identity{}, ErrTokenRevoked
	case !t.ExpiresAt.IsZero() && !s.now().Before(t.ExpiresAt):
		return Identity{}, ErrTokenExpired
	}
	return Identity{ID: t.ID, Name: t.Name, Role: t.Role, Scope: t.Scope, Via: "token", ExpiresAt: t.ExpiresAt}, nil
}

var (
	tokenName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9@._+-]{0,127}$`)
	scopeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
)

// NewToken describes a token to create.
type NewToken struct {
	Name      string
	Role      Role
	Scope     Scope
	TTL       time.Duration // 0: never expires
	CreatedBy string
}

func (n NewToken) validate() error {
	var errs []error
	if !tokenName.MatchString(n.Name) {
		errs = append(errs, fmt.Errorf("name %q: want letters, digits and @._+- (at most 128)", n.Name))
	}
	if !n.Role.Valid() {
		errs = append(errs, fmt.Errorf("role %q: want one of %v", n.Role, Roles))
	}
	for _, l := range [][]string{n.Scope.Teams, n.Scope.Brands, n.Scope.Regions, n.Scope.Markets} {
		for _, v := range l {
			if !scopeName.MatchString(v) {
				errs = append(errs, fmt.Errorf("scope %q: want letters, digits and ._- (at most 64)", v))
			}
		}
	}
	if n.TTL < 0 {
		errs = append(errs, fmt.Errorf("expiry %v: want positive (or none)", n.TTL))
	}
	return errors.Join(errs...)
}

// Create stores a new token and returns it with its secret, which is shown
// this once and never again.
func (s *TokenStore) Create(n NewToken) (Token, string, error) {
	if err := n.validate(); err != nil {
		return Token{}, "", err
	}
	n.Scope = n.Scope.unique() // --markets dach,DACH is one market
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return Token{}, "", err
	}
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	sum := sha256.Sum256([]byte(secret))
	var id [6]byte
	rand.Read(id[:])
	now := s.now().UTC().Truncate(time.Second)
	t := Token{ID: "tok_" + hex.EncodeToString(id[:]), Name: n.Name, Role: n.Role, Scope: n.Scope, Hash: hex.EncodeToString(sum[:]), CreatedAt: now, CreatedBy: n.CreatedBy}
	if n.TTL > 0 {
		t.ExpiresAt = now.Add(n.TTL)
	}
	err := s.update(func(ts []Token) ([]Token, error) {
		// The audit log and the four-eyes rule know callers by name: two
		// live tokens of one name (in any case) would be one person to
		// them. A revoked or expired token's name is free: a rotation.
		for _, o := range ts {
			if strings.EqualFold(o.Name, t.Name) && o.RevokedAt.IsZero() && (o.ExpiresAt.IsZero() || o.ExpiresAt.After(now)) {
				return nil, fmt.Errorf("%w: %q is the name of live token %s; names are unique (revoke that one first to replace it)", ErrTokenName, t.Name, o.ID)
			}
		}
		return append(ts, t), nil
	})
	if err != nil {
		return Token{}, "", err
	}
	return t, secret, nil
}

// Revoke revokes a token by id and returns it before and after.
func (s *TokenStore) Revoke(id, by string) (before, after Token, err error) {
	err = s.update(func(ts []Token) ([]Token, error) {
		i := slices.IndexFunc(ts, func(t Token) bool { return t.ID == id })
		if i < 0 {
			return nil, fmt.Errorf("%w: %q", ErrTokenUnknown, id)
		}
		if !ts[i].RevokedAt.IsZero() {
			return nil, fmt.Errorf("%w: %q already, at %s", ErrTokenRevoked, id, ts[i].RevokedAt.Format(time.RFC3339))
		}
		before = ts[i]
		ts[i].RevokedAt, ts[i].RevokedBy = s.now().UTC().Truncate(time.Second), by
		after = ts[i]
		return ts, nil
	})
	return before.Public(), after.Public(), err
}

// List returns every token, without hashes, oldest first.
func (s *TokenStore) List() ([]Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(); err != nil {
		return nil, err
	}
	out := make([]Token, len(s.tokens))
	for i, t := range s.tokens {
		out[i] = t.Public()
	}
	return out, nil
}

// update changes the file under an exclusive lock, writing it whole.
func (s *TokenStore) update(change func([]Token) ([]Token, error)) error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("tokens: %w", err)
	}
	lock := durable.NewLock(s.path+".lock", 0o600)
	if err := lock.Lock(); err != nil {
		return fmt.Errorf("tokens: %w", err)
	}
	defer lock.Unlock()

	s.mu.Lock()
	defer s.mu.Unlock()
	s.stamp = fileStamp{} // read fresh under the lock
	if err := s.reload(); err != nil {
		return err
	}
	ts, err := change(slices.Clone(s.tokens))
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(tokenFile{Tokens: ts}, "", "  ")
	if err != nil {
		return err
	}
	if err := durable.WriteFile(s.path, append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("tokens: %w", err)
	}
	s.stamp = fileStamp{}
	return s.reload()
}
