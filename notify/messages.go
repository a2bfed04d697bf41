package notify

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"golang.org/x/net/idna"

	"github.com/earshot-dev/earshot/internal/textcut"
	"github.com/earshot-dev/earshot/post"
)

// Channel limits on text, in characters. Slack refuses a section's text
// over 3000 characters and a header over 150; PagerDuty truncates a summary
// at 1024; Teams refuses a message over about 28 KB, so an excerpt stays well
// under it; Alertmanager has no limit, but annotations are kept in memory.
const (
	slackTextMax   = 3000
	slackHeaderMax = 150
	slackFieldMax  = 2000
	teamsTextMax   = 4000
	pdSummaryMax   = 1024
	amTextMax      = 4000
	excerptMax     = 1500 // the post excerpt shown in a message
	postURLMax     = 2000 // the post URL, before its invisible characters are encoded
	authorMax      = 100  // the author's handle (the digests cut it there too)
	platformMax    = 50   // the platform's name
)

// truncate cuts s to at most n characters (runes), ending with "…" when
// it cut, at a grapheme cluster boundary: textcut.Chars, the cut the
// digests and the API make too.
func truncate(s string, n int) string { return textcut.Chars(s, n) }

// slackCut is truncate to n for a Slack text limit, counted in UTF-16
// code units as well as in characters: an emoji outside the BMP is one
// character but two units, and whichever way Slack counts its 3,000, a
// post of 1,500 emoji must not make the message invalid_blocks.
func slackCut(s string, n int) string {
	s = truncate(s, n)
	if utf16Len(s) <= n {
		return s
	}
	units := 0
	for i, r := range s {
		w := 1
		if r > 0xFFFF { // a surrogate pair
			w = 2
		}
		if units+w > n-1 { // room for the "…"
			return s[:textcut.Boundary(s, i)] + "…"
		}
		units += w
	}
	return s
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r > 0xFFFF { // a surrogate pair
			n++
		}
	}
	return n
}

// slackEscape makes untrusted text inert in Slack mrkdwn: the three
// control characters become entities (so "<!channel>", "<@U1>" and
// "<https://x|y>" are shown, not parsed), and the bare broadcast words
// "@channel", "@here" and "@everyone" get a word joiner after the "@" so
// that no setting of the receiving app turns them into a ping.
func slackEscape(s string) string {
	return breakBroadcasts(slackEntities.Replace(s))
}

// Replacers are built once: building one costs more than using it.
var (
	slackEntities = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	// bidiMarks shows each bidi embedding, override or isolate as a
	// visible mark, as the desk page does (dashboard/static/inert.js).
	bidiMarks = strings.NewReplacer("\u202a", "[U+202A]", "\u202b", "[U+202B]", "\u202c", "[U+202C]", "\u202d", "[U+202D]", "\u202e", "[U+202E]",
		"\u2066", "[U+2066]", "\u2067", "[U+2067]", "\u2068", "[U+2068]", "\u2069", "[U+2069]")
	markdownChars = strings.NewReplacer(`\`, `\\`, "[", `\[`, "]", `\]`, "(", `\(`, ")", `\)`, "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", ">", "&gt;", "#", `\#`)
)

var broadcastWords = []string{"channel", "here", "everyone"}

// breakBroadcasts inserts U+2060 (word joiner, invisible) after an "@" that
// starts a broadcast word, in any case.
func breakBroadcasts(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] != '@' {
			continue
		}
		rest := strings.ToLower(s[i+1 : min(len(s), i+1+len("everyone"))])
		for _, w := range broadcastWords {
			if strings.HasPrefix(rest, w) {
				b.WriteString("\u2060")
				break
			}
		}
	}
	return b.String()
}

// markBidi shows each bidi control of untrusted text (U+202A–U+202E,
// U+2066–U+2069) as a visible mark ("[U+202E]"): a post from a platform may
// carry them, and in a message they would reorder what the reader sees
// after them ("refund \u202edenied" reads "refund deined"). Right-to-left
// text and the marks U+200E/U+200F stay. What is stored is not changed.
func markBidi(s string) string {
	return bidiMarks.Replace(s)
}

// inertURL percent-encodes every character of a post URL that would not
// show as itself: controls, format characters (bidi controls, zero-width
// characters, U+2060…), white space and line or paragraph separators, and
// invalid UTF-8. "https://x.com/a/\u202egnp.exe" would read as ending in
// "exe.png"; encoded, what the reader sees is where the link goes, and a
// browser requests the same path, as it encodes them itself. (Such a
// character in the host makes the link fail to resolve, which is what a
// browser does with it too.)
func inertURL(s string) string {
	if !strings.ContainsFunc(s, invisible) && utf8.ValidString(s) {
		return s
	}
	return percentEncode(s, invisible)
}

// percentEncode percent-encodes the bytes of each rune of s that encode
// reports, and of invalid UTF-8.
func percentEncode(s string, encode func(rune) bool) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n <= 1) || encode(r) {
			for _, c := range []byte(s[i : i+n]) {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// asciiHost shows the host of URL s in ASCII, as IDNA's lookup form
// ("https://\u0430pple.com/" becomes "https://xn--pple-43d.com/"), the host a
// browser goes to: a Unicode host may look like another, and the message
// has no confusables table to tell one that does (as a browser, which
// shows such a host in punycode too). A host IDNA refuses is
// percent-encoded: the link then reads, and fails, as a browser's would.
// The rest of s is kept as it is.
func asciiHost(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	start := i + len("://")
	end := len(s)
	if j := strings.IndexAny(s[start:], "/?#"); j >= 0 {
		end = start + j
	}
	if k := strings.LastIndexByte(s[start:end], '@'); k >= 0 {
		start += k + 1 // after the user info
	}
	if k := strings.LastIndexByte(s[start:end], ':'); k >= 0 {
		end = start + k // before the port
	}
	host := s[start:end]
	if !strings.ContainsFunc(host, func(r rune) bool { return r >= utf8.RuneSelf }) {
		return s
	}
	ascii, err := idna.Lookup.ToASCII(host)
	if err != nil {
		ascii = percentEncode(host, func(r rune) bool { return r >= utf8.RuneSelf })
	}
	return s[:start] + ascii + s[end:]
}

// invisible reports a rune that does not show as itself in a link.
func invisible(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r)
}

// markdownEscape makes untrusted text inert in the Markdown subset of an
// Adaptive Card TextBlock: link and emphasis syntax is backslash-escaped,
// and a word joiner (invisible) goes between two "{", as a TextBlock
// evaluates {{DATE(…)}} and {{TIME(…)}}: a post would show a localised
// date it did not write.
func markdownEscape(s string) string {
	s = markdownChars.Replace(s)
	// Two passes: the first leaves a "{{" where two replaced pairs meet
	// ("{{{{" becomes "{⁠{{⁠{").
	for range 2 {
		s = strings.ReplaceAll(s, "{{", "{\u2060{")
	}
	return s
}

// view is what every message says about an alert, as plain text.
type view struct {
	ID, Queue, Priority, Team, Rule string
	Excerpt                         string // the post text (redacted when redaction is on), untrusted
	Author, Platform, PostURL       string
	Why                             string // the watchlists and terms that matched, untrusted
	Desk                            string // the desk URL of the alert
	Created                         time.Time
	Retracted                       bool   // retracted, or resolved on the desk: the message closes the alert
	Closed                          string // why, in a sentence, when Retracted
	Resolved                        bool   // resolved on the desk (not by the platform)
	Unstaffed                       bool
}

func viewOf(it *post.Item, deskBase string) view {
	a := it.Alert
	v := view{ID: a.ID, Queue: a.Queue, Priority: a.Priority, Team: a.Team, Rule: a.Rule, Created: a.CreatedAt, Retracted: a.Retracted, Unstaffed: a.Unstaffed}
	switch {
	case a.Resolved != nil:
		v.Retracted, v.Resolved = true, true
		v.Closed = "Resolved on the desk by " + oneLine(markBidi(truncate(a.Resolved.By, 200)))
		if a.Resolved.Outcome != "" {
			v.Closed += " (" + oneLine(markBidi(truncate(a.Resolved.Outcome, 50))) + ")"
		}
		v.Closed += "."
	case a.Retracted:
		v.Closed = "The post was deleted or no longer matches; the alert is closed."
	}
	if p := it.Post; p != nil {
		v.Excerpt = p.Text
		if it.Enrichment != nil && it.Enrichment.RedactedText != "" {
			v.Excerpt = it.Enrichment.RedactedText
		}
		// One line each: a handle is untrusted (a pushed post, an RSS author)
		// and a line break in it would forge a field of the message.
		// Cut first: a pushed post's handle may be 1 MiB, and a platform
		// name is the pusher's to choose.
		v.Author, v.Platform = oneLine(markBidi(truncate(p.Author.Handle, authorMax))), oneLine(markBidi(truncate(p.Platform, platformMax)))
		if len(p.URLs) > 0 {
			v.PostURL = asciiHost(inertURL(truncate(p.URLs[0], postURLMax)))
		}
	}
	if a.Spike != nil {
		v.Why = "volume spike: " + a.Spike.Why
	} else {
		var parts []string
		for _, m := range it.Matches {
			parts = append(parts, m.Watchlist+" ("+strings.Join(m.Keywords, ", ")+")")
		}
		v.Why = strings.Join(parts, "; ")
		if a.Rule != "" {
			v.Why = "rule " + a.Rule + ": " + v.Why
		}
	}
	// Cut first (a 1 MiB post costs as a short one), mark, cut again: the
	// marks lengthen the text.
	v.Excerpt = truncate(markBidi(truncate(v.Excerpt, excerptMax)), excerptMax)
	v.Why = truncate(markBidi(truncate(v.Why, 500)), 500)
	if deskBase != "" { // Slack and Teams refuse a relative link: without desk_url there is none
		v.Desk = DeskURL(deskBase, a.ID)
	}
	return v
}

// DeskURL is the link to an alert in the built-in responder page.
func DeskURL(base, id string) string {
	return strings.TrimRight(base, "/") + "/ui/desk?alert=" + url.QueryEscape(id)
}

func (v view) title() string {
	if v.Resolved {
		return fmt.Sprintf("Resolved: %s alert in %s", v.Priority, v.Queue)
	}
	if v.Retracted {
		return fmt.Sprintf("Retracted: %s alert in %s", v.Priority, v.Queue)
	}
	s := fmt.Sprintf("%s alert in %s", v.Priority, v.Queue)
	if v.Unstaffed {
		s += " (nobody on duty)"
	}
	return s
}

// slackAlert is an incoming-webhook message in Block Kit.
func slackAlert(v view) ([]byte, error) {
	text, blocks := slackBlocks(v)
	return json.Marshal(slack.WebhookMessage{Text: text, Blocks: &slack.Blocks{BlockSet: blocks}})
}

// slackBlocks is the Block Kit message of v and its fallback text.
func slackBlocks(v view) (string, []slack.Block) {
	pt := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	md := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, s, false, true)
	}
	fields := []*slack.TextBlockObject{
		md("*Priority*\n" + slackEscape(v.Priority)),
		md("*Queue*\n" + slackEscape(v.Queue)),
	}
	if v.Team != "" {
		fields = append(fields, md("*Team*\n"+slackEscape(truncate(v.Team, 200))))
	}
	if v.Author != "" {
		fields = append(fields, md("*Author*\n"+slackEscape(truncate(v.Platform+" @"+v.Author, 200))))
	}
	blocks := []slack.Block{
		slack.NewHeaderBlock(pt(truncate(v.title(), slackHeaderMax))),
		slack.NewSectionBlock(nil, fields, nil),
	}
	if v.Retracted {
		blocks = append(blocks, slack.NewSectionBlock(md(slackEscape(v.Closed)), nil, nil))
	} else {
		if v.Excerpt != "" {
			blocks = append(blocks, slack.NewSectionBlock(md(slackCut(quote(slackEscape(v.Excerpt)), slackTextMax)), nil, nil))
		}
		if v.Why != "" {
			blocks = append(blocks, slack.NewContextBlock("", md(slackCut("Why: "+slackEscape(v.Why), slackTextMax))))
		}
	}
	if v.Desk != "" {
		blocks = append(blocks, slack.NewActionBlock("", slack.NewButtonBlockElement("open_desk", truncate(v.ID, 2000), pt("Open in desk")).WithURL(v.Desk)))
	}
	return slackEscape(truncate(v.title(), slackFieldMax)), blocks
}

// quote prefixes every line with "> ", Slack's block quote.
func quote(s string) string { return "&gt; " + strings.ReplaceAll(s, "\n", "\n&gt; ") }

func slackText(text string) ([]byte, error) {
	fallback, blocks := slackTextBlocks(text)
	return json.Marshal(slack.WebhookMessage{Text: fallback, Blocks: &slack.Blocks{BlockSet: blocks}})
}

func slackTextBlocks(text string) (string, []slack.Block) {
	md := slack.NewTextBlockObject(slack.MarkdownType, slackCut(slackEscape(text), slackTextMax), false, true)
	return truncate(slackEscape(text), slackFieldMax), []slack.Block{slack.NewSectionBlock(md, nil, nil)}
}

// teamsCard wraps an Adaptive Card (schema 1.4, which Teams renders) in the
// message a Workflows or incoming webhook accepts.
func teamsCard(body []map[string]any, actions []map[string]any) ([]byte, error) {
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body":    body,
	}
	if len(actions) > 0 {
		card["actions"] = actions
	}
	return json.Marshal(map[string]any{
		"type": "message",
		"attachments": []map[string]any{{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content":     card,
		}},
	})
}

func textBlock(s string, extra map[string]any) map[string]any {
	b := map[string]any{"type": "TextBlock", "text": s, "wrap": true}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func teamsAlert(v view) ([]byte, error) {
	facts := []map[string]any{{"title": "Priority", "value": markdownEscape(v.Priority)}, {"title": "Queue", "value": markdownEscape(v.Queue)}}
	if v.Team != "" {
		facts = append(facts, map[string]any{"title": "Team", "value": markdownEscape(truncate(v.Team, 200))})
	}
	if v.Author != "" {
		facts = append(facts, map[string]any{"title": "Author", "value": markdownEscape(truncate(v.Platform+" @"+v.Author, 200))})
	}
	body := []map[string]any{
		textBlock(markdownEscape(v.title()), map[string]any{"size": "Large", "weight": "Bolder"}),
		{"type": "FactSet", "facts": facts},
	}
	if v.Retracted {
		body = append(body, textBlock(markdownEscape(v.Closed), nil))
	} else {
		if v.Excerpt != "" {
			body = append(body, textBlock(truncate(markdownEscape(v.Excerpt), teamsTextMax), nil))
		}
		if v.Why != "" {
			body = append(body, textBlock(truncate("Why: "+markdownEscape(v.Why), teamsTextMax), map[string]any{"isSubtle": true, "size": "Small"}))
		}
	}
	var actions []map[string]any
	if v.Desk != "" {
		actions = append(actions, map[string]any{"type": "Action.OpenUrl", "title": "Open in desk", "url": v.Desk})
	}
	return teamsCard(body, actions)
}

func teamsText(text string) ([]byte, error) {
	return teamsCard([]map[string]any{textBlock(truncate(markdownEscape(text), teamsTextMax), nil)}, nil)
}

// pdSeverity maps a priority to a PagerDuty Events v2 severity.
func pdSeverity(p string) string {
	switch p {
	case "P1":
		return "critical"
	case "P2":
		return "error"
	case "P3":
		return "warning"
	}
	return "info"
}

// pagerdutyEvent is a PagerDuty Events API v2 event: a trigger, or, for a
// retraction, a resolve of the incident with the same dedup_key (the alert id).
func pagerdutyEvent(v view, routingKey string) ([]byte, error) {
	if v.Retracted {
		return json.Marshal(map[string]any{"routing_key": routingKey, "event_action": "resolve", "dedup_key": v.ID})
	}
	summary := v.title()
	if v.Excerpt != "" {
		summary += ": " + v.Excerpt
	}
	ts := v.Created
	if ts.IsZero() {
		ts = time.Now()
	}
	details := map[string]any{"alert_id": v.ID, "queue": v.Queue, "priority": v.Priority, "why": v.Why, "excerpt": v.Excerpt}
	if v.PostURL != "" {
		details["post_url"] = v.PostURL
	}
	ev := map[string]any{
		"routing_key":  routingKey,
		"event_action": "trigger",
		"dedup_key":    v.ID,
		"client":       "earshot",
		"payload": map[string]any{
			"summary":        truncate(summary, pdSummaryMax),
			"source":         "earshot",
			"severity":       pdSeverity(v.Priority),
			"timestamp":      ts.UTC().Format(time.RFC3339),
			"component":      v.Queue,
			"group":          v.Team,
			"class":          v.Rule,
			"custom_details": details,
		},
	}
	if v.Desk != "" {
		ev["client_url"] = v.Desk
		ev["links"] = []map[string]any{{"href": v.Desk, "text": "Open in earshot desk"}}
	}
	return json.Marshal(ev)
}

func pagerdutyText(text, dedup, severity, routingKey string, now time.Time) ([]byte, error) {
	return json.Marshal(map[string]any{
		"routing_key": routingKey, "event_action": "trigger", "dedup_key": dedup,
		"payload": map[string]any{"summary": truncate(text, pdSummaryMax), "source": "earshot", "severity": severity, "timestamp": now.UTC().Format(time.RFC3339)},
	})
}

// alertmanagerAlerts is the body of a POST to Alertmanager's
// /api/v2/alerts: one alert, labelled by queue, priority and alert id; a
// retraction sends it again with endsAt, which resolves it.
func alertmanagerAlerts(v view, now time.Time) ([]byte, error) {
	start := v.Created
	if start.IsZero() || start.After(now) {
		// Alertmanager ends an alert without endsAt at now + resolve_timeout,
		// and refuses one that would end before it starts (a post dated ahead).
		start = now
	}
	labels := map[string]string{"alertname": "EarshotAlert", "queue": v.Queue, "priority": v.Priority, "alert_id": v.ID, "severity": pdSeverity(v.Priority)}
	if v.Team != "" {
		labels["team"] = v.Team
	}
	ann := map[string]string{
		"summary":     truncate(v.title(), 200),
		"description": truncate(v.Excerpt, amTextMax),
		"why":         v.Why,
	}
	a := map[string]any{"labels": labels, "annotations": ann, "startsAt": start.UTC().Format(time.RFC3339Nano)}
	if v.Desk != "" {
		ann["desk_url"] = v.Desk
		a["generatorURL"] = v.Desk
	}
	if v.Retracted {
		// Alertmanager refuses an end before the start (a post dated ahead).
		a["endsAt"] = now.UTC().Format(time.RFC3339Nano)
	}
	return json.Marshal([]any{a})
}

func alertmanagerText(text, channel string, now time.Time) ([]byte, error) {
	return json.Marshal([]any{map[string]any{
		"labels":      map[string]string{"alertname": "EarshotDigest", "channel": channel},
		"annotations": map[string]string{"summary": truncate(text, amTextMax)},
		"startsAt":    now.UTC().Format(time.RFC3339Nano),
		"endsAt":      now.Add(time.Minute).UTC().Format(time.RFC3339Nano),
	}})
}
