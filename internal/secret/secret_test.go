package secret

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const value = "hunter2-s3cr3t"

func TestResolveSources(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	if err := os.WriteFile(file, []byte(value+"\r\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(name string) string {
		if name == "PW" {
			return value
		}
		return ""
	}
	for _, c := range []struct {
		name              string
		inline            String
		file, env, errHas string
		want              string
	}{
		{name: "none", want: ""},
		{name: "inline", inline: New(value), want: value},
		{name: "file, trailing newlines dropped", file: file, want: value},
		{name: "env", env: "PW", want: value},
		{name: "inline and file", inline: New(value), file: file, errHas: "x.password, x.password_file: set together; give one"},
		{name: "file and env", file: file, env: "PW", errHas: "x.password_env, x.password_file: set together"},
		{name: "unreadable file", file: filepath.Join(dir, "missing"), errHas: "x.password_file: open " + filepath.Join(dir, "missing")},
		{name: "unset env", env: "NOPE", errHas: "x.password_env: environment variable NOPE is not set"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Resolve("x.password", c.inline, c.file, c.env, env)
			if c.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), c.errHas) {
					t.Fatalf("err %v, want one containing %q", err, c.errHas)
				}
				if strings.Contains(err.Error(), value) {
					t.Fatalf("the error shows the secret: %v", err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("Resolve = %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestResolveRefusesOddFiles(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	huge := filepath.Join(dir, "huge")
	os.WriteFile(huge, bytes.Repeat([]byte("a"), maxBytes+1), 0o600)
	for path, want := range map[string]string{empty: "is empty", huge: "not a secret", dir: "k_file"} {
		if _, err := Resolve("k", String{}, path, "", nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error saying %q", path, err, want)
		}
	}
	if _, err := Required("k", String{}, "", "", nil); err == nil || !strings.Contains(err.Error(), "k (or k_file, k_env): required") {
		t.Errorf("Required with nothing: %v", err)
	}
}

// TestStringNeverShows prints, logs and marshals a configuration holding a
// secret every way the code base does, and finds the value nowhere.
func TestStringNeverShows(t *testing.T) {
	type section struct {
		User     string `yaml:"user" json:"user"`
		Password String `yaml:"password" json:"password"`
	}
	type config struct {
		Sink  section  `yaml:"sink" json:"sink"`
		Ptr   *section `yaml:"ptr" json:"ptr"`
		Slice []String `yaml:"slice" json:"slice"`
	}
	c := config{Sink: section{"u", New(value)}, Ptr: &section{"u", New(value)}, Slice: []String{New(value)}}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
		out = append(out, fmt.Sprintf(verb, c), fmt.Sprintf(verb, c.Sink.Password), fmt.Sprintf(verb, *c.Ptr))
	}
	out = append(out, fmt.Sprint(c), fmt.Sprintln(c.Sink))
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	y, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, string(j), string(y))
	var logs bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logs, nil), slog.NewJSONHandler(&logs, nil)} {
		l := slog.New(h)
		l.Info("config", "cfg", c, "sink", c.Sink, "password", c.Sink.Password, "ptr", c.Ptr)
		l.Info("config", slog.Any("cfg", c), slog.Group("g", "pw", c.Sink.Password))
	}
	out = append(out, logs.String())
	for _, o := range out {
		if strings.Contains(o, value) || strings.Contains(o, fmt.Sprintf("%x", value)) {
			t.Errorf("the secret shows in %q", o)
		}
	}
	if !strings.Contains(logs.String(), Redacted) {
		t.Errorf("no %s in the logs: %s", Redacted, logs.String())
	}
	// And the value itself is still the value, for the code that uses it.
	if c.Sink.Password.Value() != value {
		t.Fatal("Value() is not the value")
	}
	var back config
	if err := yaml.Unmarshal([]byte("sink: {password: "+value+"}"), &back); err != nil || back.Sink.Password.Value() != value {
		t.Fatalf("yaml decode: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"sink":{"password":"`+value+`"}}`), &back); err != nil || back.Sink.Password.Value() != value {
		t.Fatalf("json decode: %v", err)
	}
}

// Check reads nothing: a missing file and an unset variable pass it; two
// sources, or a variable's name no environment can hold, do not.
func TestCheckReadsNothing(t *testing.T) {
	missing := t.TempDir() + "/none"
	for _, c := range []struct {
		inline     String
		file, env  string
		wantErrSub string
	}{
		{file: missing},
		{env: "EARSHOT_SURELY_UNSET_1"},
		{env: "care.slack-url"},
		{inline: New("x")},
		{},
		{file: missing, env: "A", wantErrSub: "set together"},
		{inline: New("x"), env: "A", wantErrSub: "set together"},
		{env: "A=B", wantErrSub: "not an environment variable's name"},
		{env: "SLACK URL", wantErrSub: "not an environment variable's name"},
		{env: "1ABC", wantErrSub: "not an environment variable's name"},
		{env: "A\x00", wantErrSub: "not an environment variable's name"},
		{env: strings.Repeat("A", 300), wantErrSub: "not an environment variable's name"},
	} {
		err := Check("k", c.inline, c.file, c.env)
		if (err == nil) != (c.wantErrSub == "") || (err != nil && !strings.Contains(err.Error(), c.wantErrSub)) {
			t.Errorf("Check(%q, %q): %v, want %q", c.file, c.env, err, c.wantErrSub)
		}
	}
	if err := CheckRequired("k", String{}, "", ""); !errors.Is(err, ErrMissing) {
		t.Errorf("CheckRequired with nothing: %v", err)
	}
}
