package sqlstore

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// timeLayout is how instants travel to the database: UTC, fixed width, microseconds. SQLite keeps the text
// as it is, and fixed width makes text order the order of time, so comparisons and ORDER BY work on the
// column; Postgres parses it into a timestamptz. Both keep microseconds, as the ports promise.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// zeroInstant is how instant stores the zero time in a NOT NULL column: it sorts before every real instant.
var zeroInstant = time.Time{}.Format(timeLayout)

// instant is a mandatory time column. The zero time is stored as the earliest instant rather than NULL,
// so that a record without a time still round-trips.
type instant time.Time

// Value implements driver.Valuer.
func (t instant) Value() (driver.Value, error) { return formatTime(time.Time(t)), nil }

// Scan implements sql.Scanner.
func (t *instant) Scan(src any) error {
	v, err := scanTime(src)
	*t = instant(v)
	return err
}

// optInstant is an optional time column ("zero when never"): the zero time is NULL.
type optInstant time.Time

// Value implements driver.Valuer.
func (t optInstant) Value() (driver.Value, error) {
	if time.Time(t).IsZero() {
		return nil, nil
	}
	return formatTime(time.Time(t)), nil
}

// Scan implements sql.Scanner.
func (t *optInstant) Scan(src any) error {
	v, err := scanTime(src)
	*t = optInstant(v)
	return err
}

// formatTime is the parameter form of an instant, for rows and for WHERE clauses alike.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return zeroInstant
	}
	return t.UTC().Format(timeLayout)
}

// scanTime reads what either driver returns for a time column: time.Time from Postgres, text from SQLite.
// The earliest instant and NULL are the zero time; everything is returned in UTC.
func scanTime(src any) (time.Time, error) {
	var t time.Time
	switch v := src.(type) {
	case nil:
		return time.Time{}, nil
	case time.Time:
		t = v
	case string:
		return parseTime(v)
	case []byte:
		return parseTime(string(v))
	default:
		return time.Time{}, fmt.Errorf("sqlstore: cannot scan %T into a time", src)
	}
	if t.IsZero() {
		return time.Time{}, nil
	}
	return t.UTC(), nil
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlstore: bad time in database: %w", err)
	}
	if t.IsZero() {
		return time.Time{}, nil
	}
	return t.UTC(), nil
}

// optText is an optional text column: "" is NULL. An absent reference (a root department's parent, an
// employee without a department) is then not checked by its foreign key, and an absent date (no
// scheduled change) is left out of the partial index that looks for due dates.
type optText string

// Value implements driver.Valuer.
func (t optText) Value() (driver.Value, error) {
	if t == "" {
		return nil, nil
	}
	return string(t), nil
}

// Scan implements sql.Scanner.
func (t *optText) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*t = ""
	case string:
		*t = optText(v)
	case []byte:
		*t = optText(v)
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into text", src)
	}
	return nil
}

// jsonOf is a JSON column (jsonb in Postgres, checked text in SQLite) for the small lists and maps of the
// records (roles, CIDRs, transports, audit details). One column read and written with its row is simpler
// than a join table, and nothing queries inside these values.
type jsonOf[T any] struct{ V T }

// Value implements driver.Valuer.
func (j jsonOf[T]) Value() (driver.Value, error) {
	b, err := json.Marshal(j.V)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: encode json column: %w", err)
	}
	return string(b), nil
}

// Scan implements sql.Scanner.
func (j *jsonOf[T]) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		var zero T
		j.V = zero
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("sqlstore: cannot scan %T into a json column", src)
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("sqlstore: decode json column: %w", err)
	}
	j.V = v
	return nil
}

// blob returns b, or an empty slice for nil, for NOT NULL binary columns: a nil []byte would be NULL.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
