package account

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"callboard/internal/apperr"
	"callboard/internal/store"
)

// Theme is the dashboard's colour scheme.
type Theme string

// The themes.
const (
	ThemeLight Theme = "light"
	ThemeDark  Theme = "dark"
	ThemeAuto  Theme = "auto"
)

// Themes lists every Theme.
var Themes = []Theme{ThemeLight, ThemeDark, ThemeAuto}

// Schema documents the choices as an enum.
func (Theme) Schema(huma.Registry) *huma.Schema {
	return enumSchema(Themes, "Colour scheme; auto follows the device.")
}

// Language is a language the dashboard is translated into.
type Language string

// The languages.
const (
	LanguageEnglish Language = "en"
	LanguageUrdu    Language = "ur"
)

// Languages lists every Language (the web app has a message file for each).
var Languages = []Language{LanguageEnglish, LanguageUrdu}

// Schema documents the choices as an enum.
func (Language) Schema(huma.Registry) *huma.Schema {
	return enumSchema(Languages, "Dashboard language (BCP 47); ur is shown right-to-left.")
}

// DashboardLayout is how dense the dashboard home is.
type DashboardLayout string

// The layouts.
const (
	LayoutDefault  DashboardLayout = "default"
	LayoutCompact  DashboardLayout = "compact"
	LayoutDetailed DashboardLayout = "detailed"
)

// DashboardLayouts lists every DashboardLayout.
var DashboardLayouts = []DashboardLayout{LayoutDefault, LayoutCompact, LayoutDetailed}

// Schema documents the choices as an enum.
func (DashboardLayout) Schema(huma.Registry) *huma.Schema {
	return enumSchema(DashboardLayouts, "default: cards, chart and recent calls; compact: denser; detailed: per-agent table and more stats.")
}

// DateFormat is how dates are written, as a pattern of the web app.
type DateFormat string

// DateFormats lists every DateFormat; the first is the default.
var DateFormats = []DateFormat{"DD/MM/YYYY", "MM/DD/YYYY", "YYYY-MM-DD", "DD-MM-YYYY", "DD.MM.YYYY", "D MMM YYYY"}

// Schema documents the choices as an enum.
func (DateFormat) Schema(huma.Registry) *huma.Schema {
	return enumSchema(DateFormats, "How dates are written (DD day, MM month, MMM month name, YYYY year).")
}

// TimeFormat is a 12- or 24-hour clock.
type TimeFormat string

// The time formats.
const (
	Clock12h TimeFormat = "12h"
	Clock24h TimeFormat = "24h"
)

// TimeFormats lists every TimeFormat.
var TimeFormats = []TimeFormat{Clock12h, Clock24h}

// Schema documents the choices as an enum.
func (TimeFormat) Schema(huma.Registry) *huma.Schema {
	return enumSchema(TimeFormats, "12- or 24-hour clock.")
}

// WeekStart is the first day of a week in calendars and weekly figures.
type WeekStart string

// The week starts.
const (
	WeekStartsMonday   WeekStart = "monday"
	WeekStartsSaturday WeekStart = "saturday"
	WeekStartsSunday   WeekStart = "sunday"
)

// WeekStarts lists every WeekStart.
var WeekStarts = []WeekStart{WeekStartsMonday, WeekStartsSaturday, WeekStartsSunday}

// Schema documents the choices as an enum.
func (WeekStart) Schema(huma.Registry) *huma.Schema {
	return enumSchema(WeekStarts, "First day of the week.")
}

// WidgetID names a dashboard home widget.
type WidgetID string

// WidgetIDs is every widget the dashboard home knows, in default order. The
// web app's types are generated from the OpenAPI enum built from this list.
var WidgetIDs = []WidgetID{
	"call_stats", "trend", "recent_calls", "subscription", "billing_summary", "quick_stats", "agents", "notifications",
}

// Schema documents the known ids as an enum.
func (WidgetID) Schema(huma.Registry) *huma.Schema {
	return enumSchema(WidgetIDs, "A dashboard widget.")
}

// Widget is one dashboard widget and whether it is shown.
type Widget struct {
	ID      WidgetID `json:"id"`
	Visible bool     `json:"visible"`
}

// DefaultTimezone is the timezone of a user who never chose one.
const DefaultTimezone = "UTC"

const maxTimezoneLen = 64

// Preferences is how a user's dashboard looks and reads.
type Preferences struct {
	Theme           Theme           `json:"theme"`
	Language        Language        `json:"language"`
	DashboardLayout DashboardLayout `json:"dashboard_layout"`
	Timezone        string          `json:"timezone" doc:"IANA timezone; days, months and date filters are computed in it." example:"Asia/Karachi"`
	DateFormat      DateFormat      `json:"date_format"`
	TimeFormat      TimeFormat      `json:"time_format"`
	WeekStart       WeekStart       `json:"week_start"`
	Widgets         []Widget        `json:"widgets" doc:"Every known widget in display order."`
}

// DefaultPreferences is what a user has before changing anything.
func DefaultPreferences() Preferences {
	return Preferences{
		Theme: ThemeAuto, Language: LanguageEnglish, DashboardLayout: LayoutDefault, Timezone: DefaultTimezone,
		DateFormat: DateFormats[0], TimeFormat: Clock12h, WeekStart: WeekStartsMonday, Widgets: defaultWidgets(),
	}
}

func defaultWidgets() []Widget {
	ws := make([]Widget, len(WidgetIDs))
	for i, id := range WidgetIDs {
		ws[i] = Widget{ID: id, Visible: true}
	}
	return ws
}

// completeWidgets keeps the known widgets of ws in their order and appends,
// visible, any known widget ws does not mention: a widget added to the
// product later shows up for everyone, and one removed disappears.
func completeWidgets(ws []Widget) []Widget {
	out := make([]Widget, 0, len(WidgetIDs))
	seen := make(map[WidgetID]bool, len(WidgetIDs))
	for _, w := range ws {
		if slices.Contains(WidgetIDs, w.ID) && !seen[w.ID] {
			seen[w.ID] = true
			out = append(out, w)
		}
	}
	for _, id := range WidgetIDs {
		if !seen[id] {
			out = append(out, Widget{ID: id, Visible: true})
		}
	}
	return out
}

// PreferencesPatch is a JSON Merge Patch of Preferences: fields not sent are
// kept; null resets a field to its default. widgets replaces the whole list.
type PreferencesPatch struct {
	Theme           Optional[Theme]           `json:"theme,omitzero" nullable:"true"`
	Language        Optional[Language]        `json:"language,omitzero" nullable:"true"`
	DashboardLayout Optional[DashboardLayout] `json:"dashboard_layout,omitzero" nullable:"true"`
	Timezone        Optional[string]          `json:"timezone,omitzero" nullable:"true" maxLength:"64" doc:"An IANA timezone such as Asia/Karachi." example:"Asia/Karachi"`
	DateFormat      Optional[DateFormat]      `json:"date_format,omitzero" nullable:"true"`
	TimeFormat      Optional[TimeFormat]      `json:"time_format,omitzero" nullable:"true"`
	WeekStart       Optional[WeekStart]       `json:"week_start,omitzero" nullable:"true"`
	Widgets         Optional[[]Widget]        `json:"widgets,omitzero" doc:"Widgets in display order, each id at most once; widgets left out follow, visible. null restores the default order."`
}

// validate names every bad field of p; on success it returns the timezone
// loaded (nil when p does not set one).
func (p PreferencesPatch) validate() (*time.Location, *apperr.Error) {
	var problems []apperr.FieldError
	checkChoice(&problems, "body.theme", p.Theme, Themes)
	checkChoice(&problems, "body.language", p.Language, Languages)
	checkChoice(&problems, "body.dashboard_layout", p.DashboardLayout, DashboardLayouts)
	checkChoice(&problems, "body.date_format", p.DateFormat, DateFormats)
	checkChoice(&problems, "body.time_format", p.TimeFormat, TimeFormats)
	checkChoice(&problems, "body.week_start", p.WeekStart, WeekStarts)
	var loc *time.Location
	if p.Timezone.present() {
		var err error
		if loc, err = loadZone(p.Timezone.Value); err != nil {
			problems = append(problems, apperr.FieldError{Location: "body.timezone",
				Message: "must be an IANA timezone such as Asia/Karachi or Europe/London", Value: p.Timezone.Value})
		}
	}
	if p.Widgets.present() {
		if len(p.Widgets.Value) > len(WidgetIDs) {
			problems = append(problems, apperr.FieldError{Location: "body.widgets",
				Message: fmt.Sprintf("must list at most %d widgets", len(WidgetIDs))})
		}
		seen := make(map[WidgetID]bool, len(p.Widgets.Value))
		for i, w := range p.Widgets.Value {
			loc := fmt.Sprintf("body.widgets[%d].id", i)
			switch {
			case !slices.Contains(WidgetIDs, w.ID):
				problems = append(problems, apperr.FieldError{Location: loc, Message: "must be one of " + joinQuoted(WidgetIDs), Value: string(w.ID)})
			case seen[w.ID]:
				problems = append(problems, apperr.FieldError{Location: loc, Message: "is listed more than once", Value: string(w.ID)})
			}
			seen[w.ID] = true
		}
	}
	if len(problems) > 0 {
		return nil, apperr.InvalidFields(problems...)
	}
	return loc, nil
}

// notZones are names time.LoadLocation accepts that are not places a user
// lives in: "Local" (the server's zone), "Factory" (tzdata's placeholder,
// abbreviated "-00") and "posixrules" (a template for POSIX TZ strings).
var notZones = []string{"Local", "Factory", "posixrules"}

// loadZone loads an IANA zone by name, refusing "", the names in notZones
// and anything that does not look like a zone name.
func loadZone(name string) (*time.Location, error) {
	if name == "" || slices.Contains(notZones, name) || len(name) > maxTimezoneLen || strings.ContainsFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '/' || r == '_' || r == '-' || r == '+')
	}) {
		return nil, errors.New("not a timezone name")
	}
	return time.LoadLocation(name)
}

// storedPreferences is a user_preferences row: nil is "never chosen".
type storedPreferences struct {
	theme      *Theme
	language   *Language
	layout     *DashboardLayout
	timezone   *string
	dateFormat *DateFormat
	timeFormat *TimeFormat
	weekStart  *WeekStart
	widgets    *[]Widget
}

func (st storedPreferences) effective() Preferences {
	d := DefaultPreferences()
	p := Preferences{
		Theme:           choiceOrDefault(st.theme, Themes, d.Theme),
		Language:        choiceOrDefault(st.language, Languages, d.Language),
		DashboardLayout: choiceOrDefault(st.layout, DashboardLayouts, d.DashboardLayout),
		Timezone:        orDefault(st.timezone, d.Timezone),
		DateFormat:      choiceOrDefault(st.dateFormat, DateFormats, d.DateFormat),
		TimeFormat:      choiceOrDefault(st.timeFormat, TimeFormats, d.TimeFormat),
		WeekStart:       choiceOrDefault(st.weekStart, WeekStarts, d.WeekStart),
		Widgets:         d.Widgets,
	}
	if st.widgets != nil {
		p.Widgets = completeWidgets(*st.widgets)
	}
	return p
}

func (st storedPreferences) apply(p PreferencesPatch) storedPreferences {
	st.theme = pick(st.theme, p.Theme)
	st.language = pick(st.language, p.Language)
	st.layout = pick(st.layout, p.DashboardLayout)
	st.timezone = pick(st.timezone, p.Timezone)
	st.dateFormat = pick(st.dateFormat, p.DateFormat)
	st.timeFormat = pick(st.timeFormat, p.TimeFormat)
	st.weekStart = pick(st.weekStart, p.WeekStart)
	st.widgets = pick(st.widgets, p.Widgets)
	return st
}

const preferencesColumns = `theme, language, dashboard_layout, timezone, date_format, time_format, week_start, widgets`

func scanPreferences(row *sql.Row) (storedPreferences, error) {
	var (
		st                                                                       storedPreferences
		theme, language, layout, timezone, dateFormat, timeFormat, weekStart, ws sql.NullString
	)
	err := row.Scan(&theme, &language, &layout, &timezone, &dateFormat, &timeFormat, &weekStart, &ws)
	if errors.Is(err, sql.ErrNoRows) {
		return storedPreferences{}, nil
	}
	if err != nil {
		return storedPreferences{}, err
	}
	st.theme = nullString[Theme](theme)
	st.language = nullString[Language](language)
	st.layout = nullString[DashboardLayout](layout)
	st.timezone = nullString[string](timezone)
	st.dateFormat = nullString[DateFormat](dateFormat)
	st.timeFormat = nullString[TimeFormat](timeFormat)
	st.weekStart = nullString[WeekStart](weekStart)
	if ws.Valid {
		var widgets []Widget
		if err := json.Unmarshal([]byte(ws.String), &widgets); err != nil {
			return storedPreferences{}, fmt.Errorf("decode widgets: %w", err)
		}
		st.widgets = &widgets
	}
	return st, nil
}

// Preferences returns a user's preferences, defaults filled in.
func (s *Service) Preferences(ctx context.Context, userID int64) (Preferences, error) {
	st, err := s.storedPreferences(ctx, userID)
	if err != nil {
		return Preferences{}, err
	}
	return st.effective(), nil
}

func (s *Service) storedPreferences(ctx context.Context, userID int64) (storedPreferences, error) {
	st, err := scanPreferences(s.db.Read().QueryRowContext(ctx,
		`SELECT `+preferencesColumns+` FROM user_preferences WHERE user_id = $1`, userID))
	if err != nil {
		return storedPreferences{}, fmt.Errorf("load preferences: %w", err)
	}
	return st, nil
}

// UpdatePreferences applies a merge patch to a user's preferences and
// returns the result. Nothing is stored unless every field is valid. When
// the effective timezone changed, Config.TimezoneChanges is told after the commit.
// Errors: Invalid naming each bad field; NotFound when the user is gone.
func (s *Service) UpdatePreferences(ctx context.Context, userID int64, p PreferencesPatch) (Preferences, error) {
	if _, err := p.validate(); err != nil {
		return Preferences{}, err
	}
	var before, after Preferences
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.ensureRow(ctx, tx, "user_preferences", userID); err != nil {
			return err
		}
		st, err := scanPreferences(tx.QueryRowContext(ctx,
			`SELECT `+preferencesColumns+` FROM user_preferences WHERE user_id = $1`+s.forUpdate(), userID))
		if err != nil {
			return fmt.Errorf("load preferences: %w", err)
		}
		before = st.effective()
		st = st.apply(p)
		var widgets *string
		if st.widgets != nil {
			raw, err := json.Marshal(*st.widgets)
			if err != nil {
				return fmt.Errorf("encode widgets: %w", err)
			}
			w := string(raw)
			widgets = &w
		}
		_, err = tx.ExecContext(ctx, `UPDATE user_preferences SET theme = $1, language = $2, dashboard_layout = $3,
			timezone = $4, date_format = $5, time_format = $6, week_start = $7, widgets = $8, updated_at = $9
			WHERE user_id = $10`,
			(*string)(st.theme), (*string)(st.language), (*string)(st.layout), st.timezone, (*string)(st.dateFormat),
			(*string)(st.timeFormat), (*string)(st.weekStart), widgets, store.Millis(s.now()), userID)
		if err != nil {
			return fmt.Errorf("update preferences: %w", err)
		}
		after = st.effective()
		return nil
	})
	if err != nil {
		return Preferences{}, err
	}
	if after.Timezone != before.Timezone && s.tzObs != nil {
		s.tzObs.TimezoneChanged(ctx, userID, s.zone(after.Timezone))
	}
	return after, nil
}

// Location is the user's timezone preference, for computing days and months
// in the user's time. It is UTC when the user never chose one (or chose a
// zone the embedded database no longer knows).
func (s *Service) Location(ctx context.Context, userID int64) (*time.Location, error) {
	var tz sql.NullString
	err := s.db.Read().QueryRowContext(ctx, `SELECT timezone FROM user_preferences WHERE user_id = $1`, userID).Scan(&tz)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("load timezone: %w", err)
	}
	if !tz.Valid {
		return time.UTC, nil
	}
	return s.zone(tz.String), nil
}
