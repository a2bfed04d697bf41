package sink

import (
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/earshot-dev/earshot/post"
)

// Appending row by row boxes every value in an interface and converts it
// on its own; appending a whole column as a typed slice does neither, and
// is what lets the sink keep up with the server (see BENCHMARKS.md). The
// row-by-row appenders remain, to find the item when a column is refused.

// appendColumns appends each slice as the next column of b, in order.
func appendColumns(b driver.Batch, cols ...any) error {
	for i, c := range cols {
		var err error
		switch c := c.(type) {
		case [][]string:
			err = appendArrays(b.Column(i), c)
		case [][]uint32:
			err = appendArrays(b.Column(i), c)
		default:
			err = b.Column(i).Append(c)
		}
		if err != nil {
			return fmt.Errorf("appending column %d: %w", i, err)
		}
	}
	return nil
}

// appendArrays appends an Array column row by row: the driver appends a
// whole [][]T through reflection, element by element, but has a
// reflection-free path for a single []T.
func appendArrays[T any](c driver.BatchColumn, rows [][]T) error {
	for _, r := range rows {
		if err := c.AppendRow(r); err != nil {
			return err
		}
	}
	return nil
}

// postsColumns appends items to the posts and matches batches.
func postsColumns(now time.Time) func([]driver.Batch, []*post.Item) (int, error) {
	return func(bs []driver.Batch, items []*post.Item) (int, error) {
		n := len(items)
		var (
			key, platform, id, authorID, handle, location, text, lang        = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			replyTo, repostOf, quoteOf, country, region, label, regionSource = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			clusterID, source                                                = make([]string, n), make([]string, n)
			followers, likes, reposts, replies                               = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
			verified                                                         = make([]uint8, n)
			created, ingested, inserted                                      = make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
			urls, hashtags, mentions, watchlists, intents                    = make([][]string, n), make([][]string, n), make([][]string, n), make([][]string, n), make([][]string, n)
			sentiment, langConf, sentConf, regionConf, influence             = make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			clusterSize                                                      = make([]uint32, n)
			media                                                            = make([]uint16, n)
			emotion, market                                                  = make([]string, n), make([]string, n)
			emotionConf, ironyConf                                           = make([]float32, n), make([]float32, n)
			irony                                                            = make([]uint8, n)
		)
		m := 0
		for _, it := range items {
			m += len(it.Matches)
		}
		var (
			mKey, mWatchlist, mBrand, mTeam, mLang, mCountry, mRegion, mLabel = make([]string, m), make([]string, m), make([]string, m), make([]string, m), make([]string, m), make([]string, m), make([]string, m), make([]string, m)
			mVersion                                                          = make([]uint32, m)
			mKeywords, mTags, mIntents                                        = make([][]string, m), make([][]string, m), make([][]string, m)
			mCreated, mInserted                                               = make([]time.Time, m), make([]time.Time, m)
			mSentiment, mInfluence                                            = make([]float32, m), make([]float32, m)
			mStarts, mEnds                                                    = make([][]uint32, m), make([][]uint32, m)
			mEmotion, mMarket                                                 = make([]string, m), make([]string, m)
			mIrony                                                            = make([]uint8, m)
		)
		var empty post.Enrichment
		var noEng post.Engagement
		j := 0
		for i, it := range items {
			p, en, eng := it.Post, it.Enrichment, it.Post.Engagement
			if en == nil {
				en = &empty
			}
			if eng == nil {
				eng = &noEng
			}
			k := p.Key()
			key[i], platform[i], id[i], authorID[i], handle[i], location[i], text[i], lang[i] = k, p.Platform, p.ID, p.Author.ID, p.Author.Handle, p.Author.Location, p.Text, en.Lang
			replyTo[i], repostOf[i], quoteOf[i], country[i], region[i], label[i], regionSource[i] = p.ReplyTo, p.RepostOf, p.QuoteOf, en.Country, en.Region, en.SentimentLabel, en.RegionSource
			clusterID[i], source[i] = en.ClusterID, p.Source
			followers[i], likes[i], reposts[i], replies[i] = p.Author.Followers, eng.Likes, eng.Reposts, eng.Replies
			if p.Author.Verified {
				verified[i] = 1
			}
			created[i], ingested[i], inserted[i] = p.CreatedAt.UTC(), optTime(p.IngestedAt), now
			urls[i], hashtags[i], mentions[i], intents[i] = nonNil(p.URLs), nonNil(p.Hashtags), nonNil(p.Mentions), nonNil(en.Intents)
			wls := make([]string, len(it.Matches))
			sentiment[i], langConf[i], sentConf[i], regionConf[i], influence[i] = float32(en.Sentiment), float32(en.LangConfidence), float32(en.SentimentConfidence), float32(en.RegionConfidence), float32(en.Influence)
			clusterSize[i], media[i] = uint32(max(en.ClusterSize, 0)), uint16(min(max(p.Media, 0), 65535))
			emotion[i], emotionConf[i], irony[i], ironyConf[i] = en.Emotion, float32(en.EmotionConfidence), boolByte(en.Irony), float32(en.IronyConfidence)
			market[i] = en.Market
			for x, mt := range it.Matches {
				wls[x] = mt.Watchlist
				mKey[j], mWatchlist[j], mBrand[j], mTeam[j], mLang[j], mCountry[j], mRegion[j], mLabel[j] = k, mt.Watchlist, mt.Brand, mt.Team, en.Lang, en.Country, en.Region, en.SentimentLabel
				mVersion[j] = uint32(max(mt.Version, 0))
				mKeywords[j], mTags[j], mIntents[j] = nonNil(mt.Keywords), nonNil(mt.Tags), intents[i]
				mCreated[j], mInserted[j] = created[i], now
				mSentiment[j], mInfluence[j] = sentiment[i], influence[i]
				mEmotion[j], mIrony[j], mMarket[j] = emotion[i], irony[i], market[i]
				starts, ends := make([]uint32, len(mt.Spans)), make([]uint32, len(mt.Spans))
				for y, sp := range mt.Spans {
					starts[y], ends[y] = uint32(max(sp.Start, 0)), uint32(max(sp.End, 0))
				}
				mStarts[j], mEnds[j] = starts, ends
				j++
			}
			watchlists[i] = wls
		}
		// In the order of postColumns and matchColumns.
		err := appendColumns(bs[0], key, platform, id, authorID, handle, followers, location, verified, text, created, lang, urls, hashtags, mentions,
			replyTo, repostOf, quoteOf, country, region, sentiment, label, watchlists, ingested, inserted,
			langConf, sentConf, regionSource, regionConf, intents, influence, clusterID, clusterSize, media, likes, reposts, replies, source,
			emotion, emotionConf, irony, ironyConf, market)
		if err != nil {
			return 0, fmt.Errorf("posts: %w", err)
		}
		err = appendColumns(bs[1], mKey, mWatchlist, mVersion, mBrand, mTeam, mKeywords, mCreated, mLang, mCountry, mRegion, mSentiment, mLabel, mInserted,
			mTags, mStarts, mEnds, mIntents, mInfluence, mEmotion, mIrony, mMarket)
		if err != nil {
			return 0, fmt.Errorf("matches: %w", err)
		}
		return n + m, nil
	}
}

// volumeColumnsOf appends the volume items' rows to the volume_in batch.
func volumeColumnsOf(bs []driver.Batch, items []*post.Item) (int, error) {
	n := 0
	for _, it := range items {
		for _, c := range it.Volume.Cells {
			n += len(c.Posts)
		}
	}
	minute, platform, lang, hash := make([]time.Time, 0, n), make([]string, 0, n), make([]string, 0, n), make([]uint64, 0, n)
	for _, it := range items {
		for _, c := range it.Volume.Cells {
			m := c.Minute.UTC()
			for _, h := range c.Posts {
				minute, platform, lang, hash = append(minute, m), append(platform, c.Platform), append(lang, c.Lang), append(hash, h)
			}
		}
	}
	if err := appendColumns(bs[0], minute, platform, lang, hash); err != nil {
		return 0, fmt.Errorf("volume_in: %w", err)
	}
	return n, nil
}
