package calls

import (
	"slices"
	"testing"
	"time"
)

// The merge rules, tested on the stored call and the report alone: no
// database.

var (
	t0  = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	now = t0.Add(time.Hour)
)

func ptr[T any](v T) *T { return &v }

// stored is a call as it might be stored, in status st.
func stored(st Status) *Call {
	agent := int64(7)
	cost := int64(120)
	answered := t0.Add(5 * time.Second)
	return &Call{ID: 1, UserID: 42, AgentID: &agent, ExternalID: "ext-1", Direction: "inbound", FromNumber: "+923001234567",
		ToNumber: "+924235761000", Status: st, StartedAt: t0, AnsweredAt: &answered, DurationSeconds: 60,
		Sentiment: "neutral", EndReason: "customer-ended", CostAmount: &cost, CostCurrency: "USD",
		Summary: "first summary", CreatedAt: t0, UpdatedAt: t0}
}

func report(st Status) *parsedCall { return &parsedCall{externalID: "ext-1", status: st} }

func TestMergeRules(t *testing.T) {
	ended := t0.Add(2 * time.Minute)
	for _, tc := range []struct {
		name     string
		old      *Call
		p        *parsedCall
		check    func(t *testing.T, next Call, useAgent bool)
		problems []string // fields checkMerged refuses
	}{
		{
			name: "a new call takes every field of the report",
			p: func() *parsedCall {
				p := report(StatusRinging)
				p.direction, p.fromNumber, p.toNumber, p.startedAt = ptr("outbound"), ptr("+1"), ptr("+2"), &t0
				p.agent = &IngestAgent{ExternalID: "ag"}
				return p
			}(),
			check: func(t *testing.T, next Call, useAgent bool) {
				if next.UserID != 42 || next.Status != StatusRinging || next.Direction != "outbound" || !next.StartedAt.Equal(t0) ||
					!next.CreatedAt.Equal(now) || !next.UpdatedAt.Equal(now) || !useAgent {
					t.Fatalf("%+v useAgent=%v", next, useAgent)
				}
			},
		},
		{
			name: "a new call without its required fields is refused, naming each",
			p:    report(StatusQueued), problems: []string{"direction", "from_number", "to_number", "started_at"},
		},
		{
			name: "the status moves forward and a fresh report overwrites what it carries",
			old:  stored(StatusInProgress),
			p: func() *parsedCall {
				p := report(StatusCompleted)
				p.endedAt, p.duration, p.summary, p.sentiment = &ended, ptr(95), ptr("final summary"), ptr("positive")
				return p
			}(),
			check: func(t *testing.T, next Call, _ bool) {
				if next.Status != StatusCompleted || next.DurationSeconds != 95 || next.Summary != "final summary" ||
					next.Sentiment != "positive" || next.EndedAt == nil || !next.EndedAt.Equal(ended) {
					t.Fatalf("%+v", next)
				}
			},
		},
		{
			name: "a lower-ranked status never overrides a higher one, and a stale report fills only empty fields",
			old:  stored(StatusCompleted),
			p: func() *parsedCall {
				p := report(StatusRinging)
				p.summary, p.duration, p.transcript, p.satisfy = ptr("late summary"), ptr(1), ptr("late transcript"), ptr(4)
				p.agent = &IngestAgent{ExternalID: "other"}
				return p
			}(),
			check: func(t *testing.T, next Call, useAgent bool) {
				if next.Status != StatusCompleted || next.Summary != "first summary" || next.DurationSeconds != 60 {
					t.Fatalf("stale report overwrote: %+v", next)
				}
				if next.Transcript != "late transcript" || next.Satisfaction != 4 {
					t.Fatalf("stale report did not fill empty fields: %+v", next)
				}
				if useAgent {
					t.Fatal("a stale report replaced the call's agent")
				}
			},
		},
		{
			name: "a finished status is final: another finished status is stale",
			old:  stored(StatusCompleted),
			p: func() *parsedCall {
				p := report(StatusFailed)
				p.endReason = ptr("error")
				return p
			}(),
			check: func(t *testing.T, next Call, _ bool) {
				if next.Status != StatusCompleted || next.EndReason != "customer-ended" {
					t.Fatalf("%+v", next)
				}
			},
		},
		{
			name: "the same status again is fresh: it overwrites",
			old:  stored(StatusCompleted),
			p: func() *parsedCall {
				p := report(StatusCompleted)
				p.summary = ptr("corrected summary")
				p.cost = &Money{Amount: 99, Currency: "PKR"}
				return p
			}(),
			check: func(t *testing.T, next Call, _ bool) {
				if next.Summary != "corrected summary" || *next.CostAmount != 99 || next.CostCurrency != "PKR" {
					t.Fatalf("%+v", next)
				}
			},
		},
		{
			name: "omitted fields keep their value: nothing is erased",
			old:  stored(StatusInProgress),
			p:    report(StatusCompleted),
			check: func(t *testing.T, next Call, useAgent bool) {
				want := *stored(StatusInProgress)
				want.Status, want.UpdatedAt = StatusCompleted, now
				if !sameCall(&next, &want) || useAgent {
					t.Fatalf("got %+v, want %+v", next, want)
				}
			},
		},
		{
			name: "times out of order after merging are refused",
			old:  stored(StatusInProgress),
			p: func() *parsedCall {
				p := report(StatusCompleted)
				p.endedAt = ptr(t0.Add(time.Second)) // before the stored answered_at
				return p
			}(),
			problems: []string{"ended_at"},
		},
		{
			name: "ended before started (and so before answered) is refused",
			old:  stored(StatusInProgress),
			p: func() *parsedCall {
				p := report(StatusCompleted)
				p.endedAt = ptr(t0.Add(-time.Second))
				return p
			}(),
			problems: []string{"ended_at", "ended_at"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next, useAgent := merge(tc.old, tc.p, 42, now)
			checkMerged(tc.old, tc.p, &next)
			var got []string
			for _, pr := range tc.p.problems {
				got = append(got, pr.Location)
			}
			if !slices.Equal(got, tc.problems) {
				t.Fatalf("problems %v, want %v", got, tc.problems)
			}
			if tc.check != nil {
				tc.check(t, next, useAgent)
			}
		})
	}
}

func TestMergeSameReportIsUnchanged(t *testing.T) {
	old := stored(StatusCompleted)
	p := report(StatusCompleted)
	p.direction, p.fromNumber, p.summary, p.duration = ptr(old.Direction), ptr(old.FromNumber), ptr(old.Summary), ptr(old.DurationSeconds)
	next, _ := merge(old, p, old.UserID, now)
	if !sameCall(old, &next) {
		t.Fatalf("a repeated report changed the call: %+v", next)
	}
	p.summary = ptr("different")
	if next, _ := merge(old, p, old.UserID, now); sameCall(old, &next) {
		t.Fatal("a changed report was taken as unchanged")
	}
}

func TestStatusRanks(t *testing.T) {
	order := []Status{StatusQueued, StatusRinging, StatusInProgress, StatusCompleted}
	for i := 1; i < len(order); i++ {
		if order[i].rank() <= order[i-1].rank() {
			t.Fatalf("%s does not rank above %s", order[i], order[i-1])
		}
	}
	for _, st := range []Status{StatusCompleted, StatusBusy, StatusFailed, StatusNoAnswer, StatusCanceled} {
		if !st.Finished() || st.rank() != StatusCompleted.rank() {
			t.Fatalf("%s is not a finished status of the top rank", st)
		}
	}
	if Status("exploded").Valid() {
		t.Fatal("an unknown status is valid")
	}
}
