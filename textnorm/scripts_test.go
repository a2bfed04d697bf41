package textnorm

import "testing"

func TestScripts(t *testing.T) {
	for word, want := range map[string]WordScripts{
		"rita":         {Latin: true},
		"r\u0456ta":    {Latin: true, LookAlike: true}, // Cyrillic і
		"ех\u0430":     {LookAlike: true},              // wholly Cyrillic look-alikes
		"пример":       {LookAlike: true, Other: true}, // п, м imitate nothing Latin
		"Νίκος":        {LookAlike: true, Other: true},
		"münchen":      {Latin: true},
		"東京":           {Other: true},
		"2024-12":      {},
		"a\u0301":      {Latin: true}, // a mark counts as none
		"ᴀᴄᴍᴇ":         {Latin: true}, // small capitals are Latin script
		"":             {},
		"\u200b\u00a0": {},
	} {
		if got := Scripts(word); got != want {
			t.Errorf("Scripts(%q) = %+v, want %+v", word, got, want)
		}
	}
}
