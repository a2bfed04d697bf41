package enrich

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config tunes enrichment. Zero fields take the defaults below.
type Config struct {
	// Regions overrides the default country-to-region mapping: region name
	// to ISO 3166-1 alpha-2 codes. Countries not listed keep their default.
	Regions map[string][]string `yaml:"regions"`
	// Markets maps a country code to the organisation's market (the
	// markets of org.yaml, region.MarketMap); the pipeline sets it from
	// route.org. A post whose country is in no market has no market.
	Markets map[string]string `yaml:"-"`
	// LangMinConfidence is the detector's confidence below which a post's
	// language is "und" (default 0.5).
	LangMinConfidence float64 `yaml:"lang_min_confidence"`
	// RedactPII copies the text with e-mail addresses and phone numbers
	// masked into the enrichment's redacted_text (default off).
	RedactPII bool `yaml:"redact_pii"`
	// ClusterWindow is how long a near-duplicate cluster stays open after
	// its last post (default 30m).
	ClusterWindow Duration `yaml:"cluster_window"`
	// ClusterCapacity bounds the clusters remembered at once (default 200000);
	// the oldest are forgotten first.
	ClusterCapacity int `yaml:"cluster_capacity"`
	// Clustering is "on" (the default) or "off". Clusters are formed online,
	// in the order posts arrive, so which post starts a cluster (and names
	// it, with its words and window of post time), and a post's cluster
	// size, can differ between runs over the same posts; "off" makes
	// enrichment a pure function of each post.
	Clustering string `yaml:"clustering"`
}

// Duration is a time.Duration written as "30m" in YAML.
type Duration time.Duration

// Duration returns d as a time.Duration.
func (d Duration) Duration() time.Duration { return time.Duration(d) }

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

const (
	defaultLangMinConfidence = 0.5
	defaultClusterWindow     = 30 * time.Minute
	defaultClusterCapacity   = 200_000
)

func (c Config) withDefaults() Config {
	if c.LangMinConfidence == 0 {
		c.LangMinConfidence = defaultLangMinConfidence
	}
	if c.ClusterWindow == 0 {
		c.ClusterWindow = Duration(defaultClusterWindow)
	}
	if c.ClusterCapacity == 0 {
		c.ClusterCapacity = defaultClusterCapacity
	}
	return c
}

var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	seen := map[string]string{}
	for region, codes := range c.Regions {
		for _, code := range codes {
			if !countryCode.MatchString(code) {
				errs = append(errs, fmt.Errorf("enrich.regions.%s: %q is not an ISO 3166-1 alpha-2 code", region, code))
			}
			if prev, ok := seen[code]; ok && prev != region {
				errs = append(errs, fmt.Errorf("enrich.regions: %s is in both %s and %s", code, prev, region))
			}
			seen[code] = region
		}
	}
	if c.LangMinConfidence < 0 || c.LangMinConfidence > 1 {
		errs = append(errs, fmt.Errorf("enrich.lang_min_confidence: %v is not in [0, 1]", c.LangMinConfidence))
	}
	if c.ClusterWindow < 0 || c.ClusterWindow.Duration() > 30*24*time.Hour {
		errs = append(errs, fmt.Errorf("enrich.cluster_window: %v, want 0 to 720h", c.ClusterWindow.Duration()))
	}
	if c.Clustering != "" && c.Clustering != "on" && c.Clustering != "off" {
		errs = append(errs, fmt.Errorf("enrich.clustering: %q, want on or off", c.Clustering))
	}
	if c.ClusterCapacity < 0 || c.ClusterCapacity > 10_000_000 {
		errs = append(errs, fmt.Errorf("enrich.cluster_capacity: %d, want 0 (the default) to 10000000", c.ClusterCapacity))
	}
	return errors.Join(errs...)
}
