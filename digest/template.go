package digest

import (
	"html/template"
	"time"
)

// view is what the page template sees.
type view struct {
	R        *Report
	Loc      *time.Location
	ChartSrc template.URL
}

func (v view) Period() string    { return v.R.periodText(v.Loc) }
func (v view) Freshness() string { return v.R.FreshnessText(v.Loc) }
func (v view) Generated() string { return v.R.Generated.In(v.Loc).Format("2 Jan 2006 15:04 MST") }
func (v view) At(t time.Time, layout string) string {
	return t.In(v.Loc).Format(layout)
}

var page = template.Must(template.New("digest").Funcs(template.FuncMap{
	"count":   Count,
	"change":  Change,
	"percent": Percent,
	"num":     num,
	"signed":  func(n int64) string { return signed(n) },
	"net":     func(f float64) string { return fmtNet(f) },
	"every":   every,
}).Parse(pageHTML))

// every names a bucket width: "hour", "day", "week", or the duration.
func every(d time.Duration) string {
	switch d {
	case time.Hour:
		return "hour"
	case 24 * time.Hour:
		return "day"
	case 7 * 24 * time.Hour:
		return "week"
	}
	return d.String()
}

func signed(n int64) string {
	if n > 0 {
		return "+" + Count(n)
	}
	return Count(n)
}

func fmtNet(f float64) string {
	s := num(f)
	if f > 0 {
		return "+" + s
	}
	return s
}

// pageHTML is the digest page: one table-based column with inline styles,
// which email clients (Outlook's Word engine among them) lay out as a
// browser does; the PDF is this page printed.
const pageHTML = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.R.Name}}</title>
<style>
@page { size: A4; margin: 14mm; }
body { margin:0; padding:0; background:#f4f5f7; font-family: Arial, Helvetica, sans-serif; color:#1d2330; }
table.data { border-collapse: collapse; width: 100%; font-size: 13px; }
table.data th { text-align:left; border-bottom:1px solid #c9ced6; padding:4px 6px; font-weight:bold; color:#3c4454; }
table.data td { border-bottom:1px solid #eceef1; padding:4px 6px; vertical-align: top; }
table.data td.n, table.data th.n { text-align:right; white-space:nowrap; }
h2 { font-size:16px; margin:22px 0 8px 0; color:#22366b; }
.muted { color:#5b6475; font-size:12px; }
.post { border-left:3px solid #c9ced6; padding:4px 10px; margin:8px 0; font-size:13px; page-break-inside: avoid; }
.empty { color:#5b6475; font-style: italic; font-size:13px; }
</style></head>
<body>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7"><tr><td align="center" style="padding:16px 8px">
<table role="presentation" width="680" cellpadding="0" cellspacing="0" style="max-width:680px;width:100%;background:#ffffff;border:1px solid #e1e4e8"><tr><td style="padding:20px 24px">
<div class="muted">earshot digest</div>
<h1 style="font-size:22px;margin:4px 0 6px 0" id="digest-name">{{.R.Name}}</h1>
<div style="font-size:14px" id="period">{{.Period}}</div>
<table role="presentation" cellpadding="0" cellspacing="0" style="margin-top:8px;font-size:12px;color:#5b6475">
<tr><td style="padding-right:8px">Scope</td><td id="scope">{{.R.ScopeText}}</td></tr>
<tr><td style="padding-right:8px">Data</td><td id="freshness">{{.Freshness}}</td></tr>
<tr><td style="padding-right:8px">Made</td><td>{{.Generated}}</td></tr>
</table>

{{if eq .R.This.Mentions 0}}<p class="empty" id="no-posts" style="font-size:15px">No posts in this period.</p>{{end}}
<h2>Headline</h2>
<table class="data" id="summary">
<tr><th></th><th class="n">this period</th><th class="n">previous period</th><th class="n">change</th></tr>
<tr><td>mentions</td><td class="n" data-q="digest_summary.mentions">{{count .R.This.Mentions}}</td><td class="n">{{count .R.Prev.Mentions}}</td><td class="n">{{change .R.This.Mentions .R.Prev.Mentions}}</td></tr>
<tr><td>posts</td><td class="n" data-q="digest_summary.posts">{{count .R.This.Posts}}</td><td class="n">{{count .R.Prev.Posts}}</td><td class="n">{{change .R.This.Posts .R.Prev.Posts}}</td></tr>
<tr><td>positive</td><td class="n" data-q="digest_summary.positive">{{count .R.This.Positive}}</td><td class="n">{{count .R.Prev.Positive}}</td><td class="n">{{change .R.This.Positive .R.Prev.Positive}}</td></tr>
<tr><td>neutral</td><td class="n" data-q="digest_summary.neutral">{{count .R.This.Neutral}}</td><td class="n">{{count .R.Prev.Neutral}}</td><td class="n">{{change .R.This.Neutral .R.Prev.Neutral}}</td></tr>
<tr><td>negative</td><td class="n" data-q="digest_summary.negative">{{count .R.This.Negative}}</td><td class="n">{{count .R.Prev.Negative}}</td><td class="n">{{change .R.This.Negative .R.Prev.Negative}}</td></tr>
<tr><td>net sentiment</td><td class="n" data-q="digest_summary.net_sentiment">{{net .R.This.Net}}</td><td class="n">{{net .R.Prev.Net}}</td><td class="n"></td></tr>
</table>

{{if .R.Has "volume"}}
<h2>Volume and sentiment over time</h2>
<img src="{{.ChartSrc}}" width="640" height="240" alt="Mentions per {{every .R.Bucket}} by sentiment, with the previous period as a line" style="display:block;max-width:100%;height:auto;border:0">
<div class="muted">Bars: this period's mentions per {{every .R.Bucket}}, by sentiment. Line: the previous period at the same offset. The numbers are in volume.csv.</div>
{{end}}

{{if .R.Has "terms"}}
<h2>Top terms</h2>
{{if .R.Terms}}<table class="data" id="terms"><tr><th>term</th><th class="n">this period</th><th class="n">previous</th><th class="n">change</th></tr>
{{range .R.Terms}}<tr><td>{{.Term}}</td><td class="n">{{count .This}}</td><td class="n">{{count .Previous}}</td><td class="n">{{signed .Change}}</td></tr>
{{end}}</table>{{else}}<p class="empty">None in this period.</p>{{end}}
<h2>Emerging terms</h2>
{{if .R.Emerging}}<table class="data" id="emerging"><tr><th>term</th><th class="n">this period</th><th class="n">previous</th><th class="n">change</th></tr>
{{range .R.Emerging}}<tr><td>{{.Term}}</td><td class="n">{{count .This}}</td><td class="n">{{count .Previous}}</td><td class="n">{{signed .Change}}</td></tr>
{{end}}</table>{{else}}<p class="empty">No term grew against the previous period.</p>{{end}}
{{end}}

{{if .R.Has "themes"}}
<h2>Themes</h2>
{{if .R.ThemesNote}}<p class="muted">{{.R.ThemesNote}}</p>{{end}}
{{if .R.Themes}}<table class="data" id="themes"><tr><th>theme</th><th class="n">posts</th><th class="n">previous</th><th>representative posts</th></tr>
{{range .R.Themes}}<tr><td>{{.Label}}</td><td class="n">{{count .Size}}</td><td class="n">{{count .Previous}}</td><td>{{range .Posts}}<div>{{.}}</div>{{end}}</td></tr>
{{end}}</table>{{else}}<p class="empty">None in this period.</p>{{end}}
{{end}}

{{if .R.Has "spikes"}}
<h2>Spikes</h2>
{{if .R.Spikes}}<table class="data" id="spikes"><tr><th>hour</th><th>watchlist</th><th class="n">mentions</th><th class="n">× average</th><th>why</th></tr>
{{range .R.Spikes}}<tr><td style="white-space:nowrap">{{$.At .Hour "Mon 2 Jan 15:04"}}</td><td>{{.Watchlist}}</td><td class="n">{{count .Mentions}}</td><td class="n">{{num .Ratio}}</td><td>{{.Why}}</td></tr>
{{end}}</table>{{else}}<p class="empty">No spikes in this period.</p>{{end}}
{{end}}

{{if .R.Has "posts"}}
<h2>Most influential posts</h2>
{{range .R.Posts}}<div class="post"><div class="muted">@<bdi>{{.Author}}</bdi> on {{.Platform}}, {{$.At .Created "Mon 2 Jan 15:04"}} · influence {{num .Influence}} · engagement {{count .Engagement}} · {{.Sentiment}}</div><div dir="auto">{{.Excerpt}}</div></div>
{{else}}<p class="empty">No posts in this period.</p>{{end}}
{{end}}

{{if .R.Has "alerts"}}
<h2>Alerts and SLA</h2>
{{if .R.Alerts}}<table class="data" id="alerts"><tr><th>queue</th><th class="n">alerts</th><th class="n">spikes</th><th class="n">with SLA</th><th class="n">met</th><th class="n">breached</th><th class="n">pending</th><th class="n">compliance</th></tr>
{{range .R.Alerts}}<tr><td>{{.Queue}}</td><td class="n">{{count .Alerts}}</td><td class="n">{{count .Spikes}}</td><td class="n">{{count .WithSLA}}</td><td class="n">{{count .Met}}</td><td class="n">{{count .Breached}}</td><td class="n">{{count .Pending}}</td><td class="n">{{percent .Compliance}}</td></tr>
{{end}}</table>{{else}}<p class="empty">No alerts in this period.</p>{{end}}
{{end}}

<h2>How far to trust this</h2>
<ul style="font-size:12px;color:#3c4454;padding-left:18px" id="caveats">
{{range .R.Caveats}}<li>{{.}}</li>
{{end}}{{if .R.Truncated}}<li>Cut at the row limit: {{range .R.Truncated}}{{.}} {{end}}</li>{{end}}
</ul>
<p class="muted">Every figure comes from the cookbook's queries ({{.R.QueryNames}}); the tables are attached as CSV.</p>
</td></tr></table>
</td></tr></table>
</body></html>
`
