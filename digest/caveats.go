package digest

// Caveats are what a reader must know about the signals a digest shows,
// from the model cards in docs/enrichment.md (kept in step with them by
// hand: change both together).
func (r *Report) Caveats() []string {
	out := []string{
		"Mentions count a post once per watchlist it matched; a post its author deleted is left out of every figure, here and in earlier digests re-rendered.",
	}
	if r.Has(SectionVolume) {
		out = append(out, "Sentiment is a model's label (sentiment-4, docs/enrichment.md): about 7 in 10 right on English tweets (accuracy 0.69 on TweetEval, majority class 0.43), 0.53 to 0.69 on three-class tweets in the other languages measured, at chance on romanised Hindi; the model abstains on about 5% of posts, which count in mentions only (\"unlabelled\"). Net sentiment is (positive - negative) / mentions.")
	}
	if len(r.Scope.Intents) > 0 {
		out = append(out, "Intents are a model's tags (docs/enrichment.md): 78% of posts get exactly the right set on the project's test posts (always \"complaint\": 30%), complaint F1 0.88, product feedback F1 0.86 on 11 posts; rare intents are measured on too few posts to be more than anecdotes.")
	}
	if len(r.Scope.Regions) > 0 {
		out = append(out, "Regions come from a post's place, its author's profile location or its language, in that order; they are not measured against labelled data, and a post with no clue has no region and is outside a region scope.")
	}
	if r.Has(SectionTerms) || r.Has(SectionThemes) || r.Has(SectionSpikes) {
		out = append(out, "Terms are the watchlist keywords that matched (exact, not a model); emerging terms grew against the previous period of the same length.")
	}
	if r.Has(SectionSpikes) {
		out = append(out, "A spike is an hour with at least 3 times the watchlist's hourly average over the period and at least 10 mentions; its why is the hour's terms against the hour before.")
	}
	if r.Has(SectionPosts) {
		out = append(out, "Influence (0 to 100) is a rule of thumb, not a measurement: followers, engagement and verification, with Bluesky and Mastodon counts scaled by a guessed reach.")
	}
	if r.Has(SectionAlerts) {
		out = append(out, "Alerts are counted by creation time, retracted ones left out; SLA compliance is met / (met + breached) of the alerts with a first-response deadline, judged at the period's end; alerts carry no intents, so an intent filter does not apply to them.")
	}
	return out
}
