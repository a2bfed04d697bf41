package pipeline

import (
	"context"
	"errors"
	"testing"

	"github.com/earshot-dev/earshot/api"
	"github.com/earshot-dev/earshot/search"
)

// Search without an open index is 503 not_configured, as documented, not a
// 500.
func TestLazySearcherNotConfigured(t *testing.T) {
	_, err := lazySearcher(func() *search.Index { return nil }).Search(context.Background(), search.Query{})
	var e *api.Error
	if !errors.As(err, &e) || e.Status != 503 || e.Code != api.CodeNotConfigured {
		t.Errorf("Search with no index = %v, want a 503 not_configured", err)
	}
}
