package notify_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"callboard/internal/apitest"
	"callboard/internal/calls"
	"callboard/internal/storetest"
)

// BenchmarkCallsChanged is what notifications add to an ingest request of
// 1,000 finished calls of one user (SQLite): the settings lookup and the
// notifications' inserts, in one transaction after the calls committed.
func BenchmarkCallsChanged(b *testing.B) {
	db := storetest.SQLite(b)
	s := apitest.New(b, db)
	me := s.SignUp(b)
	events := make([]calls.CallEvent, 1000)
	for i := range events {
		events[i] = calls.CallEvent{CallID: int64(i + 1), UserID: me.UserID, ExternalID: fmt.Sprint(i),
			Created: true, Status: calls.StatusCompleted, At: time.Now()}
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		s.Notify.CallsChanged(ctx, events)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/batch")
}
