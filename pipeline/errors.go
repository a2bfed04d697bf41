package pipeline

import (
	"errors"

	"github.com/earshot-dev/earshot/strictyaml"
)

// ErrConfig is what every configuration problem is (errors.Is): a file
// that does not load or validate, a watchlist, policy or organisation it
// names that does not, or settings that do not go together (one stage in
// embedded mode). The CLI exits 2 on it; anything else that stops a
// process is a failure (exit 1).
var ErrConfig = errors.New("configuration error")

// configError marks err as a configuration problem without changing its
// message.
type configError struct{ err error }

func (e configError) Error() string        { return e.err.Error() }
func (e configError) Unwrap() error        { return e.err }
func (e configError) Is(target error) bool { return target == ErrConfig }

// ConfigError marks err as a configuration problem (errors.Is(err,
// ErrConfig)); nil stays nil.
func ConfigError(err error) error {
	if err == nil || errors.Is(err, ErrConfig) {
		return err
	}
	return configError{err}
}

// Classify marks the errors of loading a file the configuration or the
// command line names (a policy, an organisation, watchlists:
// strictyaml.ErrInvalid) as configuration problems; other errors (Kafka
// unreachable, a refused password) are left as they are.
func Classify(err error) error {
	if errors.Is(err, strictyaml.ErrInvalid) {
		return ConfigError(err)
	}
	return err
}
