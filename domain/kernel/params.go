package kernel

import (
	"maps"
	"slices"

	"github.com/roumu/roumu/ports"
)

// ParamError is the field error of an operation request's parameter key (see ports.OperationRequest).
func ParamError(key, code, en, ja string) ports.FieldError {
	return ports.FieldError{Field: "params." + key, Code: code, MessageEN: en, MessageJA: ja}
}

// UnknownParams refuses the parameters an operation does not take, so that a misspelt one is not silently
// ignored after two people approved the request.
func UnknownParams(params map[string]string, known ...string) []ports.FieldError {
	var fields []ports.FieldError
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if !slices.Contains(known, k) {
			fields = append(fields, ParamError(k, "unknown_parameter", "is not a parameter of this operation",
				"この操作のパラメーターではありません"))
		}
	}
	return fields
}
