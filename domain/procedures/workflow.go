package procedures

import (
	"fmt"
	"slices"
	"strings"

	"github.com/roumu/roumu/ports"
)

// transition is one workflow action: the statuses it leaves from, the status it leads to, and whether it
// takes an approver (a role of approverRoles, and not one of the procedure's preparers).
type transition struct {
	from          []string
	to            string
	needsApprover bool
	needsComment  bool
}

// workflow is the state machine of a procedure, as data:
//
//	draft ──submit──▶ pending_approval ──approve──▶ approved ──file──▶ filed ──complete──▶ completed
//	  ▲                 │  return (差戻し)              │ return            │ return (補正)
//	returned ◀──────────┴──────────────────────────────┴──────────────────┘
//	returned ──submit──▶ pending_approval;  draft, returned, pending_approval, approved ──cancel──▶ cancelled
//
// Returning and cancelling say why (a comment is required). Returning from pending_approval or approved is
// the approver's (差戻し); from filed it is the office's correction request (補正), recorded by anyone who may
// file, or by PollFilings.
var workflow = map[string]transition{
	ports.ActionSubmit:   {from: []string{ports.ProcedureDraft, ports.ProcedureReturned}, to: ports.ProcedurePendingApproval},
	ports.ActionApprove:  {from: []string{ports.ProcedurePendingApproval}, to: ports.ProcedureApproved, needsApprover: true},
	ports.ActionReturn:   {from: []string{ports.ProcedurePendingApproval, ports.ProcedureApproved, ports.ProcedureFiled}, to: ports.ProcedureReturned, needsComment: true},
	ports.ActionFile:     {from: []string{ports.ProcedureApproved}, to: ports.ProcedureFiled},
	ports.ActionComplete: {from: []string{ports.ProcedureFiled}, to: ports.ProcedureCompleted},
	ports.ActionCancel:   {from: []string{ports.ProcedureDraft, ports.ProcedureReturned, ports.ProcedurePendingApproval, ports.ProcedureApproved}, to: ports.ProcedureCancelled, needsComment: true},
}

// approverRoles may approve procedures and return them before they are filed. Decision: admin only, not hr.
// The two-person rule exists to bring in a second, accountable person; if hr could approve, two clerks
// could file for the company without anyone who answers for it. A tenant that wants an hr member to
// approve gives that member the admin role. The preparer can never approve their own work, whatever role.
var approverRoles = []string{ports.RoleAdmin}

// preparerRoles may create, edit, submit, file, complete and cancel procedures.
var preparerRoles = []string{ports.RoleAdmin, ports.RoleHR}

// editable are the statuses in which a procedure's data may change.
var editable = []string{ports.ProcedureDraft, ports.ProcedureReturned}

// open are the statuses whose deadline is still ahead of the company (the dashboard's).
var open = []string{ports.ProcedureDraft, ports.ProcedureReturned, ports.ProcedurePendingApproval, ports.ProcedureApproved}

// statusNames are the statuses in both languages, for messages.
var statusNames = map[string][2]string{
	ports.ProcedureDraft:           {"下書き", "draft"},
	ports.ProcedurePendingApproval: {"承認待ち", "pending approval"},
	ports.ProcedureApproved:        {"承認済み", "approved"},
	ports.ProcedureFiled:           {"提出済み", "filed"},
	ports.ProcedureCompleted:       {"完了", "completed"},
	ports.ProcedureReturned:        {"差戻し", "returned"},
	ports.ProcedureCancelled:       {"取消", "cancelled"},
}

// hasAny reports whether p holds one of roles.
func hasAny(p ports.Principal, roles []string) bool {
	return slices.ContainsFunc(roles, p.HasRole)
}

// member reports whether p is a fully signed-in member of a tenant with one of roles.
func member(p ports.Principal, roles []string) bool {
	return p.Kind == ports.KindMember && p.TenantID != "" && p.Stage == ports.StageFull && hasAny(p, roles)
}

// check refuses an action the workflow does not allow from status, or that actor may not take.
// preparers are the accounts that edited or submitted the procedure.
func (t transition) check(action, status string, actor ports.Principal, preparers []string, comment string) error {
	if !slices.Contains(t.from, status) {
		return illegalTransition(action, status, t.from)
	}
	if t.needsApprover || (action == ports.ActionReturn && status != ports.ProcedureFiled) {
		if !hasAny(actor, approverRoles) {
			return ports.NewError(ports.ErrForbidden, "approver_role_required",
				"Only an administrator can approve or return a procedure.",
				"手続きの承認・差戻しは管理者のみが行えます。")
		}
	}
	if t.needsApprover && slices.Contains(preparers, actor.AccountID) {
		return ports.NewError(ports.ErrForbidden, "four_eyes",
			"A procedure must be approved by someone other than the person who prepared it.",
			"手続きは作成・申請した人とは別の人が承認する必要があります。")
	}
	if t.needsComment && strings.TrimSpace(comment) == "" {
		return ports.Invalid("validation_failed", "Say why.", "理由を入力してください。",
			ports.FieldError{Field: "comment", Code: "required", MessageEN: "is required", MessageJA: "必須です"})
	}
	return nil
}

// illegalTransition is the 409 of an action the status does not allow.
func illegalTransition(action, status string, from []string) error {
	ja, en := make([]string, len(from)), make([]string, len(from))
	for i, f := range from {
		ja[i], en[i] = statusNames[f][0], statusNames[f][1]
	}
	return ports.NewError(ports.ErrConflict, "illegal_transition",
		fmt.Sprintf("The procedure is %s; %q is possible only when it is %s.", statusNames[status][1], action, strings.Join(en, " or ")),
		fmt.Sprintf("この手続きは「%s」のため、この操作（%s）はできません（「%s」のときのみ可能です）。", statusNames[status][0], action, strings.Join(ja, "」「")))
}
