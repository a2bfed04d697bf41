package notify

import (
	"strings"
	"testing"
)

// ValidateShape, which every process runs, reads no secret: a channel
// whose variable is unset (or whose file is missing) passes it, and
// Validate, which the sending process runs, refuses it naming the
// variable or file. A secret named two ways, or a variable's name that is
// no name, is refused by both.
func TestValidateShapeReadsNoSecret(t *testing.T) {
	unset := func(string) string { return "" }
	missing := t.TempDir() + "/none"
	for name, ch := range map[string]Channel{
		"slack url_env":     {Kind: Slack, URLEnv: "EARSHOT_UNSET", Queues: []string{"q"}},
		"teams url_file":    {Kind: Teams, URLFile: missing, Queues: []string{"q"}},
		"slack token_env":   {Kind: Slack, TokenEnv: "EARSHOT_UNSET", SlackChannel: "C0123ABCD", Queues: []string{"q"}},
		"pagerduty key":     {Kind: PagerDuty, RoutingKeyEnv: "EARSHOT_UNSET", Queues: []string{"q"}},
		"opsgenie key file": {Kind: Opsgenie, APIKeyFile: missing, Queues: []string{"q"}},
		"smtp password, ca": {Kind: Email, From: "a@example.com", To: []string{"b@example.com"}, SMTP: SMTPConfig{Host: "smtp.example.com", Username: "u", PasswordEnv: "EARSHOT_UNSET", CAFile: missing}, Queues: []string{"q"}},
	} {
		c := Config{Channels: map[string]Channel{"x": ch}}
		if err := c.ValidateShape(); err != nil {
			t.Errorf("%s: ValidateShape = %v, want nil (no secret read)", name, err)
		}
		err := c.Validate(unset)
		if err == nil || !(strings.Contains(err.Error(), "EARSHOT_UNSET") || strings.Contains(err.Error(), missing)) {
			t.Errorf("%s: Validate = %v, want an error naming the variable or file", name, err)
		}
	}
	for name, ch := range map[string]Channel{
		"two ways":     {Kind: PagerDuty, RoutingKeyEnv: "K", RoutingKeyFile: missing, Queues: []string{"q"}},
		"none":         {Kind: Opsgenie, Queues: []string{"q"}},
		"bad env name": {Kind: Slack, URLEnv: "SLACK URL=x", Queues: []string{"q"}},
		"inline url":   {Kind: Teams, URL: "https://example.webhook.office.com/x", Queues: []string{"q"}},
	} {
		c := Config{Channels: map[string]Channel{"x": ch}}
		if err := c.ValidateShape(); err == nil {
			t.Errorf("%s: ValidateShape passed", name)
		}
	}
}
