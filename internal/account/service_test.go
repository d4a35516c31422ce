package account_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"callboard/internal/account"
	"callboard/internal/apitest"
	"callboard/internal/apperr"
	"callboard/internal/blob"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

// wantInvalid fails unless err is Invalid naming every location.
func wantInvalid(t *testing.T, err error, locations ...string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.KindInvalid {
		t.Fatalf("err = %v, want Invalid", err)
	}
	var got []string
	for _, f := range e.Fields {
		got = append(got, f.Location)
	}
	for _, loc := range locations {
		if !slices.Contains(got, loc) {
			t.Fatalf("errors %v do not name %s", got, loc)
		}
	}
}

func wantNotFound(t *testing.T, err error) {
	t.Helper()
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindNotFound {
		t.Fatalf("err = %v, want NotFound", err)
	}
}

// TestServiceValidatesOnItsOwn calls the service without the HTTP layer
// (as the demo seeder or another package would): it must refuse bad values
// itself, naming every bad field at once, and store nothing.
func TestServiceValidatesOnItsOwn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := apitest.New(t, db)
		me := s.SignUp(t)
		svc := s.Account

		_, err := svc.UpdatePreferences(ctx, me.UserID, account.PreferencesPatch{
			Theme:      account.Some(account.Theme("neon")),
			Language:   account.Some(account.Language("fr")),
			Timezone:   account.Some("Mars/Base"),
			DateFormat: account.Some(account.DateFormat("YY")),
			Widgets:    account.Some([]account.Widget{{ID: "trend"}, {ID: "weather"}, {ID: "trend"}}),
		})
		wantInvalid(t, err, "body.theme", "body.language", "body.timezone", "body.date_format", "body.widgets[1].id", "body.widgets[2].id")

		_, err = svc.UpdateSettings(ctx, me.UserID, account.SettingsPatch{
			Privacy: account.Some(account.PrivacySettingsPatch{ProfileVisibility: account.Some(account.ProfileVisibility("friends"))}),
			Calls: account.Some(account.CallSettingsPatch{
				CallQuality: account.Some(account.CallQuality("ultra")), AutoAnswerDelaySeconds: account.Some(99),
			}),
		})
		wantInvalid(t, err, "body.privacy.profile_visibility", "body.calls.call_quality", "body.calls.auto_answer_delay_seconds")

		_, err = svc.UpdateProfile(ctx, me.UserID, account.ProfilePatch{FirstName: account.Null[string](), Phone: account.Some("1")})
		wantInvalid(t, err, "body.first_name", "body.phone")

		if p, _ := svc.Preferences(ctx, me.UserID); !slices.Equal(p.Widgets, account.DefaultPreferences().Widgets) || p.Theme != account.ThemeAuto {
			t.Fatalf("refused patches changed preferences: %+v", p)
		}
		if st, _ := svc.Settings(ctx, me.UserID); st != account.DefaultSettings() {
			t.Fatalf("refused patches changed settings: %+v", st)
		}
	})
}

func TestServiceMissingUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		blobs, err := blob.NewDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		svc := account.NewService(account.Config{DB: db, Blobs: blobs})
		const nobody = 987654

		_, err = svc.UpdateSettings(ctx, nobody, account.SettingsPatch{})
		wantNotFound(t, err)
		_, err = svc.UpdatePreferences(ctx, nobody, account.PreferencesPatch{Theme: account.Some(account.ThemeDark)})
		wantNotFound(t, err)
		_, err = svc.UpdateProfile(ctx, nobody, account.ProfilePatch{FirstName: account.Some("Ghost")})
		wantNotFound(t, err)
		wantNotFound(t, svc.DeleteAvatar(ctx, nobody))
		_, err = svc.SetAvatar(ctx, nobody, account.EncodeJPEG(t, account.Quadrants(40, 40)))
		wantNotFound(t, err)
		// The file stored before the account was found missing is gone again.
		entries, _ := os.ReadDir(filepath.Join(dir, "avatars"))
		if len(entries) != 0 {
			t.Fatalf("files left behind for a missing user: %v", entries)
		}
	})
}

// TestStoredValuesOutsideTheLists covers rows written by an older version:
// a withdrawn choice reads as the default, an unknown widget is dropped, a
// timezone the database no longer knows reads as UTC.
func TestStoredValuesOutsideTheLists(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := apitest.New(t, db)
		me := s.SignUp(t)
		_, err := db.Write().ExecContext(ctx, `INSERT INTO user_preferences (user_id, theme, language, timezone, widgets, updated_at)
			VALUES ($1, 'sepia', 'ur', 'Atlantis/Capital', '[{"id":"weather","visible":true},{"id":"agents","visible":false}]', 0)`, me.UserID)
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.Account.Preferences(ctx, me.UserID)
		if err != nil {
			t.Fatal(err)
		}
		if p.Theme != account.ThemeAuto || p.Language != account.LanguageUrdu || len(p.Widgets) != len(account.WidgetIDs) ||
			p.Widgets[0] != (account.Widget{ID: "agents", Visible: false}) {
			t.Fatalf("preferences %+v", p)
		}
		if loc, err := s.Account.Location(ctx, me.UserID); err != nil || loc != time.UTC {
			t.Fatalf("Location = %v, %v; want UTC", loc, err)
		}
	})
}

// TestConcurrentAvatarUploadsLeaveOneFile races several uploads for one
// user: whichever wins, exactly one file is left and it is the profile's.
func TestConcurrentAvatarUploadsLeaveOneFile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := apitest.New(t, db)
		me := s.SignUp(t)
		dir := t.TempDir()
		blobs, err := blob.NewDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		svc := account.NewService(account.Config{DB: db, Blobs: blobs, MaxConcurrentDecodes: 4})
		img := account.EncodeJPEG(t, account.Quadrants(64, 64))
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				if _, err := svc.SetAvatar(ctx, me.UserID, img); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		entries, _ := os.ReadDir(filepath.Join(dir, "avatars"))
		u, err := svc.Profile(ctx, me.UserID)
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || u.AvatarURL == nil || *u.AvatarURL != "/media/avatars/"+entries[0].Name() {
			t.Fatalf("files %v, avatar_url %v", entries, u.AvatarURL)
		}
		if err := svc.DeleteAvatar(ctx, me.UserID); err != nil {
			t.Fatal(err)
		}
		if entries, _ := os.ReadDir(filepath.Join(dir, "avatars")); len(entries) != 0 {
			t.Fatalf("files left after delete: %v", entries)
		}
	})
}
