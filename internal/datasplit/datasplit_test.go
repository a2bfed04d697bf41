package datasplit

import "testing"

// The split is recorded: these assignments must never change, or every
// reported held-out figure would silently be measured on training rows.
func TestSplitIsFixed(t *testing.T) {
	for text, want := range map[string]Part{
		"":                            Test,
		"a":                           Test,
		"k":                           Test,
		"g":                           Dev,
		"i":                           Dev,
		"b":                           Train,
		"refund never came, terrible": Train,
		"Καλημέρα":                    Train,
	} {
		if got := Of(text); got != want {
			t.Errorf("Of(%q) = %v, want %v", text, got, want)
		}
	}
	counts := map[Part]int{}
	for i := 0; i < 100000; i++ {
		counts[Of(string(rune('a'+i%26))+string(rune(i)))]++
	}
	if counts[Test] < 18000 || counts[Test] > 22000 || counts[Dev] < 8000 || counts[Dev] > 12000 {
		t.Errorf("split proportions off: %v", counts)
	}
}
