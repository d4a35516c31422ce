// Package demo makes realistic call data: the demo account ("callboard
// demo", "serve --demo") and the benchmark loader use it.
package demo

import (
	"fmt"
	"math/rand/v2"
	"time"

	"callboard/internal/calls"
)

// Agent is one of the demo's AI agents.
type Agent struct {
	ExternalID, Name, Voice string
}

// Agents are the demo business's AI agents.
var Agents = []Agent{
	{"agent-sales", "Sana · Sales", "alloy"},
	{"agent-support", "Bilal · Support", "echo"},
	{"agent-appointments", "Hina · Appointments", "shimmer"},
	{"agent-collections", "Omar · Collections", "onyx"},
	{"agent-reception", "Zara · Urdu reception", "nova"},
	{"agent-survey", "Ali · Surveys", "fable"},
}

// Generator makes calls with a fixed random sequence, so the same seed gives
// the same calls.
type Generator struct {
	rng  *rand.Rand
	seq  int
	tag  string
	zone *time.Location
}

// NewGenerator returns a generator seeded with seed; tag prefixes the
// external ids it makes (so several runs do not collide).
func NewGenerator(seed uint64, tag string) *Generator {
	zone, err := time.LoadLocation("Asia/Karachi")
	if err != nil {
		zone = time.FixedZone("PKT", 5*3600)
	}
	return &Generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), tag: tag, zone: zone}
}

var customerNames = []string{"Ahmed", "Fatima", "Usman", "Ayesha", "Hamza", "Maryam", "Imran", "Sadia", "Kashif", "Nida", "Faisal", "Rabia"}

var summaries = map[calls.Status][]string{
	calls.StatusCompleted: {
		"%s asked about bulk pricing for cotton lawn; agent shared the price list and booked a follow-up.",
		"%s confirmed delivery address in Lahore; order dispatched tomorrow.",
		"%s wanted to reschedule the appointment to Friday 4 pm; done.",
		"%s reported a damaged parcel; agent opened a replacement request.",
		"%s paid the outstanding invoice by JazzCash during the call.",
		"%s ne order ka status poocha; agent ne tracking number SMS kar diya.",
		"%s asked for Urdu support; call continued in Urdu, query resolved.",
		"%s completed the satisfaction survey and left positive feedback.",
	},
	calls.StatusFailed:   {"Call to %s dropped: network error on the carrier side."},
	calls.StatusNoAnswer: {"%s did not pick up."},
	calls.StatusBusy:     {"%s's line was busy."},
	calls.StatusCanceled: {"Call to %s canceled before it connected."},
}

var endReasons = map[calls.Status][]string{
	calls.StatusCompleted: {"customer-ended", "customer-ended", "agent-ended", "agent-ended", "transferred", "voicemail"},
	calls.StatusFailed:    {"error", "timeout"},
	calls.StatusNoAnswer:  {"no-answer"},
	calls.StatusBusy:      {"busy"},
	calls.StatusCanceled:  {"customer-ended"},
}

// status draws from a realistic mix: two in three calls complete.
func (g *Generator) status() calls.Status {
	switch r := g.rng.IntN(100); {
	case r < 68:
		return calls.StatusCompleted
	case r < 79:
		return calls.StatusNoAnswer
	case r < 87:
		return calls.StatusBusy
	case r < 94:
		return calls.StatusFailed
	default:
		return calls.StatusCanceled
	}
}

func (g *Generator) number() string {
	return fmt.Sprintf("+923%02d%07d", g.rng.IntN(50), g.rng.IntN(10_000_000))
}

func ptr[T any](v T) *T { return &v }

// Call makes one finished call of the user, started at started, handled by
// one of the first agents agents.
func (g *Generator) Call(userID int64, agents int, started time.Time) calls.IngestCall {
	g.seq++
	agent := Agents[g.rng.IntN(min(max(agents, 1), len(Agents)))]
	status := g.status()
	customer := customerNames[g.rng.IntN(len(customerNames))]
	business := "+924235761000"
	from, to, direction := g.number(), business, "inbound"
	if g.rng.IntN(5) < 2 {
		from, to, direction = business, g.number(), "outbound"
	}
	c := calls.IngestCall{
		ExternalID: fmt.Sprintf("%s-%d", g.tag, g.seq),
		UserID:     &userID,
		Agent:      &calls.IngestAgent{ExternalID: agent.ExternalID, Name: ptr(agent.Name), Voice: ptr(agent.Voice)},
		Direction:  &direction, FromNumber: &from, ToNumber: &to,
		Status:    string(status),
		StartedAt: ptr(started.UTC().Format(time.RFC3339)),
		EndReason: ptr(endReasons[status][g.rng.IntN(len(endReasons[status]))]),
	}
	summary := fmt.Sprintf(summaries[status][g.rng.IntN(len(summaries[status]))], customer)
	c.Summary = &summary
	ended := started.Add(time.Duration(5+g.rng.IntN(25)) * time.Second)
	if status == calls.StatusCompleted {
		answered := started.Add(time.Duration(3+g.rng.IntN(12)) * time.Second)
		// Durations: mostly one to five minutes, a long tail to fifteen.
		seconds := 30 + int(g.rng.ExpFloat64()*150)
		seconds = min(seconds, 900)
		ended = answered.Add(time.Duration(seconds) * time.Second)
		c.AnsweredAt = ptr(answered.UTC().Format(time.RFC3339))
		c.DurationSeconds = &seconds
		if g.rng.IntN(4) > 0 {
			score := []int{5, 5, 5, 4, 4, 4, 3, 2, 1}[g.rng.IntN(9)]
			c.Satisfaction = &score
		}
		c.Sentiment = ptr([]string{"positive", "positive", "neutral", "neutral", "negative"}[g.rng.IntN(5)])
		c.Cost = &calls.Money{Amount: int64(seconds) * 9 / 60, Currency: "USD"} // 9 cents a minute
		c.Transcript = ptr(fmt.Sprintf("Agent: Assalam-o-Alaikum, this is %s. How can I help?\nCustomer (%s): %s\nAgent: Certainly, let me check that for you.\nCustomer: Shukriya.\nAgent: You're welcome. Allah Hafiz.",
			agent.Name, customer, summary))
		c.RecordingURL = ptr(fmt.Sprintf("https://recordings.example.com/%s.mp3", c.ExternalID))
	}
	c.EndedAt = ptr(ended.UTC().Format(time.RFC3339))
	return c
}

// Day makes about perDay calls of the user on the Karachi day of t, during
// business hours (busier on weekdays, quiet on Sundays), never after until.
func (g *Generator) Day(userID int64, agents int, day time.Time, perDay int, until time.Time) []calls.IngestCall {
	y, m, d := day.In(g.zone).Date()
	n := perDay/2 + g.rng.IntN(perDay+1)
	if day.In(g.zone).Weekday() == time.Sunday {
		n /= 3
	}
	out := make([]calls.IngestCall, 0, n)
	for range n {
		started := time.Date(y, m, d, 9, 0, 0, 0, g.zone).Add(time.Duration(g.rng.IntN(12*3600)) * time.Second)
		if started.After(until) {
			continue
		}
		out = append(out, g.Call(userID, agents, started))
	}
	return out
}
