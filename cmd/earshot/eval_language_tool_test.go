package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEvalLanguage(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "tweets.tsv")
	rows := "en\tpos\tI can\\u2019t believe it\\u2019s already Friday @user\n" +
		"de\tneg\tIch warte seit zwei Wochen auf mein Paket, niemand antwortet\n" +
		"hr\tpos\tŠto je bilo s tobom jučer, nisam te vidio tjedan dana\n" +
		"hi-Latn\tneu\tyaar kya scene hai aaj, movie dekhne chale?\n" +
		"el\tneu\t😍😍😍\n"
	if err := os.WriteFile(f, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if err := run([]string{"eval", "language", f}, &out, &errb); err != nil {
		t.Fatalf("%v: %s", err, errb.String())
	}
	for _, want := range []string{"rows 5", "BCMS grouped", "precision", "close pairs", "bs/hr/sr/sh:", "reliability"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := run([]string{"eval", "language", "--json", f}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Rows          int     `json:"rows"`
		Abstained     float64 `json:"abstained"`
		AccuracyGroup float64 `json:"accuracy_grouped"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	// the emoji-only row abstains; the other four are right (hr counting as BCMS)
	if rep.Rows != 5 || rep.Abstained != 0.2 || rep.AccuracyGroup != 0.8 {
		t.Errorf("json report %+v, want 5 rows, 0.2 abstained, 0.8 grouped", rep)
	}
	if err := run([]string{"eval", "language", "--split", "nope", f}, &out, &errb); err == nil {
		t.Error("--split nope: no error")
	}
	if err := run([]string{"eval", "language"}, &out, &errb); err == nil {
		t.Error("no FILE: no error")
	}
}
