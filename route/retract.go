package route

import (
	"container/list"
	"sync"

	"github.com/earshot-dev/earshot/post"
)

// recentCapacity bounds the alerts a route process remembers for
// retraction, and the incidents' posts (members) besides. Measured with
// Bluesky's 80-byte post keys (BenchmarkRecentAtLimits): about 355 bytes
// an alert with one copy (the key, two hex ids, the list element, the map
// entry), so 200,000 hold 71 MB; 200,000 incident posts of 50,000
// incidents 84 MB; both at once, the most, 118 MB. Longer keys cost more.
const recentCapacity = 200_000

// recent remembers the latest alerts by post key, least recently raised
// forgotten first, so that a delete or an edit that no longer matches can
// retract the alert its post raised. Posts are partitioned by key, so the
// change reaches the route process that raised the alert.
//
// An incident alert (a near-duplicate cluster or a story) stands for many
// posts: recent keeps, per incident, which of its posts are live, and a
// delete retracts the incident only when no post behind it is left.
type recent struct {
	mu    sync.Mutex
	cap   int
	order *list.List // of *raised, oldest first
	byKey map[string]*list.Element
	// incidents by alert id, least recently grown first; members counts
	// the post keys they hold, bounded by cap like the alerts.
	incidents     map[string]*incident
	incidentOrder *list.List // of alert ids
	members       int
}

type raised struct {
	key, id, queue, priority string
	source                   string    // post.Post.Source: only it may retract the alert
	copies                   []copyRef // stakeholder copies and escalations raised with it
	incident                 bool      // the post is one of incident id's: see incident
}

// incident is what a route process knows of the posts behind one incident
// alert. It retracts the alert only when it knows every post: none of the
// posts it counted is live, it counted them all (its members did not
// overflow), and nobody counted more (size: the incident's size as told in
// its alerts, which takes in the enrichment's count of the cluster, so that
// copies this process never saw — before a restart, on another route
// process's partitions — keep it open).
type incident struct {
	e               *list.Element
	members         map[string]bool // post key → live
	live, size      int
	overflow        bool
	queue, priority string    // of the latest alert raised
	copies          []copyRef // of the latest alert raised
}

// maxIncidentMembers bounds the posts remembered per incident; an incident
// with more is never retracted by deletes.
const maxIncidentMembers = 10_000

// incidentsCapacity bounds the incidents remembered; the least recently
// grown is forgotten first, and its posts' deletes no longer retract it.
const incidentsCapacity = 50_000

// member says which incident alert a post belongs to: its id, and the
// incident's size as the alert tells it.
type member struct {
	id   string
	size int
}

type copyRef struct{ id, queue string }

func newRecent(capacity int) *recent {
	return &recent{cap: capacity, order: list.New(), byKey: map[string]*list.Element{},
		incidents: map[string]*incident{}, incidentOrder: list.New()}
}

// putMember records that post key (from source) is a live post of incident
// m, and, when the post raised or updated the incident's alert a (with its
// copies), that alert's queue and priority for the retraction.
//
// A post that was one of another incident's (an edit moved it) leaves that
// one, and putMember returns that incident's alert when it is to be
// retracted: no post behind it is left.
func (r *recent) putMember(key, source string, m member, a *post.Alert, copies []copyRef) (gone *raised) {
	r.mu.Lock()
	defer r.mu.Unlock()
	inc := r.incidents[m.id]
	if inc == nil {
		inc = &incident{e: r.incidentOrder.PushBack(m.id), members: map[string]bool{}}
		r.incidents[m.id] = inc
	}
	r.incidentOrder.MoveToBack(inc.e)
	inc.size = max(inc.size, m.size)
	switch live, known := inc.members[key]; {
	case known && !live: // redelivered after its delete: live again
		inc.members[key] = true
		inc.live++
	case known:
	case len(inc.members) < maxIncidentMembers:
		inc.members[key] = true
		inc.live++
		r.members++
	default:
		inc.overflow = true
	}
	if a != nil {
		inc.queue, inc.priority, inc.copies = a.Queue, a.Priority, copies
	}
	for (r.members > r.cap || len(r.incidents) > incidentsCapacity) && r.incidentOrder.Front() != inc.e {
		id := r.incidentOrder.Remove(r.incidentOrder.Front()).(string)
		r.members -= len(r.incidents[id].members)
		delete(r.incidents, id)
	}
	gone = r.replace(key, m.id)
	e := r.order.PushBack(&raised{key: key, id: m.id, source: source, incident: true})
	r.byKey[key] = e
	for r.order.Len() > r.cap {
		r.remove(r.order.Front())
	}
	return gone
}

// put remembers the alert id that post key raised (not an incident's), and
// returns the incident the post leaves, when it is to be retracted (see
// putMember).
func (r *recent) put(key, source, id, queue, priority string, copies ...copyRef) (gone *raised) {
	r.mu.Lock()
	defer r.mu.Unlock()
	gone = r.replace(key, id)
	e := r.order.PushBack(&raised{key: key, id: id, queue: queue, priority: priority, source: source, copies: copies})
	r.byKey[key] = e
	for r.order.Len() > r.cap {
		r.remove(r.order.Front())
	}
	return gone
}

// replace forgets what post key raised before it raises alert id, and
// returns the incident it leaves when that is to be retracted.
func (r *recent) replace(key, id string) *raised {
	e, ok := r.byKey[key]
	if !ok {
		return nil
	}
	r.remove(e)
	if v := e.Value.(*raised); v.incident && v.id != id {
		return r.leave(v)
	}
	return nil
}

func (r *recent) remove(e *list.Element) {
	old := r.order.Remove(e).(*raised)
	delete(r.byKey, old.key)
}

// take returns and forgets the alert raised for key, when source is the
// source of the post that raised it; another source gets the origin, and
// the alert stays: one ingest tenant does not retract another's alerts.
// A post of an incident is no longer live; the incident's alert is
// returned only when no post behind it is left (see incident).
func (r *recent) take(key, source string) (v *raised, ok bool, origin string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.byKey[key]
	if !ok {
		return nil, false, ""
	}
	v = e.Value.(*raised)
	if !post.SameSource(v.source, source) {
		return nil, false, v.source
	}
	r.remove(e)
	if !v.incident {
		return v, true, ""
	}
	if v = r.leave(v); v == nil {
		return nil, false, ""
	}
	return v, true, ""
}

// leave marks post v no longer live in its incident, and returns the
// incident's alert when it is to be retracted: no post behind it is left.
func (r *recent) leave(v *raised) *raised {
	inc := r.incidents[v.id]
	if inc == nil { // forgotten: its other posts may be live
		return nil
	}
	if inc.members[v.key] {
		inc.members[v.key] = false
		inc.live--
	}
	if inc.live > 0 || inc.overflow || len(inc.members) < inc.size || inc.queue == "" {
		return nil
	}
	return &raised{key: v.key, id: v.id, queue: inc.queue, priority: inc.priority, source: v.source, copies: inc.copies}
}
