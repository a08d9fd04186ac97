package roumusync

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Overlap is how far before the mark a sync reads again, for writes that committed after a later-stamped
// one (see the package documentation). A write takes milliseconds; a minute is generous.
const Overlap = time.Minute

// DefaultPageSize is the page size when Client.PageSize is 0; the API allows at most 200.
const DefaultPageSize = 100

// Client calls the Roumu API with an API token. Its zero HTTP uses a client with a 30-second timeout.
type Client struct {
	BaseURL  string // e.g. "https://roumu.example.jp", without /api/v1
	Token    string // an API token with the employees:read scope
	HTTP     *http.Client
	PageSize int
}

var defaultHTTP = &http.Client{Timeout: 30 * time.Second}

// Employee is an employee as the API shows it: the members this example looks at, and the whole record.
type Employee struct {
	ID             string    `json:"id"`
	EmployeeNumber string    `json:"employee_number"`
	FamilyName     string    `json:"family_name"`
	GivenName      string    `json:"given_name"`
	Status         string    `json:"status"`
	Version        int64     `json:"version"`
	UpdatedAt      time.Time `json:"updated_at"`
	// Record is the employee exactly as the API sent it, with every field.
	Record json.RawMessage `json:"-"`
}

// Replica is a partner's copy of the register: the latest record of each employee, and the mark, the
// latest updated_at synced (zero before the first sync). Save both together. Not safe for concurrent use.
type Replica struct {
	Employees map[string]Employee
	Mark      time.Time
}

// SyncResult is what one Sync did.
type SyncResult struct {
	Read    int        // records the API sent, those read again for the overlap included
	Changed []Employee // records new to the replica or at a newer version, in the order read
}

// Sync brings r up to date: it reads every employee updated since Overlap before r.Mark (every employee
// when the mark is zero) and keeps those the replica has at an older version or not at all. On error, r
// keeps what was read before it, and the next Sync goes on from there.
func (c *Client) Sync(ctx context.Context, r *Replica) (SyncResult, error) {
	if r.Employees == nil {
		r.Employees = map[string]Employee{}
	}
	pageSize := c.PageSize
	if pageSize <= 0 {
		pageSize = DefaultPageSize
	}
	// The same query goes with every page; only the cursor changes.
	query := url.Values{"sort": {"updated_at"}, "limit": {strconv.Itoa(pageSize)}}
	if !r.Mark.IsZero() {
		query.Set("updated_since", r.Mark.Add(-Overlap).UTC().Format(time.RFC3339))
	}
	var res SyncResult
	for {
		items, next, err := c.employeesPage(ctx, query)
		if err != nil {
			return res, err
		}
		for _, e := range items {
			res.Read++
			if have, ok := r.Employees[e.ID]; !ok || e.Version > have.Version {
				r.Employees[e.ID] = e
				res.Changed = append(res.Changed, e)
			}
			if e.UpdatedAt.After(r.Mark) {
				r.Mark = e.UpdatedAt
			}
		}
		if next == "" {
			return res, nil
		}
		query.Set("cursor", next)
	}
}

// employeesPage reads one page of GET /api/v1/employees.
func (c *Client) employeesPage(ctx context.Context, query url.Values) ([]Employee, string, error) {
	var page struct {
		Items      []json.RawMessage `json:"items"`
		NextCursor string            `json:"next_cursor"` // null on the last page leaves it ""
	}
	if err := c.get(ctx, "/api/v1/employees?"+query.Encode(), &page); err != nil {
		return nil, "", err
	}
	items := make([]Employee, len(page.Items))
	for i, raw := range page.Items {
		if err := json.Unmarshal(raw, &items[i]); err != nil {
			return nil, "", fmt.Errorf("roumusync: employee %d of the page: %w", i, err)
		}
		items[i].Record = raw
	}
	return items, page.NextCursor, nil
}

// APIError is an error answer of the API: an RFC 7807 problem document with a machine-readable code.
type APIError struct {
	StatusCode int
	Code       string        // e.g. "token_expired", "insufficient_scope", "rate_limited"
	Detail     string        // in English
	DetailJA   string        // in Japanese
	RetryAfter time.Duration // from Retry-After on 429 and 503, else 0
}

func (e *APIError) Error() string {
	return fmt.Sprintf("roumu API: %d %s: %s", e.StatusCode, e.Code, e.Detail)
}

// get sends an authenticated GET and decodes a 200 answer into v, or returns an *APIError.
func (c *Client) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.BaseURL, "/")+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", "application/json")
	client := c.HTTP
	if client == nil {
		client = defaultHTTP
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 32<<20))
	if err != nil {
		return err
	}
	if res.StatusCode == http.StatusOK {
		return json.Unmarshal(body, v)
	}
	apiErr := &APIError{StatusCode: res.StatusCode}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt == "application/problem+json" {
		var p struct {
			Code     string `json:"code"`
			Detail   string `json:"detail"`
			DetailJA string `json:"detail_ja"`
		}
		_ = json.Unmarshal(body, &p) // an unreadable problem still has its status
		apiErr.Code, apiErr.Detail, apiErr.DetailJA = p.Code, p.Detail, p.DetailJA
	}
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil {
		apiErr.RetryAfter = time.Duration(s) * time.Second
	}
	return apiErr
}
