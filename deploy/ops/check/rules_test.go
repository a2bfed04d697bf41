package check

import (
	"log/slog"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// TestRulesParse: the shipped alert rules are a rule file Prometheus loads:
// every expression parses as PromQL and every annotation as a template
// (what `promtool check rules` checks, with Prometheus' own code).
func TestRulesParse(t *testing.T) {
	groups, errs := rulefmt.ParseFile(chartDir+"/rules/earshot.rules.yaml", false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Error(err)
	}
	n := 0
	for _, g := range groups.Groups {
		n += len(g.Rules)
	}
	if len(errs) == 0 && n < 5 {
		t.Errorf("%d rules", n)
	}
}
