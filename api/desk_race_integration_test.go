//go:build integration

package api

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/sink"
)

// raceTable makes two API replicas meet: each replica's first read of the
// alert's events is its base; no replica writes until both have read
// theirs, so both decide on the same state, as two requests a few
// milliseconds apart on two replicas do; and no replica reads again until
// both writes have landed. (When one write is still in flight at the
// other's second read, the second read cannot see it: see CHAlerts.Act.)
type raceTable struct {
	AlertTable
	read, wrote *sync.WaitGroup
	reads       int
	done        sync.Once // wrote.Done, once: after the write, or when the replica wrote nothing
}

// FindDesk is a replica's first read: the alert and its events.
func (r *raceTable) FindDesk(ctx context.Context, queue, id string) (sink.AlertRow, []sink.DeskEventRow, bool, error) {
	a, events, found, err := r.AlertTable.FindDesk(ctx, queue, id)
	if r.reads++; r.reads == 1 {
		r.read.Done()
	}
	return a, events, found, err
}

// DeskEvents is a replica's read after its write.
func (r *raceTable) DeskEvents(ctx context.Context, queue string, ids []string) (map[string][]sink.DeskEventRow, error) {
	r.wrote.Wait()
	return r.AlertTable.DeskEvents(ctx, queue, ids)
}

func (r *raceTable) AddDeskEvent(ctx context.Context, row sink.DeskEventRow) error {
	r.read.Wait()
	defer r.done.Do(r.wrote.Done)
	return r.AlertTable.AddDeskEvent(ctx, row)
}

// TestDeskTwoReplicasAtOnce: two API replicas (two stores on one
// ClickHouse, no lock between them) take the same alert at the same time.
// Exactly one is answered; the other is refused (409), and every reader
// agrees with the answer given: the alert is the answered one's.
func TestDeskTwoReplicasAtOnce(t *testing.T) {
	ctx := context.Background()
	conn, db := scratchDB(t, "i_deskrace")
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	var items []*post.Item
	for i := range 8 {
		id := fmt.Sprintf("r%d", i)
		items = append(items, &post.Item{Post: &post.Post{Platform: "x", ID: id, Text: "acme is down", CreatedAt: t0},
			Alert: &post.Alert{ID: id, Queue: "care", Priority: "P2", Rule: "r", CreatedAt: t0}})
	}
	if out, err := sink.New(conn, db).AlertStage()(ctx, post.Batch{Items: items}); err != nil || len(out.Rejected) > 0 {
		t.Fatalf("storing the alerts: %v", err)
	}
	tab := &sink.AlertTables{Conn: conn, DB: db}
	reader := &CHAlerts{Table: tab}

	// race runs e1 on one replica and e2 on another, meeting as above.
	race := func(id string, e1, e2 DeskEvent, reassign1, reassign2 bool) [2]error {
		var read, wrote sync.WaitGroup
		read.Add(2)
		wrote.Add(2)
		var errs [2]error
		var wg sync.WaitGroup
		for i, e := range []DeskEvent{e1, e2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rt := &raceTable{AlertTable: tab, read: &read, wrote: &wrote}
				replica := &CHAlerts{Table: rt}
				e.At = time.Now().UTC().Truncate(time.Second)
				_, changed, err := replica.Act(ctx, "care", id, e, []bool{reassign1, reassign2}[i])
				rt.done.Do(wrote.Done) // refused before writing: the other need not wait
				if err == nil && !changed {
					err = errors.New("no change")
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		return errs
	}
	// one checks that exactly one of two took effect, and returns which.
	one := func(what string, errs [2]error) int {
		t.Helper()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won < 0:
				won = i
			case err == nil:
				t.Errorf("%s: both replicas were answered: the second claim is lost for one of them", what)
			case !errors.Is(err, ErrDeskConflict):
				t.Errorf("%s: replica %d: %v", what, i, err)
			}
		}
		if won < 0 {
			t.Errorf("%s: neither replica was answered: %v", what, errs)
		}
		return won
	}
	claim := func(who string) DeskEvent { return DeskEvent{ID: "c-" + who, Action: ActClaim, Actor: who} }

	for i := range 3 {
		id := fmt.Sprintf("r%d", i)
		won := one("two claims of "+id, race(id, claim("rita"), claim("sam"), false, false))
		a, err := reader.Get(ctx, "care", id)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"rita", "sam"}[max(won, 0)]; a.Desk.Assignee != want || a.Desk.Events != 1 {
			t.Errorf("%s: the stored desk gives it to %q (%d events), the answer to %q", id, a.Desk.Assignee, a.Desk.Events, want)
		}
	}
	// Two resolves at once: one outcome.
	won := one("two resolves", race("r3", DeskEvent{ID: "x1", Action: ActResolve, Actor: "rita", Outcome: "replied"},
		DeskEvent{ID: "x2", Action: ActResolve, Actor: "sam", Outcome: "spam"}, false, false))
	if a, _ := reader.Get(ctx, "care", "r3"); a.Desk.Outcome != []string{"replied", "spam"}[max(won, 0)] {
		t.Errorf("two resolves: stored %q", a.Desk.Outcome)
	}
	// A note beside a claim: both stand.
	errs := race("r4", claim("rita"), DeskEvent{ID: "n1", Action: ActNote, Actor: "sam", Text: "seen"}, false, false)
	if errs[0] != nil || errs[1] != nil {
		t.Errorf("a claim and a note at once: %v", errs)
	}
	// A coach's takeover stays a takeover: rita holds r5, then the coach
	// claims it (alerts.reassign) while sam claims it too: the coach's
	// answer is the stored one.
	if _, _, err := reader.Act(ctx, "care", "r5", DeskEvent{ID: "c0", Action: ActClaim, Actor: "rita", At: t0.Add(time.Minute)}, false); err != nil {
		t.Fatal(err)
	}
	errs = race("r5", claim("cora"), claim("sam"), true, false)
	if errs[0] != nil || !errors.Is(errs[1], ErrDeskConflict) {
		t.Errorf("takeover: %v", errs)
	}
	if a, _ := reader.Get(ctx, "care", "r5"); a.Desk.Assignee != "cora" {
		t.Errorf("takeover: held by %q, want cora", a.Desk.Assignee)
	}
	// Read back by a replica that was not there, after a retry of the
	// takeover with its key: nothing changes.
	if _, changed, err := reader.Act(ctx, "care", "r5", DeskEvent{ID: "c-cora", Action: ActClaim, Actor: "cora", At: time.Now().UTC().Truncate(time.Second)}, true); err != nil || changed {
		t.Errorf("the takeover retried: changed=%v err=%v", changed, err)
	}
}
