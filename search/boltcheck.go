package search

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// checkRoot refuses a shard whose bbolt root file (store/root.bolt, where
// bleve's scorch keeps which segments make the index) is cut short, before
// bbolt maps it. bbolt trusts the header: it reads the pages the header
// says the file holds, and a page past the end of the file is a SIGBUS
// that no recover catches, so one damaged day crashed every start. And it
// opens a zero-length file as a new, empty database, so the day's posts
// would vanish from search without a word. A missing file is left to bleve.
func checkRoot(shard string) error {
	path := filepath.Join(shard, "store", "root.bolt")
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	if size == 0 {
		return fmt.Errorf("%s is empty (a crash lost it): the shard is damaged; move the day's directory away to start the day again, or restore it", path)
	}
	// The newest valid of the two meta pages is the one bbolt uses.
	var use *boltMeta
	for i := range 2 {
		m, ok := readBoltMeta(f, i)
		if ok && (use == nil || m.txid > use.txid) {
			use = &m
		}
	}
	if use != nil && int64(use.pgid)*int64(use.pageSize) > size {
		return fmt.Errorf("%s is %d bytes, its header says %d (cut short): the shard is damaged; move the day's directory away to start the day again, or restore it", path, size, int64(use.pgid)*int64(use.pageSize))
	}
	return nil // no valid meta page: bbolt refuses the file itself
}

// boltMeta is what checkRoot needs of a bbolt meta page.
type boltMeta struct {
	pageSize uint32
	pgid     uint64 // the high-water mark: pages the file holds
	txid     uint64
}

// bbolt's meta page (go.etcd.io/bbolt/internal/common: a 16-byte page
// header, then magic, version, page size, flags, root bucket, freelist,
// pgid, txid and an FNV-64a checksum of what precedes it), in the host's
// byte order: little-endian here (on a big-endian host no meta page reads
// as valid, and the file is left to bbolt as before).
const (
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	boltMetaOffset = 16
	boltMetaSize   = 64
	boltMinPage    = 1024
)

// readBoltMeta reads meta page i (0 or 1) of f, and whether it is valid.
// The first is at offset 0; the second one page further, the page size
// being the first valid one's, or the usual 4 KiB.
func readBoltMeta(f *os.File, i int) (boltMeta, bool) {
	off := int64(0)
	if i == 1 {
		off = 4096
		if m, ok := readBoltMeta(f, 0); ok {
			off = int64(m.pageSize)
		}
	}
	b := make([]byte, boltMetaOffset+boltMetaSize)
	if _, err := f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
		return boltMeta{}, false
	}
	m := b[boltMetaOffset:]
	le := binary.LittleEndian
	if le.Uint32(m[0:]) != boltMagic || le.Uint32(m[4:]) != boltVersion {
		return boltMeta{}, false
	}
	h := fnv.New64a()
	h.Write(m[:56])
	if h.Sum64() != le.Uint64(m[56:]) {
		return boltMeta{}, false
	}
	meta := boltMeta{pageSize: le.Uint32(m[8:]), pgid: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}
	if meta.pageSize < boltMinPage {
		return boltMeta{}, false
	}
	return meta, true
}
