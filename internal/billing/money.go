package billing

import (
	"fmt"
	"math/bits"
	"strings"
	"time"
)

// Amount is money: an amount in integer minor units (cents, paisa) of an ISO 4217
// currency. Every amount billing stores or shows carries its currency.
type Amount struct {
	Amount   int64  `json:"amount" doc:"Minor units of currency (cents, paisa); credits are negative."`
	Currency string `json:"currency" doc:"ISO 4217 code, like USD or PKR."`
}

// minorDigits is how many minor-unit digits each accepted currency has
// (ISO 4217). Plans may only be priced in these.
var minorDigits = map[string]int{
	"USD": 2, "PKR": 2, "EUR": 2, "GBP": 2, "AED": 2, "SAR": 2, "INR": 2, "CAD": 2, "AUD": 2, "JPY": 0,
}

// knownCurrency reports whether code is a currency plans may be priced in.
func knownCurrency(code string) bool { _, ok := minorDigits[code]; return ok }

// String formats m for people: "USD 15.48", "JPY 1200", "-USD 9.81".
func (m Amount) String() string {
	digits := minorDigits[m.Currency]
	sign, a := "", m.Amount
	if a < 0 {
		sign, a = "-", -a
	}
	if digits == 0 {
		return fmt.Sprintf("%s%s %d", sign, m.Currency, a)
	}
	unit := int64(1)
	for range digits {
		unit *= 10
	}
	major := fmt.Sprintf("%d", a/unit)
	// Thousands separators for the major part.
	var sb strings.Builder
	for i, r := range major {
		if i > 0 && (len(major)-i)%3 == 0 {
			sb.WriteByte(',')
		}
		sb.WriteRune(r)
	}
	return fmt.Sprintf("%s%s %s.%0*d", sign, m.Currency, sb.String(), digits, a%unit)
}

// The rounding rule, the only one in billing: an amount that is a fraction
// of another (a prorated price, a projected usage) is computed exactly in
// integers and rounded once, half up (0.5 minor units goes up), per line.
// Sums are of already rounded lines, so an invoice's total is always the
// sum of its lines as printed. Amounts that are whole multiples (a plan's
// price, minutes × a per-minute rate) need no rounding.

// mulDivHalfUp returns a × num / den rounded half up, for a, num ≥ 0 and
// den > 0, exactly (128-bit intermediate): price × remaining days / days
// in the period, or seconds × period length / elapsed time.
func mulDivHalfUp(a, num, den int64) int64 {
	if a < 0 || num < 0 || den <= 0 {
		panic("billing: mulDivHalfUp wants a, num >= 0 and den > 0")
	}
	hi, lo := bits.Mul64(uint64(a), uint64(num))
	q, r := bits.Div64(hi, lo, uint64(den)) // hi < den unless the quotient overflows: callers stay far below
	if r >= uint64(den)-r {                 // r ≥ den/2, without overflow
		q++
	}
	return int64(q)
}

// ceilDiv returns ⌈a / b⌉ for a ≥ 0, b > 0.
func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// billedMinutes is the rule for usage: a period's finished calls are summed
// in seconds, and the sum is billed in whole minutes, rounded up.
func billedMinutes(seconds int64) int64 { return ceilDiv(max(seconds, 0), 60) }

// day is the unit of proration.
const day = 24 * time.Hour

// addMonths returns anchor moved m months on, on the anchor's day of the
// month or the month's last day when it is shorter (Jan 31 → Feb 28 → Mar
// 31), as Stripe's billing cycle anchor does. Always from the anchor, never
// chained, so a short month does not pull later periods earlier.
func addMonths(anchor time.Time, m int) time.Time {
	y, mo, d := anchor.Date()
	first := time.Date(y, mo+time.Month(m), 1, anchor.Hour(), anchor.Minute(), anchor.Second(), anchor.Nanosecond(), anchor.Location())
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// intervalMonths is the length of a billing interval in months.
func intervalMonths(interval string) int {
	if interval == IntervalYear {
		return 12
	}
	return 1
}

// periodOf returns the cycle'th period after anchor for an interval.
func periodOf(anchor time.Time, interval string, cycle int) (start, end time.Time) {
	k := intervalMonths(interval)
	return addMonths(anchor, cycle*k), addMonths(anchor, (cycle+1)*k)
}

// startOfDay is the UTC midnight that begins t's day: periods and
// proration count whole UTC days.
func startOfDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Proration is what changing plans on a given day is worth, to the day:
// the unused Days of the period on the old plan come back as a credit and
// the same days on the new plan are charged. The day of the change counts
// as used on the new plan.
type Proration struct {
	Days       int64 // days left in the period, the change's day included
	PeriodDays int64 // days in the whole period
	Credit     int64 // minor units, ≥ 0: old price × Days / PeriodDays
	Charge     int64 // minor units, ≥ 0: new price × Days / PeriodDays
}

// Total is what the change invoices: Charge − Credit.
func (p Proration) Total() int64 { return p.Charge - p.Credit }

// prorate computes the proration of moving from oldPrice to newPrice on
// the day of at, within the period [start, end). Each of credit and charge
// is rounded half up on its own (the rounding rule above).
func prorate(oldPrice, newPrice int64, start, end, at time.Time) Proration {
	periodDays := int64(end.Sub(start) / day)
	days := int64(end.Sub(startOfDay(at)) / day)
	days = min(max(days, 0), periodDays)
	return Proration{Days: days, PeriodDays: periodDays,
		Credit: mulDivHalfUp(oldPrice, days, periodDays), Charge: mulDivHalfUp(newPrice, days, periodDays)}
}
