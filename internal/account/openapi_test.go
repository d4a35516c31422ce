package account_test

import (
	"encoding/json"
	"slices"
	"testing"

	"callboard/internal/account"
	"callboard/internal/apitest"
	"callboard/internal/storetest"
)

// TestOpenAPIDocumentsAccount checks that the document clients generate
// their code from says what the handlers do: closed patch schemas, the
// widget ids as an enum built from account.WidgetIDs, the merge-patch media
// type and the avatar's multipart body.
func TestOpenAPIDocumentsAccount(t *testing.T) {
	s := apitest.New(t, storetest.SQLite(t))
	res := s.Do(t, apitest.Request{Method: "GET", Path: "/openapi.json"})
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct {
					Schema struct {
						Ref        string                     `json:"$ref"`
						Required   []string                   `json:"required"`
						Properties map[string]json.RawMessage `json:"properties"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				AdditionalProperties *bool `json:"additionalProperties"`
				Properties           map[string]struct {
					Enum []string `json:"enum"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	res.Decode(t, &doc)

	for _, name := range []string{"ProfilePatch", "SettingsPatch", "NotificationSettingsPatch", "PrivacySettingsPatch", "CallSettingsPatch", "PreferencesPatch", "Widget"} {
		sc, ok := doc.Components.Schemas[name]
		if !ok || sc.AdditionalProperties == nil || *sc.AdditionalProperties {
			t.Errorf("schema %s missing or open to unknown fields", name)
		}
	}
	var ids []string
	for _, id := range account.WidgetIDs {
		ids = append(ids, string(id))
	}
	if got := doc.Components.Schemas["Widget"].Properties["id"].Enum; !slices.Equal(got, ids) {
		t.Errorf("widget id enum %v, want %v", got, ids)
	}
	for _, path := range []string{profilePath, settingsPath, preferencesPath} {
		content := doc.Paths[path]["patch"].RequestBody.Content
		if content["application/merge-patch+json"].Schema.Ref == "" || content["application/json"].Schema.Ref == "" {
			t.Errorf("PATCH %s does not document both JSON media types: %v", path, content)
		}
	}
	form := doc.Paths[avatarPath]["post"].RequestBody.Content["multipart/form-data"].Schema
	if _, ok := form.Properties["avatar"]; !ok || !slices.Equal(form.Required, []string{"avatar"}) {
		t.Errorf("avatar upload body not documented: %+v", form)
	}
	if _, ok := doc.Paths["/media/avatars/{key}"]["get"]; !ok {
		t.Error("avatar file route not documented")
	}
}
