package sink

import "strings"

// maxInList is the most bytes of values one `IN (...)` list of a query
// holds. ClickHouse parses at most max_query_size (256 KiB by default) of
// a query: past it the query fails with a syntax error, which no retry
// mends, and the sink stalled on a batch of 5,600 alert ids. Half of it
// leaves room for the rest of the query.
const maxInList = 128 << 10

// inLists joins quoted values into comma-separated lists of at most
// maxInList bytes each (a value longer than that makes a list alone), to
// be read with one query each.
func inLists(values []string) []string {
	var lists []string
	var b strings.Builder
	for _, v := range values {
		if b.Len() > 0 && b.Len()+2+len(v) > maxInList {
			lists = append(lists, b.String())
			b.Reset()
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(v)
	}
	if b.Len() > 0 {
		lists = append(lists, b.String())
	}
	return lists
}
