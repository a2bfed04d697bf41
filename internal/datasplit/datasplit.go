// Package datasplit assigns each labelled text to one part of a fixed,
// recorded split, so that every model the project trains (language ID,
// sentiment, emotion, intent) holds out the same rows: a tweet kept out of
// one model's training is kept out of all of them.
//
// The part is a pure function of the text's bytes (FNV-1a, 32 bits), so the
// split is the same on every machine and in every run, and a duplicate text
// always lands in the same part.
package datasplit

import "hash/fnv"

// Part is where a row belongs.
type Part int

const (
	// Train rows may be used to fit weights.
	Train Part = iota
	// Dev rows may be used to choose settings (regularisation, thresholds,
	// calibration), never to fit weights directly.
	Dev
	// Test rows are untouched: only reported on, never tuned on.
	Test
)

func (p Part) String() string {
	switch p {
	case Train:
		return "train"
	case Dev:
		return "dev"
	case Test:
		return "test"
	}
	return "unknown"
}

// Of returns the part of text: 20% test (h%10 in {0,1}), 10% dev (h%10 ==
// 2), 70% train, with h the FNV-1a 32-bit hash of the exact text bytes.
func Of(text string) Part {
	h := fnv.New32a()
	h.Write([]byte(text))
	switch s := h.Sum32() % 10; {
	case s < 2:
		return Test
	case s == 2:
		return Dev
	}
	return Train
}
