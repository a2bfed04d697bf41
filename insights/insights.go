// Package insights is the analysts' cookbook: named, parameterised
// ClickHouse queries over earshot's schema, run by the API, the dashboards
// and the tests on both ClickHouse 18.16 and current releases.
package insights

// Param is one parameter of a query, bound client-side (18.16 has no
// server-side query parameters) after validation against its type.
type Param struct {
	Name    string `json:"name"`
	Type    string `json:"type"` // string, int, datetime, duration
	Default string `json:"default,omitempty"`
	Doc     string `json:"doc"`
	// Required: the parameter has no default and must be given.
	Required bool `json:"required,omitempty"`
	// Min and Max bound an int or duration parameter when set (in the
	// parameter's own syntax: "1", "1000"; "1m", "31d").
	Min string `json:"min,omitempty"`
	Max string `json:"max,omitempty"`
}

// Query is one cookbook entry.
type Query struct {
	Name        string  `json:"name"` // url-safe, e.g. share_of_voice_by_region
	Title       string  `json:"title"`
	Description string  `json:"description"`
	Params      []Param `json:"params"`
	SQL         string  `json:"sql"`
}

// Table is a query's result.
type Table struct {
	Columns []string `json:"columns"`
	Types   []string `json:"types"`
	Rows    [][]any  `json:"rows"`
	// Truncated: there were more rows than the row limit; the rest were cut.
	Truncated bool `json:"truncated,omitempty"`
}
