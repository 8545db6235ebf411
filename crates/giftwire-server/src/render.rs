//! From domain records to wire types, in the organization's time zone.

use giftwire_api as api;
use giftwire_core::store::SendRecord;
use giftwire_core::{OrgTimeZone, SendGid};

/// A send as `GET /api/v3/send` lists it.
pub fn send(record: &SendRecord, tz: &OrgTimeZone) -> api::Send {
    api::Send {
        id: record.id.get(),
        send_gid: SendGid::of(record.id).as_str().to_owned(),
        send_type: record.touch.send_type.as_str().to_owned(),
        subtype: record.touch.subtype.as_str().to_owned(),
        currency: record.touch.currency.as_str().to_owned(),
        current_total_cost: record.cost.to_string(),
        status: record.status().as_str().to_owned(),
        created_at: tz.format(record.created_at),
        touch: api::TouchRef {
            id: record.touch.id.get(),
            name: record.touch.name.clone(),
        },
        recipient: api::Recipient {
            name: record.recipient.name.clone(),
            email: record.recipient.email.clone(),
            company_name: record.recipient.company_name.clone(),
        },
        sender: api::Sender {
            id: record.sender.id.get(),
            name: record.sender.name.clone(),
            email: record.sender.email.clone(),
            team_id: record.sender.team.as_ref().map(|(id, _)| id.get()),
            team_name: record.sender.team.as_ref().map(|(_, name)| name.clone()),
        },
        sent_via: record.sent_via.clone(),
        status_updates: record
            .history
            .iter()
            .map(|entry| api::StatusUpdate {
                status: entry.status.as_str().to_owned(),
                occurred_at: tz.format(entry.occurred_at),
            })
            .collect(),
    }
}

/// The JSON array of a page's sends, as it appears under `"sends"`.
pub fn send_array(records: &[SendRecord], tz: &OrgTimeZone) -> Result<Vec<u8>, serde_json::Error> {
    let sends: Vec<api::Send> = records.iter().map(|r| send(r, tz)).collect();
    let mut out = Vec::with_capacity(records.len() * 800 + 2);
    serde_json::to_writer(&mut out, &sends)?;
    Ok(out)
}
