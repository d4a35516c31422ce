package account

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"callboard/internal/audit"
	"callboard/internal/principal"
)

type profileOutput struct {
	Body User
}

type profilePatchInput struct {
	audit.Client
	Body ProfilePatch
}

type settingsOutput struct {
	Body Settings
}

type settingsPatchInput struct {
	Body SettingsPatch
}

type preferencesOutput struct {
	Body Preferences
}

type preferencesPatchInput struct {
	Body PreferencesPatch
}

// avatarUploadInput takes the request body as a stream: Huma would read a
// whole multipart form (to memory or disk) before the handler could refuse
// an oversized file.
type avatarUploadInput struct {
	contentType   string
	contentLength int64
	body          io.Reader
}

// Resolve implements huma.Resolver: it hands the unread body to the handler.
func (in *avatarUploadInput) Resolve(ctx huma.Context) []error {
	in.contentType = ctx.Header("Content-Type")
	in.contentLength = -1
	if n, err := strconv.ParseInt(ctx.Header("Content-Length"), 10, 64); err == nil {
		in.contentLength = n
	}
	in.body = ctx.BodyReader()
	return nil
}

// multipartOverhead is room for the form's boundaries and part headers on
// top of the file itself.
const multipartOverhead = 64 << 10

type avatarFileInput struct {
	Key         string `path:"key" maxLength:"64" doc:"The avatar's file name, from avatar_url."`
	IfNoneMatch string `header:"If-None-Match" required:"false"`
}

type avatarFileOutput struct {
	Status                    int
	ContentType               string `header:"Content-Type"`
	ContentLength             string `header:"Content-Length"`
	CacheControl              string `header:"Cache-Control"`
	ETag                      string `header:"ETag"`
	ContentSecurityPolicy     string `header:"Content-Security-Policy"`
	CrossOriginResourcePolicy string `header:"Cross-Origin-Resource-Policy"`
	XContentTypeOptions       string `header:"X-Content-Type-Options"`
	Body                      []byte
}

// maxAvatarFileBytes bounds what is read back from the blob store (stored
// avatars are 300×300, far below this).
const maxAvatarFileBytes = 2 << 20

const base = "/api/dashboard/user/"

// mergePatchDoc is the description every PATCH operation starts with; %s
// says what null does.
const mergePatchDoc = "A JSON Merge Patch (RFC 7396): send only the fields to change; `null` %s. " +
	"Unknown fields and invalid values are refused (422, naming each field) and then nothing changes. " +
	"`application/merge-patch+json` and `application/json` are both accepted."

// Register adds the account operations to api: profile, settings,
// preferences, avatar upload and removal, and the avatar files.
func (s *Service) Register(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "profile-get", Method: http.MethodGet, Path: base + "profile/",
		Summary: "Your profile", Tags: []string{"Profile"}, Security: principal.UserSecurity,
		Errors: []int{http.StatusUnauthorized},
	}, s.getProfile)
	huma.Register(api, huma.Operation{
		OperationID: "profile-update", Method: http.MethodPatch, Path: base + "profile/",
		Summary: "Change your name or phone", Tags: []string{"Profile"}, Security: principal.UserSecurity,
		Description: fmt.Sprintf(mergePatchDoc, "removes the phone number (names cannot be removed)") +
			" The email is changed elsewhere and is refused here.",
		MaxBodyBytes: 8 << 10, Errors: []int{http.StatusUnauthorized, http.StatusUnprocessableEntity},
	}, s.patchProfile)

	huma.Register(api, huma.Operation{
		OperationID: "settings-get", Method: http.MethodGet, Path: base + "settings/",
		Summary: "Your notification, privacy and call settings", Tags: []string{"Settings"}, Security: principal.UserSecurity,
		Errors: []int{http.StatusUnauthorized},
	}, s.getSettings)
	huma.Register(api, huma.Operation{
		OperationID: "settings-update", Method: http.MethodPatch, Path: base + "settings/",
		Summary: "Change some settings", Tags: []string{"Settings"}, Security: principal.UserSecurity,
		Description:  fmt.Sprintf(mergePatchDoc, "resets a field, or a whole group, to its default") + " Groups are patched field by field.",
		MaxBodyBytes: 8 << 10, Errors: []int{http.StatusUnauthorized, http.StatusUnprocessableEntity},
	}, s.patchSettings)

	huma.Register(api, huma.Operation{
		OperationID: "preferences-get", Method: http.MethodGet, Path: base + "preferences/",
		Summary: "Your dashboard preferences", Tags: []string{"Preferences"}, Security: principal.UserSecurity,
		Errors: []int{http.StatusUnauthorized},
	}, s.getPreferences)
	huma.Register(api, huma.Operation{
		OperationID: "preferences-update", Method: http.MethodPatch, Path: base + "preferences/",
		Summary: "Change some preferences", Tags: []string{"Preferences"}, Security: principal.UserSecurity,
		Description: fmt.Sprintf(mergePatchDoc, "resets a field to its default") +
			" `widgets` replaces the whole list. Changing the timezone changes how days and months are counted everywhere.",
		MaxBodyBytes: 8 << 10, Errors: []int{http.StatusUnauthorized, http.StatusUnprocessableEntity},
	}, s.patchPreferences)
	for _, path := range []string{base + "profile/", base + "settings/", base + "preferences/"} {
		documentMergePatch(api, path)
	}

	huma.Register(api, huma.Operation{
		OperationID: "avatar-upload", Method: http.MethodPost, Path: base + "avatar/",
		Summary: "Upload your avatar", Tags: []string{"Profile"}, Security: principal.UserSecurity,
		Description: "A multipart/form-data body with one file field, `avatar`: a JPEG or PNG (judged by its content) " +
			"of at most 5 MB and 40 megapixels. It is turned upright (EXIF orientation), centre-cropped, resized to " +
			"300×300 and re-encoded without metadata; the previous avatar is deleted. Answers the updated profile.",
		Errors: []int{http.StatusUnauthorized, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity},
	}, s.uploadAvatar)
	documentAvatarUpload(api)
	huma.Register(api, huma.Operation{
		OperationID: "avatar-delete", Method: http.MethodDelete, Path: base + "avatar/",
		Summary: "Remove your avatar", Tags: []string{"Profile"}, Security: principal.UserSecurity,
		Description:   "Deletes the avatar and its file. Answers 204 whether or not there was one.",
		DefaultStatus: http.StatusNoContent, Errors: []int{http.StatusUnauthorized},
	}, s.deleteAvatar)

	huma.Register(api, huma.Operation{
		OperationID: "avatar-file", Method: http.MethodGet, Path: AvatarPath + "{key}",
		Summary: "An avatar image", Tags: []string{"Profile"},
		Description: "The image behind a profile's `avatar_url`. Names are unguessable and change whenever the " +
			"avatar does, so the image is cached for a year. No credentials needed: an <img> cannot send them.",
		Errors: []int{http.StatusNotFound},
		Responses: map[string]*huma.Response{
			"200": {Description: "The image", Content: map[string]*huma.MediaType{
				"image/jpeg": {Schema: &huma.Schema{Type: huma.TypeString, Format: "binary"}},
				"image/png":  {Schema: &huma.Schema{Type: huma.TypeString, Format: "binary"}},
			}},
			"304": {Description: "Not modified"},
		},
	}, s.avatarFile)
	s.registerPrivacy(api)
}

func (s *Service) getProfile(ctx context.Context, _ *struct{}) (*profileOutput, error) {
	u, err := s.Profile(ctx, principal.From(ctx).UserID)
	if err != nil {
		return nil, err
	}
	return &profileOutput{Body: u}, nil
}

func (s *Service) patchProfile(ctx context.Context, in *profilePatchInput) (*profileOutput, error) {
	userID := principal.From(ctx).UserID
	u, err := s.UpdateProfile(ctx, userID, in.Body)
	if err != nil {
		return nil, err
	}
	if err := s.auditProfileChange(ctx, userID, in.Body, in.Client); err != nil {
		return nil, err
	}
	return &profileOutput{Body: u}, nil
}

func (s *Service) getSettings(ctx context.Context, _ *struct{}) (*settingsOutput, error) {
	st, err := s.Settings(ctx, principal.From(ctx).UserID)
	if err != nil {
		return nil, err
	}
	return &settingsOutput{Body: st}, nil
}

func (s *Service) patchSettings(ctx context.Context, in *settingsPatchInput) (*settingsOutput, error) {
	st, err := s.UpdateSettings(ctx, principal.From(ctx).UserID, in.Body)
	if err != nil {
		return nil, err
	}
	return &settingsOutput{Body: st}, nil
}

func (s *Service) getPreferences(ctx context.Context, _ *struct{}) (*preferencesOutput, error) {
	p, err := s.Preferences(ctx, principal.From(ctx).UserID)
	if err != nil {
		return nil, err
	}
	return &preferencesOutput{Body: p}, nil
}

func (s *Service) patchPreferences(ctx context.Context, in *preferencesPatchInput) (*preferencesOutput, error) {
	p, err := s.UpdatePreferences(ctx, principal.From(ctx).UserID, in.Body)
	if err != nil {
		return nil, err
	}
	return &preferencesOutput{Body: p}, nil
}

func (s *Service) uploadAvatar(ctx context.Context, in *avatarUploadInput) (*profileOutput, error) {
	if in.contentLength > MaxAvatarBytes+multipartOverhead {
		return nil, errAvatarTooLarge // refused before reading a byte
	}
	upload, err := readAvatarUpload(in.contentType, in.body, MaxAvatarBytes)
	if err != nil {
		return nil, err
	}
	u, err := s.SetAvatar(ctx, principal.From(ctx).UserID, upload)
	if err != nil {
		return nil, err
	}
	return &profileOutput{Body: u}, nil
}

// documentAvatarUpload describes the upload's body: it is read by the
// handler, so Huma is told nothing about it at registration (it would read
// it first).
func documentAvatarUpload(api huma.API) {
	api.OpenAPI().Paths[base+"avatar/"].Post.RequestBody = &huma.RequestBody{
		Required: true,
		Content: map[string]*huma.MediaType{"multipart/form-data": {
			Schema: &huma.Schema{
				Type: huma.TypeObject, Required: []string{"avatar"}, AdditionalProperties: false,
				Properties: map[string]*huma.Schema{"avatar": {
					Type: huma.TypeString, Format: "binary", ContentEncoding: "binary",
					Description: "A JPEG or PNG image, at most 5 MB and 40 megapixels.",
				}},
			},
			Encoding: map[string]*huma.Encoding{"avatar": {ContentType: "image/jpeg, image/png"}},
		}},
	}
}

func (s *Service) deleteAvatar(ctx context.Context, _ *struct{}) (*struct{}, error) {
	return nil, s.DeleteAvatar(ctx, principal.From(ctx).UserID)
}

func (s *Service) avatarFile(ctx context.Context, in *avatarFileInput) (*avatarFileOutput, error) {
	f, contentType, err := s.OpenAvatar(ctx, in.Key)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := &avatarFileOutput{
		Status:       http.StatusOK,
		ContentType:  contentType,
		CacheControl: "private, max-age=31536000, immutable",
		ETag:         `"` + in.Key + `"`,
		// Even opened directly, the answer can never run as a page.
		ContentSecurityPolicy:     "default-src 'none'; sandbox",
		CrossOriginResourcePolicy: "same-origin",
		XContentTypeOptions:       "nosniff",
	}
	if in.IfNoneMatch == out.ETag {
		out.Status = http.StatusNotModified
		return out, nil
	}
	out.Body, err = io.ReadAll(io.LimitReader(f, maxAvatarFileBytes))
	if err != nil {
		return nil, fmt.Errorf("read avatar: %w", err)
	}
	out.ContentLength = strconv.Itoa(len(out.Body))
	return out, nil
}

// documentMergePatch lists application/merge-patch+json beside
// application/json for the PATCH operation at path (Huma reads any +json
// type as JSON).
func documentMergePatch(api huma.API, path string) {
	op := api.OpenAPI().Paths[path].Patch
	if op == nil || op.RequestBody == nil {
		return
	}
	if mt, ok := op.RequestBody.Content["application/json"]; ok {
		op.RequestBody.Content["application/merge-patch+json"] = mt
	}
}
