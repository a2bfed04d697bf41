package image

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const root = "../../.."

// The image builds from the repository (the static binary, then the
// layer), loads back from its tarball with the right OCI config, and the
// binary taken out of it runs `earshot version` and `earshot run`.
func TestImage(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	o := FromGit(ctx, root, Options{CACerts: "/etc/ssl/certs/ca-certificates.crt", Examples: filepath.Join(root, "deploy", "examples")})
	o.Binary = filepath.Join(dir, "earshot")
	start := time.Now()
	if err := Build(ctx, root, o.Binary, o); err != nil {
		t.Fatal(err)
	}
	t.Logf("static build: %v", time.Since(start).Round(time.Millisecond))
	assertStatic(t, o.Binary)

	img, err := Assemble(o)
	if err != nil {
		t.Fatal(err)
	}
	tar := filepath.Join(dir, "earshot-image.tar")
	tag, _ := name.NewTag("earshot:" + TagOf(o.Version))
	if err := WriteTarball(tar, img, tag); err != nil {
		t.Fatal(err)
	}
	back, err := tarball.ImageFromPath(tar, &tag)
	if err != nil {
		t.Fatalf("loading the tarball back: %v", err)
	}
	cf, err := back.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532 (non-root)", c.User)
	}
	if strings.Join(c.Entrypoint, " ") != BinaryPath {
		t.Errorf("entrypoint %q, want %s", c.Entrypoint, BinaryPath)
	}
	if len(c.Cmd) == 0 || c.Cmd[0] != "run" {
		t.Errorf("cmd %q, want run ...", c.Cmd)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" && cf.Architecture != "arm64" {
		t.Errorf("platform %s/%s", cf.OS, cf.Architecture)
	}
	for k, want := range map[string]string{
		"org.opencontainers.image.version":  o.Version,
		"org.opencontainers.image.revision": o.Revision,
		"org.opencontainers.image.source":   Source,
		"org.opencontainers.image.created":  o.Created.UTC().Format(time.RFC3339),
	} {
		if got := c.Labels[k]; got != want || got == "" {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}
	if o.Revision == "unknown" || len(o.Revision) != 40 {
		t.Errorf("revision %q: want the checkout's commit", o.Revision)
	}
	// The tarball is docker load's format, which has no media types of its
	// own; the image as assembled (what a registry push sends) is OCI.
	if mt, _ := img.MediaType(); mt != types.OCIManifestSchema1 {
		t.Errorf("manifest media type %s, want OCI", mt)
	}

	// The same inputs give the same image.
	again, err := Assemble(o)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := img.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("two builds of the same inputs: digests %s and %s", d1, d2)
	}

	fsDir := filepath.Join(dir, "rootfs")
	owners := extract(t, back, fsDir)
	if owners[strings.TrimPrefix(StateDir, "/")] != UID {
		t.Errorf("%s is owned by %d, want %d (the user writes state there)", StateDir, owners[StateDir[1:]], UID)
	}
	passwd, err := os.ReadFile(filepath.Join(fsDir, "etc/passwd"))
	if err != nil || !strings.Contains(string(passwd), "earshot:x:65532:65532:") {
		t.Errorf("/etc/passwd: %q %v", passwd, err)
	}
	if b, err := os.ReadFile(filepath.Join(fsDir, CACertsPath)); err != nil || !bytes.Contains(b, []byte("BEGIN CERTIFICATE")) {
		t.Errorf("CA certificates: %v", err)
	}
	bin := filepath.Join(fsDir, BinaryPath)

	// earshot version says what the labels say.
	out, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatalf("earshot version --json: %v", err)
	}
	var v struct{ Version, Revision string }
	if err := json.Unmarshal(out, &v); err != nil || v.Version != o.Version || v.Revision != o.Revision {
		t.Errorf("earshot version --json = %s (%v), want version %s revision %s", out, err, o.Version, o.Revision)
	}

	// The image's own command, with the example configuration it carries.
	args := append(append([]string{}, c.Cmd[1:]...), "--duration", "2s", "--quiet", "--progress", "0")
	for i, a := range args {
		switch {
		case strings.HasPrefix(a, ExamplesDir):
			args[i] = filepath.Join(fsDir, a)
		case a == ":9464":
			args[i] = "127.0.0.1:0" // not the shared machine's 9464
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, bin, append([]string{"run"}, args...)...)
	cmd.Env = []string{"PATH=/usr/local/bin", "ZONEINFO=/nonexistent"} // the image has no zoneinfo: the binary's own
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start = time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("earshot %s: %v\n%s", strings.Join(cmd.Args[1:], " "), err, stderr.String())
	}
	if el := time.Since(start); el < 2*time.Second {
		t.Errorf("earshot run --duration 2s returned after %v", el)
	}
}

// assertStatic fails unless bin is a statically linked ELF built without
// cgo and with the time-zone database inside.
func assertStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s has an ELF interpreter: it is dynamically linked", bin)
		}
	}
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-tags=timetzdata"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("go version -m %s: no %s in\n%s", bin, want, out)
		}
	}
}

// extract unpacks img's filesystem into dir and returns each entry's
// owner, by its path in the image without the leading /.
func extract(t *testing.T, img v1.Image, dir string) map[string]int {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	owners := map[string]int{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		clean := filepath.Clean(strings.TrimSuffix(h.Name, "/"))
		if !filepath.IsLocal(clean) {
			t.Fatalf("layer entry %q escapes the root", h.Name)
		}
		owners[clean] = h.Uid
		p := filepath.Join(dir, clean)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, os.FileMode(h.Mode).Perm()); err != nil {
				t.Fatal(err)
			}
		default:
			t.Errorf("layer entry %q of type %c: want only files and directories", h.Name, h.Typeflag)
		}
	}
	return owners
}

func TestTagOf(t *testing.T) {
	for in, want := range map[string]string{"v1.4.0": "v1.4.0", "(devel)": "devel", "v1.4.0-3-gabc+dirty": "v1.4.0-3-gabc-dirty", "": "devel", strings.Repeat("a", 200): strings.Repeat("a", 128)} {
		if got := TagOf(in); got != want {
			t.Errorf("TagOf(%q) = %q, want %q", in, got, want)
		}
	}
	if _, err := name.NewTag("earshot:" + TagOf("odd/ver sion:1")); err != nil {
		t.Errorf("TagOf gives an invalid tag: %v", err)
	}
}

// A relative output path is the caller's, not the repository's (make image
// passes ../../bin/earshot-image.tar from deploy/ops).
func TestBuildRelativeOut(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	o := FromGit(context.Background(), root, Options{})
	abs, err := filepath.Abs(filepath.Join(wdAtStart, root))
	if err != nil {
		t.Fatal(err)
	}
	if err := Build(context.Background(), abs, "out/earshot", o); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "out/earshot")); err != nil {
		t.Errorf("the binary is not where asked: %v", err)
	}
}

var wdAtStart, _ = os.Getwd()
