package billing

import (
	"testing"
	"time"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// The worked numbers of proration: Starter is 1900 (USD 19.00), Pro 4900
// (USD 49.00), the period 1 Mar – 1 Apr 2026 has 31 days.
func TestProrate(t *testing.T) {
	start, end := date(2026, 3, 1), date(2026, 4, 1)
	for _, tc := range []struct {
		name                 string
		at                   time.Time
		days, credit, charge int64
		total                int64
	}{
		// 16 Mar: 16 days left (16–31 Mar). Credit 1900×16/31 = 980.645 → 981;
		// charge 4900×16/31 = 2529.03 → 2529; total 2529 − 981 = 1548.
		{"mid-month upgrade 16 Mar: 16/31 days, credit 981, charge 2529, total 1548", date(2026, 3, 16).Add(15 * time.Hour), 16, 981, 2529, 1548},
		// 31 Mar, late evening: 1 day left. Credit 1900/31 = 61.29 → 61;
		// charge 4900/31 = 158.06 → 158; total 97.
		{"last-day upgrade 31 Mar: 1/31 days, credit 61, charge 158, total 97", date(2026, 3, 31).Add(23 * time.Hour), 1, 61, 158, 97},
		// 1 Mar: the whole period. Credit 1900, charge 4900, total 3000.
		{"first-day upgrade 1 Mar: 31/31 days, credit 1900, charge 4900, total 3000", date(2026, 3, 1), 31, 1900, 4900, 3000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := prorate(1900, 4900, start, end, tc.at)
			if p.Days != tc.days || p.PeriodDays != 31 || p.Credit != tc.credit || p.Charge != tc.charge || p.Total() != tc.total {
				t.Fatalf("got %+v total %d", p, p.Total())
			}
		})
	}
}

func TestMulDivHalfUp(t *testing.T) {
	for _, tc := range []struct{ a, num, den, want int64 }{
		{5, 1, 2, 3}, // 2.5 → 3: half goes up
		{3, 1, 2, 2}, // 1.5 → 2
		{1, 1, 3, 0}, // 0.33 → 0
		{2, 1, 3, 1}, // 0.67 → 1
		{1900, 16, 31, 981},
		{1 << 62, 4, 8, 1 << 61}, // no overflow in the product
	} {
		if got := mulDivHalfUp(tc.a, tc.num, tc.den); got != tc.want {
			t.Errorf("%d×%d/%d = %d, want %d", tc.a, tc.num, tc.den, got, tc.want)
		}
	}
}

func TestPeriodsKeepTheAnchorDay(t *testing.T) {
	anchor := date(2026, 1, 31)
	want := []time.Time{date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)}
	for i, w := range want {
		if start, _ := periodOf(anchor, IntervalMonth, i); !start.Equal(w) {
			t.Errorf("period %d starts %s, want %s", i, start, w)
		}
	}
	if _, end := periodOf(date(2024, 2, 29), IntervalYear, 0); !end.Equal(date(2025, 2, 28)) {
		t.Errorf("a year from 29 Feb 2024 ends %s", end)
	}
}

func TestAmountString(t *testing.T) {
	for _, tc := range []struct {
		m    Amount
		want string
	}{{Amount{1548, "USD"}, "USD 15.48"}, {Amount{-981, "USD"}, "-USD 9.81"}, {Amount{1390000, "PKR"}, "PKR 13,900.00"},
		{Amount{5, "USD"}, "USD 0.05"}, {Amount{1200, "JPY"}, "JPY 1200"}} {
		if got := tc.m.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.m, got, tc.want)
		}
	}
}

func TestBilledMinutesAndAlerts(t *testing.T) {
	if billedMinutes(0) != 0 || billedMinutes(1) != 1 || billedMinutes(60) != 1 || billedMinutes(61) != 2 {
		t.Fatal("minutes are seconds rounded up")
	}
	for _, tc := range []struct {
		minutes, included int64
		want              int
	}{{47, 60, 0}, {48, 60, 80}, {59, 60, 80}, {60, 60, 100}, {500, 60, 100}, {5, 0, 0}} {
		if got := alertLevel(tc.minutes, tc.included); got != tc.want {
			t.Errorf("%d of %d: %d, want %d", tc.minutes, tc.included, got, tc.want)
		}
	}
}
