// Command image builds earshot's container image without a container
// engine: `make image` runs it. It compiles the static binary, assembles
// the image (deploy/image) and writes a tarball that `docker load -i` and
// `podman load -i` take, tagged earshot:VERSION and earshot:latest.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/earshot-dev/earshot/deploy/ops/image"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run() error {
	root := flag.String("root", "../..", "the earshot repository")
	out := flag.String("out", "../../bin/earshot-image.tar", "the image tarball to write")
	repo := flag.String("repo", "earshot", "the image's name, tagged with the version and latest")
	arch := flag.String("arch", runtime.GOARCH, "the architecture: amd64 or arm64")
	certs := flag.String("ca-certs", "/etc/ssl/certs/ca-certificates.crt", "the CA certificate bundle to put in the image")
	version := flag.String("version", "", "the version (default: git describe --tags --always --dirty)")
	flag.Parse()
	ctx := context.Background()
	for _, p := range []*string{root, out} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	o := image.FromGit(ctx, *root, image.Options{Version: *version, Arch: *arch, CACerts: *certs, Examples: filepath.Join(*root, "deploy", "examples")})
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	o.Binary = *out + ".earshot"
	defer os.Remove(o.Binary)
	if err := image.Build(ctx, *root, o.Binary, o); err != nil {
		return err
	}
	img, err := image.Assemble(o)
	if err != nil {
		return err
	}
	latest, err := name.NewTag(*repo + ":latest")
	if err != nil {
		return err
	}
	refs := []name.Tag{latest}
	if v, err := name.NewTag(*repo + ":" + image.TagOf(o.Version)); err == nil {
		refs = append(refs, v)
	}
	if err := image.WriteTarball(*out, img, refs...); err != nil {
		return err
	}
	d, _ := img.Digest()
	fmt.Printf("%s: %s %s (%s), %s\n", *out, *repo, o.Version, o.Revision, d)
	return nil
}
