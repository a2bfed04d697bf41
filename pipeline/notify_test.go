package pipeline

import (
	"errors"
	"strings"
	"testing"
)

// earshot notify without a channel has nothing to do: a configuration
// error, as earshot index without search, rather than a process idling.
func TestNotifyAloneWithoutChannelsIsAConfigError(t *testing.T) {
	cfg := Default()
	cfg.Transport.Kind = "kafka"
	_, err := cfg.stagesHere([]string{Notify})
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "notify.channels") {
		t.Errorf("earshot notify with no channels: %v", err)
	}
}
