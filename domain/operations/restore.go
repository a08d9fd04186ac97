package operations

import (
	"context"
	"encoding/hex"
	"strings"
	"unicode/utf8"

	"github.com/roumu/roumu/domain/kernel"
	"github.com/roumu/roumu/ports"
)

// A restore (OpRestore) replaces all the data of the database the service runs on, so the service cannot
// execute it from a web request: its own requests, sessions and the work record itself would be replaced
// under it, and every other instance would go on against data that changed beneath it. It is a server-side
// kind (Deps.OnServer): an operator requests it naming the backup file and its SHA-256, another approves
// it, and `roumu restore --request ID`, run on the server with the service stopped, checks the
// file against the request, claims it and restores (RunOnServer).
//
// Parameters: "backup_file", the file's name (no directories: the file is on the server, in backup.dir
// or where the command is told), and "backup_sha256", the hex SHA-256 of the whole file (`sha256sum FILE`,
// also printed by `roumu backup`), which binds the approval to exactly that file.
const (
	RestoreFileParam   = "backup_file"
	RestoreSHA256Param = "backup_sha256"
)

// RestoreOrder is what an approved restore request allows.
type RestoreOrder struct {
	File   string
	SHA256 string // lower-case hex
}

// ParseRestore reads and checks the parameters of a restore request; its error lists every field wrong.
func ParseRestore(params map[string]string) (RestoreOrder, error) {
	o := RestoreOrder{File: params[RestoreFileParam], SHA256: strings.ToLower(params[RestoreSHA256Param])}
	fields := kernel.UnknownParams(params, RestoreFileParam, RestoreSHA256Param)
	switch {
	case o.File == "":
		fields = append(fields, kernel.ParamError(RestoreFileParam, "required", "is required", "必須項目です"))
	case strings.ContainsAny(o.File, `/\`) || o.File == "." || o.File == ".." || utf8.RuneCountInString(o.File) > 255:
		fields = append(fields, kernel.ParamError(RestoreFileParam, "invalid_file_name",
			"must be the backup file's name, without directories", "バックアップファイルの名前（ディレクトリなし）を指定してください"))
	}
	if b, err := hex.DecodeString(o.SHA256); err != nil || len(b) != 32 {
		fields = append(fields, kernel.ParamError(RestoreSHA256Param, "invalid_sha256",
			"must be the file's SHA-256 as 64 hexadecimal digits", "ファイルの SHA-256 を16進数64桁で指定してください"))
	}
	if len(fields) > 0 {
		return RestoreOrder{}, invalid(fields)
	}
	return o, nil
}

// ServerSide is the service's Deps.OnServer: the kinds a command on the server runs (a restore is requested
// and approved in the console, and run by `roumu restore --request ID`), each with its request-time check.
func ServerSide() map[string]func(context.Context, map[string]string) error {
	return map[string]func(context.Context, map[string]string) error{ports.OpRestore: CheckRestore}
}

// CheckRestore is the request-time check of OpRestore, for Deps.OnServer.
func CheckRestore(_ context.Context, params map[string]string) error {
	_, err := ParseRestore(params)
	return err
}
