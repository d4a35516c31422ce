package billing

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"callboard/internal/apperr"
	"callboard/internal/store"
)

// NewPlan is a plan the operator adds to the catalogue.
type NewPlan struct {
	Code             string
	Name             string
	Description      string
	Price            Amount
	Interval         string
	IncludedMinutes  int64
	OveragePerMinute int64 // minor units of Price.Currency
	MaxAgents        int64
	Features         []string
}

var planCode = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)

// check validates np; each bad field is named.
func (np *NewPlan) check() error {
	var bad []apperr.FieldError
	np.Code, np.Name, np.Description = strings.TrimSpace(np.Code), strings.TrimSpace(np.Name), strings.TrimSpace(np.Description)
	np.Price.Currency = strings.ToUpper(strings.TrimSpace(np.Price.Currency))
	if !planCode.MatchString(np.Code) {
		bad = append(bad, apperr.FieldError{Location: "code", Message: "must be 1–40 lowercase letters, digits or dashes"})
	}
	if n := utf8.RuneCountInString(np.Name); n == 0 || n > 100 {
		bad = append(bad, apperr.FieldError{Location: "name", Message: "must be 1–100 characters"})
	}
	if utf8.RuneCountInString(np.Description) > 500 {
		bad = append(bad, apperr.FieldError{Location: "description", Message: "must be at most 500 characters"})
	}
	if !knownCurrency(np.Price.Currency) {
		bad = append(bad, apperr.FieldError{Location: "currency", Message: "must be an ISO 4217 code billing knows (USD, PKR, EUR, GBP, AED, SAR, INR, CAD, AUD, JPY)"})
	}
	if np.Price.Amount < 0 || np.Price.Amount > 1e12 {
		bad = append(bad, apperr.FieldError{Location: "price", Message: "must be 0 to 10^12 minor units"})
	}
	if np.Interval != IntervalMonth && np.Interval != IntervalYear {
		bad = append(bad, apperr.FieldError{Location: "interval", Message: "must be month or year"})
	}
	if np.IncludedMinutes < 0 || np.IncludedMinutes > 1e9 {
		bad = append(bad, apperr.FieldError{Location: "included-minutes", Message: "must be 0 to 10^9"})
	}
	if np.OveragePerMinute < 0 || np.OveragePerMinute > 1e9 {
		bad = append(bad, apperr.FieldError{Location: "overage", Message: "must be 0 to 10^9 minor units"})
	}
	if np.MaxAgents < 0 || np.MaxAgents > 1e6 {
		bad = append(bad, apperr.FieldError{Location: "max-agents", Message: "must be 0 to 10^6"})
	}
	if len(np.Features) > 20 {
		bad = append(bad, apperr.FieldError{Location: "feature", Message: "at most 20 features"})
	}
	for _, f := range np.Features {
		if n := utf8.RuneCountInString(strings.TrimSpace(f)); n == 0 || n > 200 {
			bad = append(bad, apperr.FieldError{Location: "feature", Message: "each feature must be 1–200 characters"})
			break
		}
	}
	if len(bad) > 0 {
		return apperr.InvalidFields(bad...)
	}
	return nil
}

// CreatePlan adds an active plan. Errors: Invalid naming each bad field;
// Conflict when the code is taken.
func (s *Service) CreatePlan(ctx context.Context, np NewPlan) (Plan, error) {
	if err := np.check(); err != nil {
		return Plan{}, err
	}
	if np.Features == nil {
		np.Features = []string{}
	}
	features, _ := json.Marshal(np.Features)
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO plans (code, name, description, price_amount, currency, billing_interval,
			included_minutes, overage_amount, max_agents, features, active, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, TRUE, $11)`,
			np.Code, np.Name, np.Description, np.Price.Amount, np.Price.Currency, np.Interval, np.IncludedMinutes,
			np.OveragePerMinute, np.MaxAgents, string(features), store.Millis(s.now()))
		if store.IsUniqueViolation(err) {
			return apperr.Conflict(fmt.Sprintf("a plan with code %q exists", np.Code))
		}
		return err
	})
	if err != nil {
		return Plan{}, err
	}
	return s.planByCode(ctx, s.db.Read(), np.Code)
}

// Plans lists the catalogue by currency and price; archived plans only
// when withArchived.
func (s *Service) Plans(ctx context.Context, withArchived bool) ([]Plan, error) {
	var plans []Plan
	rows, err := s.db.Read().QueryContext(ctx, `SELECT `+planColumns+` FROM plans p
		WHERE p.active = TRUE OR $1 ORDER BY p.currency, p.price_amount, p.id`, withArchived)
	err = store.EachRow(rows, err, func(r *sql.Rows) error {
		var p Plan
		err := scanPlan(r, &p)
		plans = append(plans, p)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list plans: %w", err)
	}
	return plans, nil
}

// ArchivePlan takes a plan out of the catalogue: nobody can choose it any
// more, and its subscribers keep it (and are billed for it) until they
// change. Errors: NotFound; Conflict when it is already archived or is the
// plan new users start on.
func (s *Service) ArchivePlan(ctx context.Context, code string) (Plan, error) {
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		p, err := s.planByCode(ctx, tx, code)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.NotFound("plan " + code)
		}
		if err != nil {
			return err
		}
		if !p.Active {
			return apperr.Conflict(fmt.Sprintf("plan %s is already archived", code))
		}
		if def, err := s.defaultPlan(ctx, tx); err == nil && def.ID == p.ID {
			var others int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM plans WHERE active = TRUE AND price_amount = 0 AND currency = $1 AND id <> $2`,
				p.Price.Currency, p.ID).Scan(&others); err != nil {
				return err
			}
			if others == 0 {
				return apperr.Conflict(fmt.Sprintf("plan %s is the free plan new users start on; create another free %s plan first", code, s.currency))
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE plans SET active = FALSE WHERE id = $1`, p.ID)
		return err
	})
	if err != nil {
		return Plan{}, err
	}
	return s.planByCode(ctx, s.db.Read(), code)
}
