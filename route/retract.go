package route

import (
	"container/list"
	"sync"
)

// recentCapacity bounds the alerts a route process remembers for
// retraction: about 100 bytes each, so 200,000 are some 20 MB.
const recentCapacity = 200_000

// recent remembers the latest alerts by post key, least recently raised
// forgotten first, so that a delete or an edit that no longer matches can
// retract the alert its post raised. Posts are partitioned by key, so the
// change reaches the route process that raised the alert.
type recent struct {
	mu    sync.Mutex
	cap   int
	order *list.List // of *raised, oldest first
	byKey map[string]*list.Element
	byID  map[string]*list.Element
}

type raised struct {
	key, id, queue, priority string
	source                   string    // post.Post.Source: only it may retract the alert
	copies                   []copyRef // stakeholder copies and escalations raised with it
}

type copyRef struct{ id, queue string }

func newRecent(capacity int) *recent {
	return &recent{cap: capacity, order: list.New(), byKey: map[string]*list.Element{}, byID: map[string]*list.Element{}}
}

func (r *recent) put(key, source, id, queue, priority string, copies ...copyRef) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.byKey[key]; ok {
		r.remove(e)
	}
	e := r.order.PushBack(&raised{key: key, id: id, queue: queue, priority: priority, source: source, copies: copies})
	r.byKey[key], r.byID[id] = e, e
	for r.order.Len() > r.cap {
		r.remove(r.order.Front())
	}
}

func (r *recent) remove(e *list.Element) {
	old := r.order.Remove(e).(*raised)
	delete(r.byKey, old.key)
	if r.byID[old.id] == e {
		delete(r.byID, old.id)
	}
}

// forgetID forgets the post that raised alert id: the alert now stands for
// more than that post.
func (r *recent) forgetID(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.byID[id]; ok {
		r.remove(e)
	}
}

// take returns and forgets the alert raised for key, when source is the
// source of the post that raised it; another source gets the origin, and
// the alert stays: one ingest tenant does not retract another's alerts.
func (r *recent) take(key, source string) (v *raised, ok bool, origin string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.byKey[key]
	if !ok {
		return nil, false, ""
	}
	v = e.Value.(*raised)
	if v.source != source {
		return nil, false, v.source
	}
	r.remove(e)
	return v, true, ""
}
