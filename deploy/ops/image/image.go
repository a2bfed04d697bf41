// Package image assembles earshot's container image without a container
// engine or a base image: one layer holding the static binary, the CA
// certificates, a passwd entry for the non-root user, the example
// configuration and a writable state directory, under an OCI config with
// the entrypoint, the user and the org.opencontainers.image labels. Time
// zones are in the binary (built with -tags timetzdata), so routing's
// business hours work without /usr/share/zoneinfo.
//
// The result is written as a tarball that `docker load` and `podman load`
// take (see docs/deploy.md).
package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Where things are in the image.
const (
	BinaryPath  = "/usr/local/bin/earshot"
	ExamplesDir = "/etc/earshot/examples" // deploy/examples: configs, watchlists, routing, org
	StateDir    = "/var/lib/earshot"      // writable by the user: API state, search index, watchlist store
	CACertsPath = "/etc/ssl/certs/ca-certificates.crt"
	UID, GID    = 65532, 65532 // the user "earshot", as distroless's nonroot
	UserName    = "earshot"
	Source      = "https://github.com/earshot-dev/earshot"
)

// Options say what goes in the image.
type Options struct {
	Binary   string    // a static linux earshot binary (CGO_ENABLED=0, -tags timetzdata)
	Examples string    // deploy/examples
	CACerts  string    // a PEM bundle, e.g. the host's /etc/ssl/certs/ca-certificates.crt
	Version  string    // the release, e.g. v1.4.0 or what git describe says
	Revision string    // the commit
	Created  time.Time // the commit's time, so that the same tree gives the same image
	Arch     string    // GOARCH of the binary: amd64, arm64
}

// Assemble builds the image.
func Assemble(o Options) (v1.Image, error) {
	if o.Arch == "" {
		o.Arch = "amd64"
	}
	layer, err := rootfs(o)
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
	if err != nil {
		return nil, fmt.Errorf("image: adding the layer: %w", err)
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image: reading the config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", o.Arch
	cf.Created = v1.Time{Time: o.Created.UTC()}
	cf.Author = "earshot"
	cf.Config = v1.Config{
		User:       fmt.Sprintf("%d:%d", UID, GID),
		Entrypoint: []string{BinaryPath},
		// The synthetic firehose through every stage in one process, with
		// /metrics and /healthz on :9464: `docker run earshot` shows it working.
		Cmd:          []string{"run", "--config", ExamplesDir + "/embedded.yaml", "--metrics-addr", ":9464"},
		WorkingDir:   StateDir,
		Env:          []string{"PATH=/usr/local/bin", "SSL_CERT_FILE=" + CACertsPath},
		ExposedPorts: map[string]struct{}{"9464/tcp": {}, "8080/tcp": {}},
		Volumes:      map[string]struct{}{StateDir: {}},
		StopSignal:   "SIGTERM",
		Labels: map[string]string{
			"org.opencontainers.image.title":       "earshot",
			"org.opencontainers.image.description": "social listening on a stream: ingest, match, enrich, route, sink",
			"org.opencontainers.image.version":     o.Version,
			"org.opencontainers.image.revision":    o.Revision,
			"org.opencontainers.image.source":      Source,
			"org.opencontainers.image.created":     o.Created.UTC().Format(time.RFC3339),
		},
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("image: writing the config: %w", err)
	}
	return img, nil
}

// entry is one file or directory of the layer.
type entry struct {
	name string // absolute path in the image
	mode int64  // permission bits
	dir  bool
	data []byte
	uid  int
}

// rootfs is the image's one layer. Every entry has the same modification
// time (Created) and a fixed owner, so the same inputs give the same digest.
func rootfs(o Options) (v1.Layer, error) {
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, fmt.Errorf("image: the binary: %w", err)
	}
	if len(bin) < 4 || string(bin[:4]) != "\x7fELF" {
		return nil, fmt.Errorf("image: %s is not an ELF binary", o.Binary)
	}
	certs, err := os.ReadFile(o.CACerts)
	if err != nil {
		return nil, fmt.Errorf("image: the CA certificates (install Debian's ca-certificates, or pass another bundle): %w", err)
	}
	if !bytes.Contains(certs, []byte("-----BEGIN CERTIFICATE-----")) {
		return nil, fmt.Errorf("image: %s holds no PEM certificate", o.CACerts)
	}
	entries := []entry{
		{name: "/etc", mode: 0o755, dir: true},
		{name: "/etc/passwd", mode: 0o644, data: fmt.Appendf(nil, "root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:%s:/sbin/nologin\n", UserName, UID, GID, UserName, StateDir)},
		{name: "/etc/group", mode: 0o644, data: fmt.Appendf(nil, "root:x:0:\n%s:x:%d:\n", UserName, GID)},
		{name: "/etc/nsswitch.conf", mode: 0o644, data: []byte("hosts: files dns\n")},
		{name: "/etc/ssl", mode: 0o755, dir: true},
		{name: "/etc/ssl/certs", mode: 0o755, dir: true},
		{name: CACertsPath, mode: 0o644, data: certs},
		{name: "/etc/earshot", mode: 0o755, dir: true},
		{name: "/usr", mode: 0o755, dir: true},
		{name: "/usr/local", mode: 0o755, dir: true},
		{name: "/usr/local/bin", mode: 0o755, dir: true},
		{name: BinaryPath, mode: 0o755, data: bin},
		{name: "/tmp", mode: 0o1777, dir: true},
		{name: "/var", mode: 0o755, dir: true},
		{name: "/var/lib", mode: 0o755, dir: true},
		{name: StateDir, mode: 0o750, dir: true, uid: UID},
	}
	ex, err := examples(o.Examples)
	if err != nil {
		return nil, err
	}
	entries = append(entries, ex...)
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name[1:], Mode: e.mode, ModTime: o.Created.UTC(), Uid: e.uid, Gid: e.uid, Format: tar.FormatPAX}
		if e.uid != 0 {
			h.Uname, h.Gname = UserName, UserName
		}
		if e.dir {
			h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("image: %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("image: %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("image: closing the layer: %w", err)
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		tarball.WithMediaType(types.OCILayer))
}

// examples are the files of dir under ExamplesDir, world-readable. Only
// regular files and directories: a symlink or a device there is refused.
func examples(dir string) ([]entry, error) {
	var out []entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name := path.Join(ExamplesDir, filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			out = append(out, entry{name: name, mode: 0o755, dir: true})
		case d.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out = append(out, entry{name: name, mode: 0o644, data: data})
		default:
			return fmt.Errorf("%s: not a regular file or directory", p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("image: the examples: %w", err)
	}
	return out, nil
}

// TagOf is version as an image tag: the characters a tag allows
// ([A-Za-z0-9_.-], at most 128, not first . or -), others as -.
func TagOf(version string) string {
	b := []byte(version)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			b[i] = '-'
		}
	}
	s := strings.Trim(string(b), ".-")
	if len(s) > 128 {
		s = s[:128]
	}
	if s == "" {
		s = "devel"
	}
	return s
}

// WriteTarball writes img to path as a tarball for `docker load` and
// `podman load`, under each of tags; it writes a temporary file and renames
// it, so that a failed build leaves no half image.
func WriteTarball(path string, img v1.Image, tags ...name.Tag) error {
	refs := map[name.Reference]v1.Image{}
	for _, t := range tags {
		refs[t] = img
	}
	tmp := path + ".tmp"
	if err := tarball.MultiRefWriteToFile(tmp, refs); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("image: writing %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}
