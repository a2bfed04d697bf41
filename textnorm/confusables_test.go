package textnorm

import (
	"testing"
	"unicode"
)

func TestIgnorable(t *testing.T) {
	for _, r := range []rune{0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x180B, 0x180E, 0x200B, 0x200D, 0x202E,
		0x2060, 0x2066, 0x206F, 0x2800, 0x3164, 0xFE0F, 0xFEFF, 0xFFA0, 0x1BCA0, 0x1D173, 0xE0001, 0xE0041, 0xE01EF} {
		if !Ignorable(r) {
			t.Errorf("U+%04X is not ignorable", r)
		}
	}
	for _, r := range []rune{'a', ' ', 0x00A0, 0x3000, 0x3165, 0x2801, 'é', 'а', 0x1F600} {
		if Ignorable(r) {
			t.Errorf("U+%04X is ignorable", r)
		}
	}
}

func TestLatin(t *testing.T) {
	for r, want := range map[rune]rune{'а': 'a', 'с': 'c', 'м': 'm', 'е': 'e', 'ᴀ': 'a', 'ⓐ': 'a', 'ⓩ': 'z', 'Ⓜ': 'm',
		'⒜': 'a', '🄰': 'a', '🅐': 'a', '🆉': 'z', 'ο': 'o', 'ν': 'n'} {
		if got, ok := Latin(r); !ok || got != want {
			t.Errorf("Latin(%q) = %q, %v; want %q", r, got, ok, want)
		}
	}
	for _, r := range []rune{'a', 'z', 'п', 'и', 'λ', 'σ', 'М', 'Α', '日'} { // capitals fold to lower case first
		if l, ok := Latin(r); ok {
			t.Errorf("Latin(%q) = %q", r, l)
		}
	}
	for r, l := range table {
		if l < 'a' || l > 'z' || unicode.IsUpper(r) {
			t.Errorf("table: %q → %q: want a lower-case letter onto a-z", r, l)
		}
	}
}
