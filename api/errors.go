package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/earshot-dev/earshot/post"
)

// Error is the body of every error answer: {"error": {"code", "message", "details"}}.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Details any    `json:"details,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// The error codes.
const (
	CodeBadRequest     = "bad_request"
	CodeInvalid        = "invalid"
	CodeUnauthorized   = "unauthorized"
	CodeForbidden      = "forbidden"
	CodeOutOfScope     = "out_of_scope"
	CodeNotFound       = "not_found"
	CodeMethod         = "method_not_allowed"
	CodeConflict       = "conflict"
	CodeState          = "invalid_state"
	CodeSelfApproval   = "self_approval"
	CodeTooLarge       = "payload_too_large"
	CodeMediaType      = "unsupported_media_type"
	CodeRateLimited    = "rate_limited"
	CodeInternal       = "internal"
	CodeUnavailable    = "unavailable"
	CodeNotConfigured  = "not_configured"
	CodeNotImplemented = "not_implemented"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func writeError(w http.ResponseWriter, e *Error) {
	writeJSON(w, e.Status, map[string]*Error{"error": e})
}

// decodeJSON decodes exactly one JSON value of body into v: unknown fields,
// trailing data, a wrong content type and an oversized body are errors.
// An empty body is allowed only when optional.
func decodeJSON(r *http.Request, v any, optional bool) *Error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return errorf(http.StatusUnsupportedMediaType, CodeMediaType, "Content-Type %q: want application/json", ct)
		}
	}
	return decodeBody(r.Body, v, optional)
}

func decodeBody(body io.Reader, v any, optional bool) *Error {
	// Read whole (the server caps the body) to check it first: encoding/json
	// would replace invalid UTF-8 with U+FFFD and store text the client
	// never sent, a keyword that matches nothing.
	b, err := io.ReadAll(body)
	if err != nil {
		return jsonError(err)
	}
	if err := post.CheckUTF8(b); err != nil {
		return errorf(http.StatusBadRequest, CodeBadRequest, "the body is not UTF-8: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			if optional {
				return nil
			}
			return errorf(http.StatusBadRequest, CodeBadRequest, "a JSON body is required")
		}
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return jsonError(err)
		}
		return errorf(http.StatusBadRequest, CodeBadRequest, "the body holds more than one JSON value")
	}
	return nil
}

func jsonError(err error) *Error {
	var mbe *http.MaxBytesError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return errorf(http.StatusRequestEntityTooLarge, CodeTooLarge, "the body is over %d bytes", mbe.Limit)
	case errors.As(err, &se):
		return errorf(http.StatusBadRequest, CodeBadRequest, "malformed JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		return errorf(http.StatusBadRequest, CodeBadRequest, "field %q: want %v, got JSON %s", te.Field, te.Type, te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, CodeBadRequest, "malformed JSON: the body ends early")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return errorf(http.StatusBadRequest, CodeBadRequest, "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return errorf(http.StatusBadRequest, CodeBadRequest, "malformed JSON: %v", err)
}
