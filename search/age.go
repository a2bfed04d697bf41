package search

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseAge reads how far back to look: 7d, 2w, 36h, 90m or any Go duration.
func ParseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	unit := time.Duration(0)
	switch {
	case strings.HasSuffix(s, "d"):
		unit = 24 * time.Hour
	case strings.HasSuffix(s, "w"):
		unit = 7 * 24 * time.Hour
	}
	var d time.Duration
	if unit != 0 {
		n, err := strconv.Atoi(s[:len(s)-1])
		if err != nil || n < 1 || n > 100_000 {
			return 0, fmt.Errorf("%q: want a whole number of days or weeks, such as 7d or 2w", s)
		}
		d = time.Duration(n) * unit
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q: want a duration such as 7d, 36h or 90m", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q: want more than 0", s)
	}
	return d, nil
}
