//go:build race

package post

// raceEnabled: the race detector makes sync.Pool drop items on purpose
// (fmt's buffers among them), so allocation counts mean little under it.
const raceEnabled = true
