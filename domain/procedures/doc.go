// Package procedures is the procedures module (手続き): the catalogue of social and labour insurance filings
// as data, their legal deadlines on the Japanese business calendar, the approval workflow with the
// two-person rule, and the triggers that create procedures from employee events exactly once. It implements
// ports.Procedures and reaches the world only through driven ports.
//
// Decisions, each kept in one place:
//
//   - Deadlines (deadline.go): "within N days" counts from the day after the fact; a day-of-month rule gives
//     that day of the fact's month or a later one; due_date is the legal deadline moved to the next day the
//     offices are open (calendar.Calendar: weekends, national holidays, 12/29–1/3, configured closures). A
//     procedure shows both dates and the rule's text in Japanese and English. 速やかに is given a 5-day
//     target so that such procedures appear on the dashboard.
//   - Fact dates: a hire's is the hire date; a separation's is the 資格喪失日, the day after the last day
//     (the last day is kept in the snapshot); a dependent change's is the change's effective date; the
//     算定基礎届's is 1 July.
//   - The snapshot (procedure.go) is read through the register's driving port, ports.Employees, as of the
//     fact date, as a system principal of the tenant: the module never reads another module's store or
//     internals, and the event payloads carry no personal data. It holds no My Number, insurance number or
//     bank account: those stay sealed in the register and are read when documents are made.
//   - Coverage (catalogue.go): events create procedures for every employment type except dispatched workers
//     (派遣, insured by their agency) and, for employment insurance, executives (役員). Part-timers get them,
//     and HR cancels those that do not apply, since the register does not hold working hours.
//   - Workflow (workflow.go): only admins approve (and return before filing); hr prepares, submits, files,
//     completes and cancels. Nobody who edited or submitted a procedure may approve it.
//   - Exactly once (triggers.go): each event is handled in one transaction that also marks it consumed
//     (ports.Outbox.MarkConsumed), so a crash leaves it wholly handled or still pending and racing
//     instances handle it once; the dedup key (type, employee change) is a second guard against a change
//     reported twice. A change taken back (a cancelled scheduled separation) cancels what it created.
//   - Filing (filing.go, gateway.go): the file action calls ports.ProcedureFiler when one is wired
//     (GatewayFiler over a ports.FilingGateway), else records a paper filing; PollFilings completes or
//     returns electronic filings by the office's answer.
//
// Not yet: employees created by a CSV import start no procedures (the register reports an import as one
// employees.imported event, without the employees); the tenant cannot yet say that it belongs to a 健康保険
// 組合 (health filings default to the pension office; a procedure made by hand may name the society).
package procedures
