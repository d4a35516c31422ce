package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/danielgtaylor/huma/v2"

	"callboard/internal/apperr"
	"callboard/internal/store"
)

// ProfileVisibility says who may see a user's profile.
type ProfileVisibility string

// The profile visibilities.
const (
	VisibilityPublic  ProfileVisibility = "public"
	VisibilityPrivate ProfileVisibility = "private"
)

// ProfileVisibilities lists every ProfileVisibility.
var ProfileVisibilities = []ProfileVisibility{VisibilityPublic, VisibilityPrivate}

// Schema documents the choices as an enum.
func (ProfileVisibility) Schema(huma.Registry) *huma.Schema {
	return enumSchema(ProfileVisibilities, "Who may see your profile.")
}

// CallQuality is the audio quality the AI agents use on calls.
type CallQuality string

// The call qualities.
const (
	QualityStandard CallQuality = "standard"
	QualityHigh     CallQuality = "high"
	QualityHD       CallQuality = "hd"
)

// CallQualities lists every CallQuality.
var CallQualities = []CallQuality{QualityStandard, QualityHigh, QualityHD}

// Schema documents the choices as an enum.
func (CallQuality) Schema(huma.Registry) *huma.Schema {
	return enumSchema(CallQualities, "Audio quality of calls.")
}

// MaxAutoAnswerDelay bounds auto_answer_delay_seconds.
const MaxAutoAnswerDelay = 60

// Settings is a user's account settings, as stored and shown.
type Settings struct {
	Notifications NotificationSettings `json:"notifications"`
	Privacy       PrivacySettings      `json:"privacy"`
	Calls         CallSettings         `json:"calls"`
}

// NotificationSettings says which notifications a user receives.
type NotificationSettings struct {
	Email     bool `json:"email" doc:"Notifications by email."`
	SMS       bool `json:"sms" doc:"Notifications by SMS to your phone number."`
	Marketing bool `json:"marketing" doc:"Product news and offers."`
	Calls     bool `json:"calls" doc:"A notification when a call finishes."`
	Billing   bool `json:"billing" doc:"Invoices, payment problems and plan changes."`
}

// PrivacySettings is what a user shares.
type PrivacySettings struct {
	ProfileVisibility ProfileVisibility `json:"profile_visibility"`
	RecordingConsent  bool              `json:"recording_consent" doc:"Calls may be recorded and their recordings shown."`
}

// CallSettings is how the user's AI agents handle calls.
type CallSettings struct {
	AutoRecord             bool        `json:"auto_record" doc:"Record every call."`
	AIAssistance           bool        `json:"ai_assistance" doc:"Live AI assistance (summaries, suggestions)."`
	CallQuality            CallQuality `json:"call_quality"`
	NoiseCancellation      bool        `json:"noise_cancellation"`
	AutoAnswer             bool        `json:"auto_answer" doc:"Answer incoming calls automatically."`
	AutoAnswerDelaySeconds int         `json:"auto_answer_delay_seconds" minimum:"0" maximum:"60" doc:"Seconds of ringing before an automatic answer."`
}

// DefaultSettings is what a user has before changing anything: the useful
// notifications on, marketing off (opt-in), profile private, no recording
// without consent.
func DefaultSettings() Settings {
	return Settings{
		Notifications: NotificationSettings{Email: true, SMS: false, Marketing: false, Calls: true, Billing: true},
		Privacy:       PrivacySettings{ProfileVisibility: VisibilityPrivate, RecordingConsent: false},
		Calls: CallSettings{AutoRecord: false, AIAssistance: true, CallQuality: QualityHigh,
			NoiseCancellation: true, AutoAnswer: false, AutoAnswerDelaySeconds: 3},
	}
}

// SettingsPatch is a JSON Merge Patch of Settings: groups and fields not
// sent are kept; null resets a field, or a whole group, to its default.
type SettingsPatch struct {
	Notifications Optional[NotificationSettingsPatch] `json:"notifications,omitzero" doc:"null resets the group to its defaults."`
	Privacy       Optional[PrivacySettingsPatch]      `json:"privacy,omitzero" doc:"null resets the group to its defaults."`
	Calls         Optional[CallSettingsPatch]         `json:"calls,omitzero" doc:"null resets the group to its defaults."`
}

// NotificationSettingsPatch changes some notification settings.
type NotificationSettingsPatch struct {
	Email     Optional[bool] `json:"email,omitzero" nullable:"true"`
	SMS       Optional[bool] `json:"sms,omitzero" nullable:"true"`
	Marketing Optional[bool] `json:"marketing,omitzero" nullable:"true"`
	Calls     Optional[bool] `json:"calls,omitzero" nullable:"true"`
	Billing   Optional[bool] `json:"billing,omitzero" nullable:"true"`
}

// PrivacySettingsPatch changes some privacy settings.
type PrivacySettingsPatch struct {
	ProfileVisibility Optional[ProfileVisibility] `json:"profile_visibility,omitzero" nullable:"true"`
	RecordingConsent  Optional[bool]              `json:"recording_consent,omitzero" nullable:"true"`
}

// CallSettingsPatch changes some call settings.
type CallSettingsPatch struct {
	AutoRecord             Optional[bool]        `json:"auto_record,omitzero" nullable:"true"`
	AIAssistance           Optional[bool]        `json:"ai_assistance,omitzero" nullable:"true"`
	CallQuality            Optional[CallQuality] `json:"call_quality,omitzero" nullable:"true"`
	NoiseCancellation      Optional[bool]        `json:"noise_cancellation,omitzero" nullable:"true"`
	AutoAnswer             Optional[bool]        `json:"auto_answer,omitzero" nullable:"true"`
	AutoAnswerDelaySeconds Optional[int]         `json:"auto_answer_delay_seconds,omitzero" nullable:"true" minimum:"0" maximum:"60"`
}

// validate names every bad field of p.
func (p SettingsPatch) validate() *apperr.Error {
	var problems []apperr.FieldError
	if p.Privacy.present() {
		checkChoice(&problems, "body.privacy.profile_visibility", p.Privacy.Value.ProfileVisibility, ProfileVisibilities)
	}
	if p.Calls.present() {
		c := p.Calls.Value
		checkChoice(&problems, "body.calls.call_quality", c.CallQuality, CallQualities)
		if d := c.AutoAnswerDelaySeconds; d.present() && (d.Value < 0 || d.Value > MaxAutoAnswerDelay) {
			problems = append(problems, apperr.FieldError{Location: "body.calls.auto_answer_delay_seconds",
				Message: fmt.Sprintf("must be between 0 and %d", MaxAutoAnswerDelay), Value: d.Value})
		}
	}
	if len(problems) > 0 {
		return apperr.InvalidFields(problems...)
	}
	return nil
}

// storedSettings is a user_settings row: nil is "never chosen".
type storedSettings struct {
	notifyEmail, notifySMS, notifyMarketing, notifyCalls, notifyBilling *bool
	profileVisibility                                                   *ProfileVisibility
	recordingConsent                                                    *bool
	autoRecord, aiAssistance                                            *bool
	callQuality                                                         *CallQuality
	noiseCancellation, autoAnswer                                       *bool
	autoAnswerDelay                                                     *int
}

func (st storedSettings) effective() Settings {
	d := DefaultSettings()
	return Settings{
		Notifications: NotificationSettings{
			Email:     orDefault(st.notifyEmail, d.Notifications.Email),
			SMS:       orDefault(st.notifySMS, d.Notifications.SMS),
			Marketing: orDefault(st.notifyMarketing, d.Notifications.Marketing),
			Calls:     orDefault(st.notifyCalls, d.Notifications.Calls),
			Billing:   orDefault(st.notifyBilling, d.Notifications.Billing),
		},
		Privacy: PrivacySettings{
			ProfileVisibility: choiceOrDefault(st.profileVisibility, ProfileVisibilities, d.Privacy.ProfileVisibility),
			RecordingConsent:  orDefault(st.recordingConsent, d.Privacy.RecordingConsent),
		},
		Calls: CallSettings{
			AutoRecord:             orDefault(st.autoRecord, d.Calls.AutoRecord),
			AIAssistance:           orDefault(st.aiAssistance, d.Calls.AIAssistance),
			CallQuality:            choiceOrDefault(st.callQuality, CallQualities, d.Calls.CallQuality),
			NoiseCancellation:      orDefault(st.noiseCancellation, d.Calls.NoiseCancellation),
			AutoAnswer:             orDefault(st.autoAnswer, d.Calls.AutoAnswer),
			AutoAnswerDelaySeconds: orDefault(st.autoAnswerDelay, d.Calls.AutoAnswerDelaySeconds),
		},
	}
}

// apply merges p into st: a null group resets all of its fields.
func (st storedSettings) apply(p SettingsPatch) storedSettings {
	if p.Notifications.Null {
		st.notifyEmail, st.notifySMS, st.notifyMarketing, st.notifyCalls, st.notifyBilling = nil, nil, nil, nil, nil
	} else if p.Notifications.Set {
		n := p.Notifications.Value
		st.notifyEmail = pick(st.notifyEmail, n.Email)
		st.notifySMS = pick(st.notifySMS, n.SMS)
		st.notifyMarketing = pick(st.notifyMarketing, n.Marketing)
		st.notifyCalls = pick(st.notifyCalls, n.Calls)
		st.notifyBilling = pick(st.notifyBilling, n.Billing)
	}
	if p.Privacy.Null {
		st.profileVisibility, st.recordingConsent = nil, nil
	} else if p.Privacy.Set {
		st.profileVisibility = pick(st.profileVisibility, p.Privacy.Value.ProfileVisibility)
		st.recordingConsent = pick(st.recordingConsent, p.Privacy.Value.RecordingConsent)
	}
	if p.Calls.Null {
		st.autoRecord, st.aiAssistance, st.callQuality, st.noiseCancellation, st.autoAnswer, st.autoAnswerDelay = nil, nil, nil, nil, nil, nil
	} else if p.Calls.Set {
		c := p.Calls.Value
		st.autoRecord = pick(st.autoRecord, c.AutoRecord)
		st.aiAssistance = pick(st.aiAssistance, c.AIAssistance)
		st.callQuality = pick(st.callQuality, c.CallQuality)
		st.noiseCancellation = pick(st.noiseCancellation, c.NoiseCancellation)
		st.autoAnswer = pick(st.autoAnswer, c.AutoAnswer)
		st.autoAnswerDelay = pick(st.autoAnswerDelay, c.AutoAnswerDelaySeconds)
	}
	return st
}

const settingsColumns = `notify_email, notify_sms, notify_marketing, notify_calls, notify_billing, profile_visibility,
	recording_consent, auto_record, ai_assistance, call_quality, noise_cancellation, auto_answer, auto_answer_delay_seconds`

func scanSettings(row *sql.Row) (storedSettings, error) {
	var (
		st                                     storedSettings
		email, sms, marketing, calls, billing  sql.NullBool
		consent, record, ai, noise, autoAnswer sql.NullBool
		visibility, quality                    sql.NullString
		delay                                  sql.NullInt64
	)
	err := row.Scan(&email, &sms, &marketing, &calls, &billing, &visibility, &consent, &record, &ai, &quality, &noise, &autoAnswer, &delay)
	if errors.Is(err, sql.ErrNoRows) {
		return storedSettings{}, nil
	}
	if err != nil {
		return storedSettings{}, err
	}
	st.notifyEmail, st.notifySMS, st.notifyMarketing = nullBool(email), nullBool(sms), nullBool(marketing)
	st.notifyCalls, st.notifyBilling = nullBool(calls), nullBool(billing)
	st.profileVisibility = nullString[ProfileVisibility](visibility)
	st.recordingConsent, st.autoRecord, st.aiAssistance = nullBool(consent), nullBool(record), nullBool(ai)
	st.callQuality = nullString[CallQuality](quality)
	st.noiseCancellation, st.autoAnswer = nullBool(noise), nullBool(autoAnswer)
	if delay.Valid {
		d := int(delay.Int64)
		st.autoAnswerDelay = &d
	}
	return st, nil
}

// Settings returns a user's settings, defaults filled in. Errors: none
// beyond the database's.
func (s *Service) Settings(ctx context.Context, userID int64) (Settings, error) {
	st, err := scanSettings(s.db.Read().QueryRowContext(ctx,
		`SELECT `+settingsColumns+` FROM user_settings WHERE user_id = $1`, userID))
	if err != nil {
		return Settings{}, fmt.Errorf("load settings: %w", err)
	}
	return st.effective(), nil
}

// UpdateSettings applies a merge patch to a user's settings and returns the
// result. Nothing is stored unless every field is valid. Errors: Invalid
// naming each bad field; NotFound when the user is gone.
func (s *Service) UpdateSettings(ctx context.Context, userID int64, p SettingsPatch) (Settings, error) {
	if err := p.validate(); err != nil {
		return Settings{}, err
	}
	var out Settings
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.ensureRow(ctx, tx, "user_settings", userID); err != nil {
			return err
		}
		st, err := scanSettings(tx.QueryRowContext(ctx,
			`SELECT `+settingsColumns+` FROM user_settings WHERE user_id = $1`+s.forUpdate(), userID))
		if err != nil {
			return fmt.Errorf("load settings: %w", err)
		}
		st = st.apply(p)
		_, err = tx.ExecContext(ctx, `UPDATE user_settings SET notify_email = $1, notify_sms = $2, notify_marketing = $3,
			notify_calls = $4, notify_billing = $5, profile_visibility = $6, recording_consent = $7, auto_record = $8,
			ai_assistance = $9, call_quality = $10, noise_cancellation = $11, auto_answer = $12,
			auto_answer_delay_seconds = $13, updated_at = $14 WHERE user_id = $15`,
			st.notifyEmail, st.notifySMS, st.notifyMarketing, st.notifyCalls, st.notifyBilling,
			(*string)(st.profileVisibility), st.recordingConsent, st.autoRecord, st.aiAssistance,
			(*string)(st.callQuality), st.noiseCancellation, st.autoAnswer, st.autoAnswerDelay,
			store.Millis(s.now()), userID)
		if err != nil {
			return fmt.Errorf("update settings: %w", err)
		}
		out = st.effective()
		return nil
	})
	if err != nil {
		return Settings{}, err
	}
	return out, nil
}

func nullBool(v sql.NullBool) *bool {
	if !v.Valid {
		return nil
	}
	return &v.Bool
}

func nullString[T ~string](v sql.NullString) *T {
	if !v.Valid {
		return nil
	}
	t := T(v.String)
	return &t
}

// RecordingConsent reports whether userID allowed call recording (the calls
// history shows recordings only then).
func (s *Service) RecordingConsent(ctx context.Context, userID int64) (bool, error) {
	st, err := s.Settings(ctx, userID)
	if err != nil {
		return false, err
	}
	return st.Privacy.RecordingConsent, nil
}
