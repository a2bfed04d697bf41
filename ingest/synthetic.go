package ingest

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream"
)

// Synthetic is a deterministic firehose: the same seed yields the same posts
// (text, authors, ids) in the same order. Their created_at advances from
// Start at the configured rate (the schedule), so it too is reproducible;
// their ingested_at is the clock when Next hands them to ingest, as for every
// other source, so that latency through the pipeline can be measured from it.
type Synthetic struct {
	cfg    SyntheticConfig
	rng    *rand.Rand
	n      int64
	pace   pacer
	start  time.Time
	step   time.Duration
	langW  []int // cumulative language weights
	brandW []int
	recent []recent // recent brand posts, for reposts
	ids    []string // recent post ids, for deletes
	sb     strings.Builder
}

func brandIndex(name string) int {
	for i, b := range brands {
		if strings.EqualFold(b.name, name) {
			return i
		}
	}
	return -1
}

// crisisAt returns the brand index and the share of posts that are crisis
// posts at t, or -1. A brand's usual share is brand_rate × its weight; a
// crisis adds (factor − 1) times that, so its volume is factor times usual.
func (s *Synthetic) crisisAt(t time.Time) (int, float64) {
	total := s.brandW[len(s.brandW)-1]
	for _, c := range s.cfg.Crises {
		off := t.Sub(s.start)
		if off < c.At || off >= c.At+c.Duration {
			continue
		}
		b := brandIndex(c.Brand)
		f := c.Factor
		if f == 0 {
			f = 20
		}
		usual := s.cfg.BrandRate * float64(brands[b].weight) / float64(total)
		return b, math.Min(1, (f-1)*usual)
	}
	return -1, 0
}

type recent struct {
	id   string
	text string
	lang string
}

// NewSynthetic returns a synthetic source.
func NewSynthetic(cfg SyntheticConfig) *Synthetic {
	s := &Synthetic{
		cfg:   cfg,
		rng:   rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		pace:  pacer{rate: cfg.Rate},
		start: cfg.Start,
		step:  time.Millisecond,
	}
	if s.start.IsZero() {
		s.start = time.Now().UTC().Truncate(time.Second)
	}
	if cfg.Rate > 0 {
		s.step = time.Second / time.Duration(cfg.Rate)
	}
	total := 0
	for _, l := range languages {
		total += l.weight
		s.langW = append(s.langW, total)
	}
	total = 0
	for _, b := range brands {
		total += b.weight
		s.brandW = append(s.brandW, total)
	}
	return s
}

// Next returns up to max posts, waiting as the rate requires.
func (s *Synthetic) Next(ctx context.Context, max int) (post.Batch, error) {
	if s.cfg.Limit > 0 {
		max = int(min(int64(max), s.cfg.Limit-s.n))
		if max <= 0 {
			return post.Batch{}, io.EOF
		}
	}
	for {
		n, wait := s.pace.allow(max)
		if n > 0 {
			b := post.Batch{Items: make([]*post.Item, n)}
			for i := range b.Items {
				p := s.Post()
				p.IngestedAt = time.Now().UTC()
				b.Items[i] = &post.Item{Post: p}
			}
			return b, nil
		}
		if !stream.Sleep(ctx, wait) {
			return post.Batch{}, ctx.Err()
		}
	}
}

func pick(rng *rand.Rand, cum []int) int {
	x := rng.IntN(cum[len(cum)-1])
	for i, c := range cum {
		if x < c {
			return i
		}
	}
	return len(cum) - 1
}

func one(rng *rand.Rand, xs []string) string { return xs[rng.IntN(len(xs))] }

// Post generates the next post. Its ingested_at is its created_at (the
// schedule), so that generated posts are reproducible; Next stamps the clock.
func (s *Synthetic) Post() *post.Post {
	rng := s.rng
	s.n++
	id := strconv.FormatUint(s.cfg.Seed, 36) + "-" + strconv.FormatInt(s.n, 36)
	lang := languages[pick(rng, s.langW)]
	pl := lang.places[rng.IntN(len(lang.places))]
	p := &post.Post{
		Platform: "synthetic",
		ID:       id,
		Author: post.Author{
			ID:        "u" + strconv.Itoa(rng.IntN(200_000)),
			Followers: int64(math.Min(30*math.Pow(1/(1-rng.Float64()*0.99999), 1.3), 5e7)),
			Location:  pl.location,
			Verified:  rng.IntN(200) == 0,
		},
		CreatedAt: s.start.Add(time.Duration(s.n) * s.step),
		Lang:      lang.code,
	}
	p.Author.Handle = "user" + p.Author.ID[1:]
	// Deletes and crises draw from the generator only when configured, so
	// without them the stream is the one every earlier seed produced.
	if s.cfg.DeleteRate > 0 {
		if len(s.ids) > 0 && rng.Float64() < s.cfg.DeleteRate {
			i := rng.IntN(len(s.ids))
			p.Kind, p.ID, p.Author, p.Lang, p.Country = post.KindDelete, s.ids[i], post.Author{}, "", ""
			s.ids[i] = s.ids[len(s.ids)-1]
			s.ids = s.ids[:len(s.ids)-1]
			p.IngestedAt = p.CreatedAt
			return p
		}
		if len(s.ids) < 256 {
			s.ids = append(s.ids, id)
		} else {
			s.ids[rng.IntN(len(s.ids))] = id
		}
	}
	crisis := -1
	if len(s.cfg.Crises) > 0 {
		if b, share := s.crisisAt(p.CreatedAt); b >= 0 && rng.Float64() < share {
			crisis = b
		}
	}
	if pl.country != "" && rng.IntN(10) < 6 {
		p.Country = pl.country
	}

	// A few percent of posts repost a recent brand post word for word.
	if crisis < 0 && len(s.recent) > 0 && rng.IntN(100) < 3 {
		r := s.recent[rng.IntN(len(s.recent))]
		p.Text, p.Lang, p.RepostOf = r.text, r.lang, "synthetic:"+r.id
		p.IngestedAt = p.CreatedAt
		return p
	}

	sb := &s.sb
	sb.Reset()
	brand := ""
	if crisis >= 0 {
		brand = brands[crisis].name
		expand(sb, one(rng, lang.neg), brand, one(rng, lang.products))
	} else if rng.Float64() < s.cfg.BrandRate {
		brand = brands[pick(rng, s.brandW)].name
		var tmpl string
		switch x := rng.IntN(100); {
		case x < 40:
			tmpl = one(rng, lang.neg)
		case x < 70:
			tmpl = one(rng, lang.pos)
		case x < 95:
			tmpl = one(rng, lang.neu)
		default:
			tmpl = one(rng, lang.job)
		}
		if rng.IntN(3) == 0 {
			sb.WriteString(one(rng, lang.fillers))
			sb.WriteString(". ")
		}
		expand(sb, tmpl, brand, one(rng, lang.products))
	} else {
		sb.WriteString(one(rng, lang.fillers))
		if rng.IntN(3) == 0 {
			sb.WriteString(", ")
			sb.WriteString(one(rng, lang.fillers))
		}
	}
	if rng.IntN(10) < 3 {
		sb.WriteByte(' ')
		sb.WriteString(one(rng, emoji))
	}
	if rng.IntN(10) < 2 {
		tag := one(rng, lang.tags)
		if brand != "" && rng.IntN(2) == 0 {
			tag = strings.ToLower(brand)
		}
		sb.WriteString(" #")
		sb.WriteString(tag)
		p.Hashtags = []string{tag}
	}
	if brand != "" && rng.IntN(10) < 2 {
		m := strings.ToLower(brand) + "_support"
		sb.WriteString(" @")
		sb.WriteString(m)
		p.Mentions = []string{m}
	}
	if rng.IntN(10) == 0 {
		u := "https://example.com/p/" + strconv.FormatInt(s.n, 36)
		sb.WriteByte(' ')
		sb.WriteString(u)
		p.URLs = []string{u}
	}
	p.Text = sb.String()
	p.IngestedAt = p.CreatedAt
	if brand != "" {
		// Until the ring is full the new post goes at its end: a random slot
		// could leave an empty entry that a later repost would copy.
		r := recent{id: id, text: p.Text, lang: p.Lang}
		if len(s.recent) < 64 {
			s.recent = append(s.recent, r)
		} else {
			s.recent[rng.IntN(len(s.recent))] = r
		}
	}
	return p
}

// expand writes tmpl with {b} and {p} replaced.
func expand(sb *strings.Builder, tmpl, brand, product string) {
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 || i+2 >= len(tmpl) {
			sb.WriteString(tmpl)
			return
		}
		sb.WriteString(tmpl[:i])
		switch tmpl[i+1] {
		case 'b':
			sb.WriteString(brand)
		case 'p':
			sb.WriteString(product)
		}
		tmpl = tmpl[i+3:]
	}
}
