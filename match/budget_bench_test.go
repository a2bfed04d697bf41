package match

import (
	"fmt"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

// BenchmarkPathological times the hostile posts at 200 KB, 500 KB
// and 1 MB; ns/op should grow linearly with the size:
//
//	go test -run XXX -bench BenchmarkPathological -benchmem -cpu 1 ./match/
func BenchmarkPathological(b *testing.B) {
	for _, c := range pathological {
		e := compileRule(b, c.rule, Options{})
		for _, k := range []int{200, 500, 1000} {
			p := &post.Post{Text: c.text(k)}
			b.Run(fmt.Sprintf("%s/kb=%d", c.name, len(p.Text)/1000), func(b *testing.B) {
				b.SetBytes(int64(len(p.Text)))
				b.ReportAllocs()
				for b.Loop() {
					e.Match(p)
				}
			})
		}
	}
}
