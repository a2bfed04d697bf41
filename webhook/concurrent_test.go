package webhook

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream/stagetest"
)

// TestStageSharedBatches: delivery keeps stream.Stage's contract (issue
// 16, 15): four workers at once over one batch, no item modified.
func TestStageSharedBatches(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	var in post.Batch
	for i := range 50 {
		in.Items = append(in.Items, alert(strconv.Itoa(i)))
	}
	in.Items = append(in.Items, &post.Item{Post: &post.Post{Platform: "t", ID: "no-alert"}})
	stagetest.Concurrent(t, sender(srv.URL, 2).Stage(), in, 4, 3)
}
