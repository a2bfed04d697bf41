package sink

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them: every
// goroutine is owned and stopped on cancel.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// bleve (imported by the pipeline integration tests) starts its
		// analysis workers when its package is initialised (a process-wide
		// queue, never stopped): they are not ours.
		goleak.IgnoreTopFunction("github.com/blevesearch/bleve_index_api.AnalysisWorker"))
}
