package httpapi

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// deadlineRecorder is a ResponseWriter whose connection takes write
// deadlines (as http.ResponseController finds them), recording each.
type deadlineRecorder struct {
	*httptest.ResponseRecorder
	events []string
	last   time.Time
}

func (d *deadlineRecorder) SetWriteDeadline(t time.Time) error {
	d.events, d.last = append(d.events, "deadline"), t
	return nil
}

func (d *deadlineRecorder) Write(b []byte) (int, error) {
	if time.Until(d.last) <= 0 || time.Until(d.last) > time.Minute {
		d.events = append(d.events, "write without a fresh deadline")
	}
	d.events = append(d.events, "write")
	return d.ResponseRecorder.Write(b)
}

func (d *deadlineRecorder) Flush() {
	d.events = append(d.events, "flush")
	d.ResponseRecorder.Flush()
}

// Each write and flush of an answer (a streamed one too) is preceded by a
// fresh write deadline, so a client that stops reading cannot hold the
// handler for ever.
func TestEveryWriteHasADeadline(t *testing.T) {
	h := observe(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 3 {
			_, _ = w.Write([]byte("row\n"))
			http.NewResponseController(w).Flush()
		}
	}), newMetrics(prometheus.NewRegistry()), 5*time.Second)
	rec := &deadlineRecorder{ResponseRecorder: httptest.NewRecorder()}
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/export", nil))
	want := []string{"deadline", "write", "deadline", "flush", "deadline", "write", "deadline", "flush", "deadline", "write", "deadline", "flush", "deadline"}
	if len(rec.events) != len(want) {
		t.Fatalf("events %v, want %v", rec.events, want)
	}
	for i := range want {
		if rec.events[i] != want[i] {
			t.Fatalf("events %v, want %v", rec.events, want)
		}
	}
}
