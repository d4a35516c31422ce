package calls

import "time"

// The merge rules: how a platform report changes the stored call with the
// same external_id. They need no database: merge and checkMerged work on
// the stored call and the report alone, and merge_test.go tests them so.

// mergeRulesDoc states the merge rules for the OpenAPI description of the
// ingest operation, so a platform engineer can predict them.
const mergeRulesDoc = "**How a report changes a stored call** (calls are matched by `external_id`):\n\n" +
	"1. A new `external_id` creates a call; `user_id` or `user_email`, `direction`, `from_number`, `to_number`, `status` and `started_at` are then required.\n" +
	"2. Statuses only move forward: queued < ringing < in-progress < a finished status (completed, busy, failed, no-answer, canceled). " +
	"A lower-ranked status never replaces a higher one, and a finished status is final: a later report with another finished status does not change it.\n" +
	"3. Which report wins for each field: a report whose status is at least as far as the stored one (a higher rank, or exactly the same status) " +
	"overwrites every field it carries. A stale report (a lower rank, or a different finished status after the call finished) only fills fields that are still empty, " +
	"so a late `ringing` report undoes nothing, while a `summary` sent after completion still lands.\n" +
	"4. Fields a report leaves out, or sends as `null`, keep their stored value: no report erases a field.\n" +
	"5. The agent follows rule 3: a report's `agent` becomes the call's agent when the report is not stale, or when the call has none yet; " +
	"its `name` and `voice` update the agent whenever they differ.\n" +
	"6. After merging, `answered_at` and `ended_at` must not be before `started_at`, nor `ended_at` before `answered_at`; otherwise the report is refused for that call.\n" +
	"7. Sending the same report again changes nothing: its result is `unchanged`.\n" +
	"8. A call belongs to one user for good: a report naming another user for a known `external_id` is refused for that call."

// merge applies report p to the stored call old (nil when new) by the
// merge rules. useAgent says whether the report's agent (if any) becomes
// the call's agent.
func merge(old *Call, p *parsedCall, userID int64, now time.Time) (next Call, useAgent bool) {
	fresh := true
	if old != nil {
		next = *old
		fresh = p.status.rank() > old.Status.rank() || p.status == old.Status
		if p.status.rank() > old.Status.rank() {
			next.Status = p.status
		}
	} else {
		next = Call{UserID: userID, ExternalID: p.externalID, Status: p.status, CreatedAt: now}
	}
	str := func(dst *string, v *string) {
		if v != nil && (fresh || *dst == "") {
			*dst = *v
		}
	}
	tm := func(dst **time.Time, v *time.Time) {
		if v != nil && (fresh || *dst == nil) {
			t := *v
			*dst = &t
		}
	}
	num := func(dst *int, v *int) {
		if v != nil && (fresh || *dst == 0) {
			*dst = *v
		}
	}
	str(&next.Direction, p.direction)
	str(&next.FromNumber, p.fromNumber)
	str(&next.ToNumber, p.toNumber)
	if p.startedAt != nil && (fresh || next.StartedAt.IsZero()) {
		next.StartedAt = *p.startedAt
	}
	tm(&next.AnsweredAt, p.answeredAt)
	tm(&next.EndedAt, p.endedAt)
	num(&next.DurationSeconds, p.duration)
	num(&next.Satisfaction, p.satisfy)
	str(&next.Sentiment, p.sentiment)
	str(&next.EndReason, p.endReason)
	if p.cost != nil && (fresh || next.CostAmount == nil) {
		amount := p.cost.Amount
		next.CostAmount, next.CostCurrency = &amount, p.cost.Currency
	}
	str(&next.Summary, p.summary)
	str(&next.Transcript, p.transcript)
	str(&next.RecordingURL, p.recording)
	useAgent = p.agent != nil && (fresh || next.AgentID == nil)
	next.UpdatedAt = now
	return next, useAgent
}

// checkMerged records on p what makes the merge of p into old (nil when
// new), giving next, unacceptable: a new call missing a required field, or
// times out of order.
func checkMerged(old *Call, p *parsedCall, next *Call) {
	if old == nil {
		if p.direction == nil {
			p.fail("direction", "is required for a new call")
		}
		if p.fromNumber == nil {
			p.fail("from_number", "is required for a new call")
		}
		if p.toNumber == nil {
			p.fail("to_number", "is required for a new call")
		}
		if p.startedAt == nil {
			p.fail("started_at", "is required for a new call")
		}
	}
	if len(p.problems) > 0 {
		return
	}
	if next.AnsweredAt != nil && next.AnsweredAt.Before(next.StartedAt) {
		p.fail("answered_at", "must not be before started_at")
	}
	if next.EndedAt != nil && next.EndedAt.Before(next.StartedAt) {
		p.fail("ended_at", "must not be before started_at")
	}
	if next.EndedAt != nil && next.AnsweredAt != nil && next.EndedAt.Before(*next.AnsweredAt) {
		p.fail("ended_at", "must not be before answered_at")
	}
}

// sameCall reports whether a and b store the same values (ignoring when
// they were stored): a report that merges into sameCall is "unchanged".
func sameCall(a, b *Call) bool {
	eqTime := func(x, y *time.Time) bool { return (x == nil) == (y == nil) && (x == nil || x.Equal(*y)) }
	eqInt := func(x, y *int64) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return eqInt(a.AgentID, b.AgentID) && a.Direction == b.Direction && a.FromNumber == b.FromNumber &&
		a.ToNumber == b.ToNumber && a.Status == b.Status && a.StartedAt.Equal(b.StartedAt) &&
		eqTime(a.AnsweredAt, b.AnsweredAt) && eqTime(a.EndedAt, b.EndedAt) &&
		a.DurationSeconds == b.DurationSeconds && a.Satisfaction == b.Satisfaction &&
		a.Sentiment == b.Sentiment && a.EndReason == b.EndReason && eqInt(a.CostAmount, b.CostAmount) &&
		a.CostCurrency == b.CostCurrency && a.RecordingURL == b.RecordingURL &&
		a.Summary == b.Summary && a.Transcript == b.Transcript
}
