package account_test

import (
	"context"
	"testing"

	"callboard/internal/account"
	"callboard/internal/apitest"
	"callboard/internal/audit"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

// Recipients reads a batch's users at once, defaults filled in, leaving out
// deleted and unknown ids; MarketingRecipients pages through the opted-in
// verified users only; StopMarketing turns the setting off once, with a
// security-log entry.
func TestRecipients(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := apitest.New(t, db)
		plain, urdu, gone := s.SignUp(t), s.SignUp(t), s.SignUp(t)
		phone := "+923001234567"
		if _, err := s.Account.UpdateProfile(ctx, urdu.UserID, account.ProfilePatch{Phone: account.Some(phone)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Account.UpdatePreferences(ctx, urdu.UserID, account.PreferencesPatch{Language: account.Some(account.LanguageUrdu)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Account.UpdateSettings(ctx, urdu.UserID, account.SettingsPatch{Notifications: account.Some(account.NotificationSettingsPatch{
			SMS: account.Some(true), Marketing: account.Some(true), Calls: account.Some(false)})}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Write().Exec(`UPDATE users SET is_verified = $1 WHERE id = $2`, true, urdu.UserID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Write().Exec(`UPDATE users SET deleted_at = 1 WHERE id = $1`, gone.UserID); err != nil {
			t.Fatal(err)
		}

		got, err := s.Account.Recipients(ctx, []int64{plain.UserID, urdu.UserID, gone.UserID, 1 << 40})
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64]account.Recipient{
			plain.UserID: {UserID: plain.UserID, Email: plain.Email, FirstName: "Test", Language: account.LanguageEnglish,
				Notifications: account.DefaultSettings().Notifications},
			urdu.UserID: {UserID: urdu.UserID, Email: urdu.Email, EmailVerified: true, Phone: phone, FirstName: "Test", Language: account.LanguageUrdu,
				Notifications: account.NotificationSettings{Email: true, SMS: true, Marketing: true, Calls: false, Billing: true}},
		}
		if len(got) != len(want) || got[plain.UserID] != want[plain.UserID] || got[urdu.UserID] != want[urdu.UserID] {
			t.Fatalf("recipients:\n%+v\nwant\n%+v", got, want)
		}

		page, err := s.Account.MarketingRecipients(ctx, 0, 10)
		if err != nil || len(page) != 1 || page[0] != want[urdu.UserID] {
			t.Fatalf("marketing recipients: %+v %v", page, err)
		}
		if page, err := s.Account.MarketingRecipients(ctx, urdu.UserID, 10); err != nil || len(page) != 0 {
			t.Fatalf("after the last: %+v %v", page, err)
		}

		for i, wantChanged := range []bool{true, false} {
			changed, err := s.Account.StopMarketing(ctx, urdu.UserID, audit.Client{IP: "192.0.2.1"}, map[string]string{"list": "marketing"})
			if err != nil || changed != wantChanged {
				t.Fatalf("stop #%d: %v %v", i+1, changed, err)
			}
		}
		if n, err := s.Audit.CountSince(ctx, urdu.UserID, account.ActionMarketingStopped, s.Clock.Now().Add(-1)); err != nil || n != 1 {
			t.Fatalf("%d security-log entries: %v", n, err)
		}
		if page, err := s.Account.MarketingRecipients(ctx, 0, 10); err != nil || len(page) != 0 {
			t.Fatalf("after unsubscribing: %+v %v", page, err)
		}
		_, err = s.Account.StopMarketing(ctx, gone.UserID, audit.Client{}, nil)
		wantNotFound(t, err)
	})
}
