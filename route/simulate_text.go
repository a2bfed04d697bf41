package route

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteSimulation writes a simulation (Simulate) as a table, one row per
// hour and queue, then the totals over posts replayed.
func WriteSimulation(out io.Writer, rows []HourReport, posts int) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "HOUR (UTC)\tQUEUE\tON DUTY\tALERTS\tHANDED IN\tANSWERED\tBREACHES\tBACKLOG\tUNSTAFFED\tSUPPRESSED")
	var alerts, breaches, suppressed int
	for _, r := range rows {
		team, queue := r.Team, r.Queue
		if team == "" {
			team = "-"
		}
		if r.Suppressed > 0 {
			queue = "(suppressed: " + r.Reason + ")"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", r.Hour.Format("2006-01-02 15:00"), queue, team, r.Alerts, r.HandedIn, r.Answered, r.Breaches, r.Backlog, r.Unstaffed, r.Suppressed)
		alerts += r.Alerts
		breaches += r.Breaches
		suppressed += r.Suppressed
	}
	w.Flush()
	fmt.Fprintf(out, "%d posts, %d alerts, %d suppressed, %d predicted SLA breaches\n", posts, alerts, suppressed, breaches)
}
