package notify

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"github.com/slack-go/slack"

	"github.com/earshot-dev/earshot/internal/redact"
	"github.com/earshot-dev/earshot/internal/retry"
)

// SlackAPIURL is Slack's Web API, the default url of a Slack channel with a
// bot token.
const SlackAPIURL = "https://slack.com/api/"

// A Slack channel with a bot token (token_env or token_file, and the
// channel's id) posts with chat.postMessage rather than an incoming webhook,
// and remembers each message's ts per alert id (as many as dedup_window), so
// that a retraction or a desk resolve updates the message it posted
// (chat.update: "Resolved: P1 alert in care", who resolved it) instead of
// posting another. An incoming webhook cannot update what it posted.

// slackRetryable are the Web API errors worth another try.
var slackRetryable = []string{"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}

// slackErr classes an error of slack-go's client for internal/retry.
func slackErr(err error) error {
	var rl *slack.RateLimitedError
	var sc slack.StatusCodeError
	var se slack.SlackErrorResponse
	switch {
	case err == nil:
		return nil
	case errors.As(err, &rl):
		// slack-go read Retry-After as seconds (a date is an error of its
		// own, and a number past time.Duration's range wraps): only a wait
		// of up to retry.MaxRetryAfter is a hint.
		if rl.RetryAfter > 0 && rl.RetryAfter <= retry.MaxRetryAfter {
			return retry.After{Err: err, Wait: rl.RetryAfter}
		}
		return err
	case errors.As(err, &sc):
		return retry.HTTPStatus(sc.Code)
	case errors.As(err, &se):
		if slices.Contains(slackRetryable, se.Err) {
			return fmt.Errorf("slack: %s", se.Err)
		}
		return retry.Permanent{Err: fmt.Errorf("slack: %s", se.Err)}
	}
	return redact.RequestError(err, "") // no URL: keep messages short and free of any query
}

// slackPost is one attempt at posting text and blocks with the bot; on
// success the message's ts is remembered for the alert id (when not "").
func (ch *channel) slackPost(id string, text string, blocks []slack.Block) func(context.Context) error {
	return func(ctx context.Context) error {
		opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
		if len(blocks) > 0 {
			opts = append(opts, slack.MsgOptionBlocks(blocks...))
		}
		_, ts, err := ch.bot.PostMessageContext(ctx, ch.slackChannel, opts...)
		if err != nil {
			return slackErr(err)
		}
		if id != "" && ts != "" {
			ch.mu.Lock()
			ch.posted.add(id, ts)
			ch.mu.Unlock()
		}
		return nil
	}
}

// slackUpdate is one attempt at replacing the message ts with text and
// blocks. A message deleted in Slack meanwhile has nothing left to close.
func (ch *channel) slackUpdate(ts, text string, blocks []slack.Block) func(context.Context) error {
	return func(ctx context.Context) error {
		_, _, _, err := ch.bot.UpdateMessageContext(ctx, ch.slackChannel, ts, slack.MsgOptionText(text, false), slack.MsgOptionBlocks(blocks...))
		var se slack.SlackErrorResponse
		if errors.As(err, &se) && se.Err == "message_not_found" {
			return nil
		}
		return slackErr(err)
	}
}

// updates reports whether the channel updates the message of an alert it
// closes, rather than posting a new one.
func (ch *channel) updates() bool { return ch.bot != nil }

// slackChannelID is the shape of a Slack conversation id.
var slackChannelID = regexp.MustCompile(`^[CGD][A-Z0-9]{6,20}$`)
