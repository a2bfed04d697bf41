package stream_test

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/earshot-dev/earshot/bench"
	"github.com/earshot-dev/earshot/post"
)

// BenchmarkBatchCompression is the producer's and consumer's codec work on
// a batch of 1000 post records as the ingest stage writes them (kafka-go
// compresses each partition's record batch whole; the broker validates it
// and the consumer decompresses it): CPU per record each way, and the bytes
// that cross the loopback, for transport.kafka.compression.
//
//	go test -run '^$' -bench BatchCompression -benchmem ./stream/
func BenchmarkBatchCompression(b *testing.B) {
	var batch bytes.Buffer
	for _, p := range bench.Posts(1000, 7) {
		p.IngestedAt = p.CreatedAt
		rec, err := post.Encode(nil, &post.Item{Post: p})
		if err != nil {
			b.Fatal(err)
		}
		batch.Write(rec)
	}
	raw := batch.Bytes()
	b.Run("codec=none/dir=encode-records", func(b *testing.B) {
		// the reference: encoding the same 1000 records with the wire codec
		items := make([]*post.Item, 0, 1000)
		for _, p := range bench.Posts(1000, 7) {
			p.IngestedAt = p.CreatedAt
			items = append(items, &post.Item{Post: p})
		}
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cpu := bench.ThreadCPU()
		for b.Loop() {
			for _, it := range items {
				if _, err := post.Encode(nil, it); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64((bench.ThreadCPU()-cpu).Nanoseconds())/float64(b.N)/1000, "cpu-ns/record")
	})
	for _, c := range []kafka.Compression{kafka.Lz4, kafka.Zstd, kafka.Snappy, kafka.Gzip} {
		codec := c.Codec()
		var z bytes.Buffer
		w := codec.NewWriter(&z)
		w.Write(raw)
		w.Close()
		compressed := bytes.Clone(z.Bytes())
		b.Run(fmt.Sprintf("codec=%s/dir=compress", codec.Name()), func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu := bench.ThreadCPU()
			for b.Loop() {
				z.Reset()
				w := codec.NewWriter(&z)
				w.Write(raw)
				w.Close()
			}
			b.ReportMetric(float64((bench.ThreadCPU()-cpu).Nanoseconds())/float64(b.N)/1000, "cpu-ns/record")
			b.ReportMetric(float64(len(raw))/float64(len(compressed)), "ratio")
		})
		b.Run(fmt.Sprintf("codec=%s/dir=decompress", codec.Name()), func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu := bench.ThreadCPU()
			for b.Loop() {
				r := codec.NewReader(bytes.NewReader(compressed))
				io.Copy(io.Discard, r)
				r.Close()
			}
			b.ReportMetric(float64((bench.ThreadCPU()-cpu).Nanoseconds())/float64(b.N)/1000, "cpu-ns/record")
		})
	}
}
