package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/roumu/roumu/ports"
)

// maxJSONDepth bounds nesting; no request of the API nests deeper than an array in an object.
const maxJSONDepth = 8

func malformed(en, ja string) *problemError {
	return newProblem(http.StatusBadRequest, "malformed_json", en, ja)
}

// decodeJSON reads a request body into dst, a pointer to a struct with json tags, strictly: the media
// type must be application/json in UTF-8, the body one JSON object and nothing after it, every key one of
// dst's (exact case, once), no NUL characters, and each value of its field's type. Go's decoder alone would
// accept duplicate and differently-cased keys (the last one wins), a parser difference an attacker can use
// against a proxy or an audit log that reads the first one.
func decodeJSON(c echo.Context, dst any) error {
	body, err := readJSON(c, jsonKeys(dst))
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	return nil
}

// rawJSON reads a body that is passed on to the domain as it is (a WebAuthn credential from the browser, whose
// members the relying-party library knows): the same checks as decodeJSON except the list of keys.
func rawJSON(c echo.Context) ([]byte, error) { return readJSON(c, nil) }

// readJSON checks the media type and reads and checks the body; keys, when not nil, are the only top-level
// members allowed.
func readJSON(c echo.Context, keys map[string]bool) ([]byte, error) {
	if err := requireJSON(c.Request().Header.Get(echo.HeaderContentType)); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		if tooLarge(err) {
			return nil, errBodyTooLarge
		}
		return nil, malformed("The request body could not be read.", "リクエストの本文を読み取れませんでした。")
	}
	if err := checkJSON(body, keys); err != nil {
		return nil, err
	}
	return body, nil
}

// tooLarge tells whether reading a body failed because it crossed the body limit (Echo's BodyLimit).
func tooLarge(err error) bool { return errors.Is(err, echo.ErrStatusRequestEntityTooLarge) }

// requireJSON accepts application/json with no charset or charset=utf-8.
func requireJSON(contentType string) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != echo.MIMEApplicationJSON {
		return errUnsupportedMedia
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return errUnsupportedMedia
	}
	return nil
}

// jsonKeys lists the JSON member names of the struct dst points to; the members of an embedded struct
// without a tag are its own, as encoding/json has them.
func jsonKeys(dst any) map[string]bool {
	keys := map[string]bool{}
	addJSONKeys(reflect.TypeOf(dst).Elem(), keys)
	return keys
}

func addJSONKeys(t reflect.Type, keys map[string]bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			addJSONKeys(f.Type, keys)
		case name != "" && name != "-":
			keys[name] = true
		}
	}
}

// checkJSON walks the tokens of body once, before decoding, to enforce what encoding/json does not.
func checkJSON(body []byte, keys map[string]bool) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return malformed("The request body is empty.", "リクエストの本文が空です。")
	}
	if !utf8.Valid(body) {
		return malformed("The request body is not valid UTF-8.", "リクエストの本文が正しいUTF-8ではありません。")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return syntaxProblem()
	}
	if tok != json.Delim('{') {
		return malformed("The request body must be a JSON object.", "リクエストの本文はJSONオブジェクトにしてください。")
	}
	if err := walkObject(dec, keys, 1); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return malformed("Unexpected data after the JSON object.", "JSONオブジェクトの後に余分なデータがあります。")
	}
	return nil
}

func syntaxProblem() *problemError {
	return malformed("The request body is not valid JSON.", "リクエストの本文が正しいJSONではありません。")
}

// walkObject checks the members of an object whose '{' has been read. keys, when not nil, are the only
// names allowed (top level); nested objects are left to the type check of the decoder. Duplicate names are
// refused at every level.
func walkObject(dec *json.Decoder, keys map[string]bool, depth int) error {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return syntaxProblem()
		}
		key, _ := tok.(string)
		if len(key) > 64 {
			key = strings.ToValidUTF8(key[:64], "") // echoed back in the problem: keep it short
		}
		if keys != nil && !keys[key] {
			return fieldProblemOf(http.StatusBadRequest, "unknown_field",
				"The request contains an unknown field.", "リクエストに不明な項目が含まれています。",
				key, "unknown field", "不明な項目です")
		}
		if seen[key] {
			return fieldProblemOf(http.StatusBadRequest, "duplicate_field",
				"A field appears more than once.", "同じ項目が複数回指定されています。",
				key, "appears more than once", "重複しています")
		}
		seen[key] = true
		if err := walkValue(dec, depth); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return syntaxProblem()
	}
	return nil
}

func walkValue(dec *json.Decoder, depth int) error {
	if depth > maxJSONDepth {
		return malformed("The JSON is nested too deeply.", "JSONの入れ子が深すぎます。")
	}
	tok, err := dec.Token()
	if err != nil {
		return syntaxProblem()
	}
	switch v := tok.(type) {
	case string:
		// NUL is never meaningful in a name, login or password, and some databases cannot store it.
		if strings.ContainsRune(v, 0) {
			return malformed("Text must not contain NUL characters.", "文字列にNUL文字は使用できません。")
		}
	case json.Delim:
		switch v {
		case '{':
			return walkObject(dec, nil, depth+1)
		case '[':
			for dec.More() {
				if err := walkValue(dec, depth+1); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil { // the closing ']'
				return syntaxProblem()
			}
		}
	}
	return nil
}

// fieldProblemOf is a problem about one field: en and ja describe the request, fieldEN and fieldJA the field.
func fieldProblemOf(status int, code, en, ja, field, fieldEN, fieldJA string) *problemError {
	p := newProblem(status, code, en, ja)
	p.fields = []ports.FieldError{{Field: field, Code: code, MessageEN: fieldEN, MessageJA: fieldJA}}
	return p
}

// decodeError translates what is left after checkJSON: values of the wrong type, one entry per field.
func decodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		en, ja := "has the wrong type", "型が正しくありません"
		switch te.Type.Kind() {
		case reflect.String:
			en, ja = "must be a string", "文字列で指定してください"
		case reflect.Slice:
			en, ja = "must be an array of strings", "文字列の配列で指定してください"
		case reflect.Bool:
			en, ja = "must be true or false", "true または false で指定してください"
		}
		return fieldProblemOf(http.StatusUnprocessableEntity, "invalid_type",
			"A field has the wrong type.", "項目の型が正しくありません。", te.Field, en, ja)
	}
	return syntaxProblem()
}

// writeJSON sends v with the API's media type.
func writeJSON(c echo.Context, status int, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.Blob(status, "application/json; charset=utf-8", append(data, '\n'))
}
