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
//   - Events (events.go): every creation and every status change, by a person or by the module itself
//     (events, annual reports, an office's answer), writes procedure.created or procedure.status_changed to
//     the outbox in its own transaction, for webhooks. The module's consumer reads employee events only.
//   - Documents (form.go, documents.go): the 健保・厚年 資格取得届 and 資格喪失届 and the 雇用保険資格取得届 are
//     filled when asked for, from the snapshot, the fact date (era dates by efiling.FormDateOf) and the
//     employer block, which the register does not know: a procedure's employer.* fields, over the tenant's
//     defaults from Deps.Employers. The person's numbers are read then through ports.Employees as the caller
//     (or FilingActor when filing): the insurance numbers by GetEmployee, My Number by RevealMyNumber, which
//     the register audits with the procedure in the purpose; without My Number the basic pension number
//     identifies the person. None of them is stored. ports.ProcedureDocuments gives the PDF (Deps.Renderer)
//     and the 届書作成プログラム CSV (efiling; not for 雇用保険, filed with ハローワーク in another format).
//   - Filing (filing.go, gateway.go): the file action calls ports.ProcedureFiler when one is wired
//     (GatewayFiler over a ports.FilingGateway, with the PDF and the CSV as FilingAttachments), else
//     records a paper filing; PollFilings completes or returns electronic filings by the office's answer.
//     The 媒体通番 and the submission's reference count the procedure's filings (001, then 002 after a 補正),
//     so a retried filing files once and a corrected one files anew.
//
// Not yet: employees created by a CSV import start no procedures (the register reports an import as one
// employees.imported event, without the employees); the tenant cannot yet say that it belongs to a 健康保険
// 組合 (health filings default to the pension office; a procedure made by hand may name the society).
package procedures
