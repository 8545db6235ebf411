//! The CSV form of a listed send, shared by the server's export and the CLI: the listing's
//! fields, nested ones flattened, the history as JSON in one column.

use crate::Send;

/// The header row.
pub const COLUMNS: [&str; 20] = [
    "id",
    "send_gid",
    "type",
    "subtype",
    "currency",
    "current_total_cost",
    "status",
    "created_at",
    "touch_id",
    "touch_name",
    "recipient_name",
    "recipient_email",
    "recipient_company_name",
    "sender_id",
    "sender_name",
    "sender_email",
    "sender_team_id",
    "sender_team_name",
    "sent_via",
    "status_updates",
];

/// A send's fields in [`COLUMNS`] order (absent values empty), each made safe to open in a
/// spreadsheet with [`defuse`].
pub fn record(send: &Send) -> [String; 20] {
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let history = serde_json::to_string(&send.status_updates)
        .expect("status updates are strings, always serializable");
    [
        send.id.to_string(),
        send.send_gid.clone(),
        send.send_type.clone(),
        send.subtype.clone(),
        send.currency.clone(),
        send.current_total_cost.clone(),
        send.status.clone(),
        send.created_at.clone(),
        send.touch.id.to_string(),
        send.touch.name.clone(),
        send.recipient.name.clone(),
        send.recipient.email.clone(),
        opt(&send.recipient.company_name),
        send.sender.id.to_string(),
        send.sender.name.clone(),
        send.sender.email.clone(),
        send.sender
            .team_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        opt(&send.sender.team_name),
        send.sent_via.clone(),
        history,
    ]
    .map(defuse)
}

/// One CSV record (RFC 4180, by the csv crate: quoted when it must be, CRLF line ends).
pub fn line<T: AsRef<[u8]>>(fields: &[T]) -> String {
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing to memory cannot fail, and every field given is UTF-8 text.
    let _ = writer.write_record(fields);
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// A field a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR,
/// and not a number) prefixed with `'`, as OWASP advises against CSV injection.
pub fn defuse(field: String) -> String {
    if field.starts_with(['=', '+', '-', '@', '\t', '\r']) && field.parse::<f64>().is_err() {
        format!("'{field}")
    } else {
        field
    }
}

#[cfg(test)]
mod tests {
    use super::{defuse, line};

    #[test]
    fn fields_are_quoted_when_they_must_be() {
        let l = line(&[
            "plain".to_owned(),
            "a,b".to_owned(),
            "say \"hi\"".to_owned(),
            "two\nlines".to_owned(),
            defuse("=HYPERLINK(\"x\")".to_owned()),
            "-12.5".to_owned(),
            String::new(),
        ]);
        assert_eq!(
            l,
            "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"'=HYPERLINK(\"\"x\"\")\",-12.5,\r\n"
        );
    }

    #[test]
    fn formulas_are_defused_and_numbers_kept() {
        assert_eq!(defuse("=HYPERLINK(\"x\")".into()), "'=HYPERLINK(\"x\")");
        assert_eq!(defuse("@SUM(A1)".into()), "'@SUM(A1)");
        assert_eq!(defuse("-12.5".into()), "-12.5");
        assert_eq!(defuse("plain".into()), "plain");
    }
}
