package search

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

// TestIndexIsOwnerOnly: the index holds posts' text, so its directory and
// everything in it are the owner's only, as the API's state directory is,
// whatever the umask; and an index directory an earlier version made
// readable by others is made owner-only when opened.
func TestIndexIsOwnerOnly(t *testing.T) {
	for _, existing := range []bool{false, true} {
		c := testConfig(t)
		c.Dir = filepath.Join(c.Dir, "state", "search")
		if existing {
			if err := os.MkdirAll(c.Dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		now := testNow
		x := openTest(t, c, &now)
		if err := x.Index([]*post.Item{corpus[0].item()}); err != nil {
			t.Fatal(err)
		}
		x.Close()
		n := 0
		err := filepath.WalkDir(c.Dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			n++
			if info.Mode().Perm()&0o077 != 0 {
				t.Errorf("existing %v: %s is %v; want no access for group and others", existing, path, info.Mode().Perm())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n < 3 {
			t.Fatalf("only %d entries under the index; want its shard's files", n)
		}
	}
}
