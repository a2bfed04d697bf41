package notify

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a goroutine outlives them: every
// goroutine is owned and stopped on cancel.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
