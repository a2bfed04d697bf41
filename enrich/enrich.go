// Package enrich tags matched posts with language, sentiment, country and
// region.
package enrich

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/earshot-dev/earshot/post"
)

// Config tunes enrichment.
type Config struct {
	// Regions overrides the default country-to-region mapping: region name
	// to ISO 3166-1 alpha-2 codes. Countries not listed keep their default.
	Regions map[string][]string `yaml:"regions"`
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
	return errors.Join(errs...)
}

// Enricher tags posts. It is immutable and safe for concurrent use.
type Enricher struct {
	regions map[string]string
}

// New returns an enricher for cfg.
func New(cfg Config) *Enricher {
	e := &Enricher{regions: map[string]string{}}
	for r, codes := range defaultRegions {
		for _, c := range strings.Fields(codes) {
			e.regions[c] = r
		}
	}
	for r, codes := range cfg.Regions {
		for _, c := range codes {
			e.regions[c] = r
		}
	}
	return e
}

// Enrich returns the tags for p.
func (e *Enricher) Enrich(p *post.Post) *post.Enrichment {
	en := &post.Enrichment{Lang: p.Lang, Region: "unknown"}
	if en.Lang == "" {
		en.Lang = "und"
	}
	en.Sentiment = sentiment(p.Text)
	en.SentimentLabel = label(en.Sentiment)
	switch {
	case p.Geo != nil && p.Geo.Country != "":
		en.Country = p.Geo.Country
	case p.Country != "":
		en.Country = p.Country
	default:
		en.Country = countryOf(p.Author.Location)
	}
	en.Country = strings.ToUpper(en.Country)
	if r, ok := e.regions[en.Country]; ok {
		en.Region = r
	}
	return en
}

// Stage returns the enrich stage.
func (e *Enricher) Stage() func(context.Context, post.Batch) (post.Batch, error) {
	return func(_ context.Context, in post.Batch) (post.Batch, error) {
		for _, it := range in.Items {
			it.Enrichment = e.Enrich(it.Post)
		}
		return post.Batch{Items: in.Items}, nil
	}
}
