// Command vulncheck runs govulncheck over the module against a vulnerability database on disk and fails when
// the code calls a vulnerable symbol, unless the advisory is accepted in accepted.txt with the reason it does
// not apply to us. `make vulncheck` (part of `make test`) runs it with the OSV files of golang.org/x/vulndb as
// served by the module proxy, since vuln.go.dev is out of this network's reach.
//
// Only findings at the symbol level count: an advisory on a package we import but whose vulnerable code we
// never call cannot be exploited through us, which is govulncheck's own rule for its exit status.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
)

func main() {
	db := flag.String("db", "", "directory of OSV files (golang.org/x/vulndb's data/osv)")
	accepted := flag.String("accepted", "test/vulncheck/accepted.txt", "advisories accepted, one per line: ID and why")
	govulncheck := flag.String("govulncheck", "govulncheck", "the govulncheck program")
	flag.Parse()
	if err := run(*govulncheck, *db, *accepted, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "vulncheck:", err)
		os.Exit(1)
	}
}

func run(govulncheck, db, acceptedFile string, out io.Writer) error {
	if db == "" {
		return errors.New("-db names no database")
	}
	accepted, err := readAccepted(acceptedFile)
	if err != nil {
		return err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(govulncheck, "-db", "file://"+db, "-format", "json", "./...")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %v: %s", govulncheck, err, strings.TrimSpace(stderr.String()))
	}
	called, err := calledAdvisories(&stdout)
	if err != nil {
		return err
	}
	var failed []string
	for _, id := range slices.Sorted(maps.Keys(called)) {
		if reason, ok := accepted[id]; ok {
			fmt.Fprintf(out, "accepted %s (%s): %s\n", id, called[id], reason)
			continue
		}
		failed = append(failed, fmt.Sprintf("%s in %s", id, called[id]))
	}
	for _, id := range slices.Sorted(maps.Keys(accepted)) {
		if _, ok := called[id]; !ok {
			fmt.Fprintf(out, "note: %s is accepted but no longer found; drop it from %s\n", id, acceptedFile)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("the code calls vulnerable symbols: %s (upgrade, or accept in %s with the reason)",
			strings.Join(failed, ", "), acceptedFile)
	}
	fmt.Fprintf(out, "vulncheck: no unaccepted vulnerability is reachable (%d accepted)\n", len(called))
	return nil
}

// calledAdvisories reads govulncheck's JSON stream and returns the advisories whose vulnerable symbols the code
// calls, each with the module@version it is found in.
func calledAdvisories(r io.Reader) (map[string]string, error) {
	type frame struct {
		Module, Version, Package, Function string
	}
	var msg struct {
		Finding *struct {
			OSV   string  `json:"osv"`
			Trace []frame `json:"trace"`
		} `json:"finding"`
	}
	called := map[string]string{}
	dec := json.NewDecoder(r)
	for {
		msg.Finding = nil
		if err := dec.Decode(&msg); errors.Is(err, io.EOF) {
			return called, nil
		} else if err != nil {
			return nil, fmt.Errorf("reading govulncheck's output: %w", err)
		}
		if f := msg.Finding; f != nil && len(f.Trace) > 0 && f.Trace[0].Function != "" {
			called[f.OSV] = f.Trace[0].Module + "@" + f.Trace[0].Version
		}
	}
}

// readAccepted reads "ID reason…" lines; blank lines and # comments are skipped, and a reason is required.
func readAccepted(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, " ")
		if strings.TrimSpace(reason) == "" {
			return nil, fmt.Errorf("%s:%d: %s is accepted without a reason", path, n, id)
		}
		out[id] = strings.TrimSpace(reason)
	}
	return out, sc.Err()
}
