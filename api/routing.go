package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/earshot-dev/earshot/internal/durable"
	"github.com/earshot-dev/earshot/route"
	"github.com/earshot-dev/earshot/strictyaml"
)

// RoutingFiles is the routing policy and organisation as files: the ones
// the route stage reads, and reloads when they change (route.reload_interval).
// A change goes through a proposal that a second person approves (four
// eyes); approving writes both files atomically.
type RoutingFiles struct {
	Policy, Org string // paths; Org may be empty
	Proposal    string // where the pending proposal is kept (JSON)
	// Regions is enrich.regions, which the org file's markets are checked
	// against, as the route stage checks them.
	Regions map[string][]string

	mu sync.Mutex
}

// RoutingSet is a policy and an organisation, as YAML text.
type RoutingSet struct {
	Policy string `json:"policy"`
	Org    string `json:"org,omitempty"`
}

// RoutingView is what GET /v1/routing answers.
type RoutingView struct {
	RoutingSet
	Version  string            `json:"version"` // of the files in force: a proposal names the version it changes
	Proposal *RoutingProposal  `json:"proposal,omitempty"`
	Warnings []string          `json:"warnings,omitempty"`
	Files    map[string]string `json:"files"`
}

// RoutingProposal is a change waiting for approval.
type RoutingProposal struct {
	RoutingSet
	BaseVersion string    `json:"base_version"`
	Version     string    `json:"version"` // of the proposal itself: an approval names the one reviewed
	By          string    `json:"by"`
	At          time.Time `json:"at"`
	Note        string    `json:"note,omitempty"`
}

var (
	errRoutingNotFound = errors.New("no routing proposal is pending")
	errRoutingStale    = errors.New("the routing files changed since the proposal was made")
)

func routingVersion(set RoutingSet) string {
	sum := sha256.Sum256([]byte(set.Policy + "\x00" + set.Org))
	return hex.EncodeToString(sum[:8])
}

// current reads the files in force.
func (f *RoutingFiles) current() (RoutingSet, error) {
	p, err := strictyaml.ReadFile(f.Policy)
	if err != nil {
		return RoutingSet{}, fmt.Errorf("reading the routing policy: %w", err)
	}
	set := RoutingSet{Policy: string(p)}
	if f.Org != "" {
		o, err := strictyaml.ReadFile(f.Org)
		if err != nil {
			return RoutingSet{}, fmt.Errorf("reading the organisation: %w", err)
		}
		set.Org = string(o)
	}
	return set, nil
}

// check loads set as the route stage would, from a scratch directory, and
// returns its problems (file and line, named as the real files) or its
// warnings (overlapping rules).
func (f *RoutingFiles) check(set RoutingSet) (warnings []string, err error) {
	if set.Org != "" && f.Org == "" {
		return nil, errors.New("org: this installation runs without an organisation file (route.org); it cannot be set here")
	}
	dir, err := os.MkdirTemp("", "earshot-routing")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	cfg := route.DefaultConfig()
	cfg.Regions = f.Regions
	cfg.Policy = filepath.Join(dir, filepath.Base(f.Policy))
	if err := os.WriteFile(cfg.Policy, []byte(set.Policy), 0o600); err != nil {
		return nil, err
	}
	if f.Org != "" {
		cfg.Org = filepath.Join(dir, filepath.Base(f.Org))
		if err := os.WriteFile(cfg.Org, []byte(set.Org), 0o600); err != nil {
			return nil, err
		}
	}
	scratch := dir + string(filepath.Separator)
	p, err := route.Load(cfg)
	if err != nil {
		return nil, errors.New(strings.ReplaceAll(err.Error(), scratch, ""))
	}
	for _, w := range p.Overlaps() {
		warnings = append(warnings, strings.ReplaceAll(w, scratch, ""))
	}
	return warnings, nil
}

func (f *RoutingFiles) proposal() (*RoutingProposal, error) {
	b, err := os.ReadFile(f.Proposal)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the routing proposal: %w", err)
	}
	var p RoutingProposal
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("reading the routing proposal %s: %w", f.Proposal, err)
	}
	p.Version = routingVersion(p.RoutingSet) // of what it says, whatever the file holds
	return &p, nil
}

// writeAtomic replaces path with data (writeFileAtomic: a synced temporary
// file renamed over it, so the route stage never reads half a file),
// keeping the mode of the file it replaces.
func writeAtomic(path string, data []byte) error {
	perm := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		perm = fi.Mode().Perm()
	}
	return durable.WriteFile(path, data, perm)
}

// orgWide refuses callers scoped to teams, brands or regions: the routing
// policy is the whole organisation's.
func orgWide(c *call) error {
	if c.id.Scope.Unscoped() {
		return nil
	}
	return errorf(http.StatusForbidden, CodeOutOfScope, "the routing policy is the whole organisation's: a caller scoped to %s may read it, not change it", c.id.Scope)
}

func (s *Server) routing() (*RoutingFiles, error) {
	if s.d.Routing == nil {
		return nil, errorf(http.StatusServiceUnavailable, CodeNotConfigured, "no routing files are configured (route.policy)")
	}
	return s.d.Routing, nil
}

func (s *Server) getRouting(c *call) error {
	f, err := s.routing()
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	set, err := f.current()
	if err != nil {
		return err
	}
	prop, err := f.proposal()
	if err != nil {
		return err
	}
	warnings, _ := f.check(set)
	return c.json(http.StatusOK, RoutingView{RoutingSet: set, Version: routingVersion(set), Proposal: prop, Warnings: warnings,
		Files: map[string]string{"policy": filepath.Base(f.Policy), "org": filepath.Base(f.Org)}})
}

func (s *Server) validateRouting(c *call) error {
	f, err := s.routing()
	if err != nil {
		return err
	}
	if err := orgWide(c); err != nil {
		return err
	}
	var set RoutingSet
	if e := decodeJSON(c.r, &set, false); e != nil {
		return e
	}
	warnings, err := f.check(set)
	if err != nil {
		return &Error{Status: http.StatusUnprocessableEntity, Code: CodeInvalid, Message: "the routing policy does not load", Details: strings.Split(err.Error(), "\n")}
	}
	return c.json(http.StatusOK, map[string]any{"valid": true, "warnings": warnings})
}

// RoutingProposeRequest is the body of PUT /v1/routing/proposal.
type RoutingProposeRequest struct {
	RoutingSet
	IfVersion string `json:"if_version"` // the version of the files the change was made against
	Note      string `json:"note,omitempty"`
}

func (s *Server) proposeRouting(c *call) error {
	f, err := s.routing()
	if err != nil {
		return err
	}
	if err := orgWide(c); err != nil {
		return err
	}
	var req RoutingProposeRequest
	if e := decodeJSON(c.r, &req, false); e != nil {
		return e
	}
	if len(req.Note) > 2000 {
		return errorf(http.StatusBadRequest, CodeBadRequest, "note: at most 2000 bytes")
	}
	if _, err := f.check(req.RoutingSet); err != nil {
		return &Error{Status: http.StatusUnprocessableEntity, Code: CodeInvalid, Message: "the routing policy does not load", Details: strings.Split(err.Error(), "\n")}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cur, err := f.current()
	if err != nil {
		return err
	}
	if req.IfVersion != routingVersion(cur) {
		return errorf(http.StatusConflict, CodeConflict, "if_version %q: the files in force are version %s", req.IfVersion, routingVersion(cur))
	}
	before, err := f.proposal()
	if err != nil {
		return err
	}
	prop := &RoutingProposal{RoutingSet: req.RoutingSet, BaseVersion: req.IfVersion, Version: routingVersion(req.RoutingSet), By: c.id.Name, At: s.now().UTC(), Note: req.Note}
	b, _ := json.Marshal(prop)
	if err := durable.WriteFile(f.Proposal, b, 0o600); err != nil {
		return fmt.Errorf("writing the routing proposal: %w", err)
	}
	if err := c.audit("routing.propose", "routing_policy", "routing", before, prop); err != nil {
		return err
	}
	return c.json(http.StatusOK, prop)
}

// RoutingDecision is the body of an approval (if_version required) or a
// rejection (if_version optional) of the routing proposal: the proposal's
// version that the reviewer read.
type RoutingDecision struct {
	IfVersion string `json:"if_version"`
	Note      string `json:"note"`
}

// decide approves or rejects the pending proposal.
func (s *Server) decideRouting(approve bool) handler {
	return func(c *call) error {
		f, err := s.routing()
		if err != nil {
			return err
		}
		if err := orgWide(c); err != nil {
			return err
		}
		var req RoutingDecision
		if e := decodeJSON(c.r, &req, true); e != nil {
			return e
		}
		if len(req.Note) > maxNote {
			return errorf(http.StatusBadRequest, CodeBadRequest, "note: %d bytes, at most %d", len(req.Note), maxNote)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		prop, err := f.proposal()
		if err != nil {
			return err
		}
		if prop == nil {
			return errorf(http.StatusNotFound, CodeNotFound, "%v", errRoutingNotFound)
		}
		switch {
		case req.IfVersion == "" && approve:
			return errorf(http.StatusBadRequest, CodeBadRequest, "if_version: an approval names the proposal reviewed (proposal.version of GET /v1/routing)")
		case req.IfVersion != "" && req.IfVersion != prop.Version:
			return errorf(http.StatusConflict, CodeConflict, "the proposal is version %s, not the %s reviewed: it was replaced since; review it again", prop.Version, truncate(req.IfVersion, 40))
		}
		if !approve {
			if err := os.Remove(f.Proposal); err != nil {
				return fmt.Errorf("removing the routing proposal: %w", err)
			}
			if err := c.audit("routing.reject", "routing_policy", "routing", prop, nil); err != nil {
				return err
			}
			return c.json(http.StatusOK, prop)
		}
		if prop.By == c.id.Name {
			return errorf(http.StatusForbidden, CodeSelfApproval, "a routing change must be approved by someone other than %s, who proposed it", prop.By)
		}
		cur, err := f.current()
		if err != nil {
			return err
		}
		if routingVersion(cur) != prop.BaseVersion {
			return errorf(http.StatusConflict, CodeConflict, "%v (proposal against %s, files now %s): propose it again", errRoutingStale, prop.BaseVersion, routingVersion(cur))
		}
		if _, err := f.check(prop.RoutingSet); err != nil {
			return &Error{Status: http.StatusUnprocessableEntity, Code: CodeInvalid, Message: "the proposed routing policy does not load", Details: strings.Split(err.Error(), "\n")}
		}
		// The organisation first: a policy naming a queue of the new
		// organisation must not meet the old one.
		if f.Org != "" {
			if err := writeAtomic(f.Org, []byte(prop.Org)); err != nil {
				return fmt.Errorf("writing %s: %w", f.Org, err)
			}
		}
		if err := writeAtomic(f.Policy, []byte(prop.Policy)); err != nil {
			return fmt.Errorf("writing %s: %w", f.Policy, err)
		}
		if err := os.Remove(f.Proposal); err != nil {
			return fmt.Errorf("removing the routing proposal: %w", err)
		}
		s.queuesMu.Lock()
		s.queuesAt = time.Time{} // who works each queue may have changed: read it on the next request
		s.queuesMu.Unlock()
		after := RoutingView{RoutingSet: prop.RoutingSet, Version: routingVersion(prop.RoutingSet)}
		if err := c.audit("routing.approve", "routing_policy", "routing", cur, after); err != nil {
			return err
		}
		return c.json(http.StatusOK, after)
	}
}
