//! The store's multi-step operations on sends, written once for both backends. Each backend
//! implements [`SendSql`] (small statements in its own SQL) on its connection; the steps, their
//! order and the lifecycle checks live here, inside the caller's transaction.

use std::collections::BTreeMap;

use async_trait::async_trait;
use giftwire_core::delivery::deadline_after;
use giftwire_core::lifecycle::{self, SendState, StatusChange, StatusEntry, Transition};
use giftwire_core::store::{
    Created, CreatedSend, IdempotencyClaim, MovementKind, NewMovement, NewSend, SeedSend,
    SendOrder, SendRecord,
};
use giftwire_core::{
    Address, Amount, Deadline, Delivery, InvalidValue, Money, NewMail, OrgId, SendId, SendKind,
    SendStatus, StoreError, UserId, Variant,
};
use jiff::Timestamp;

use crate::rows::corrupt;

/// The statements the flows are made of. Every method runs inside the caller's transaction.
#[async_trait]
pub(crate) trait SendSql: Send {
    /// A send with its history; `lock` holds its row until the transaction ends.
    async fn load_send(
        &mut self,
        org: OrgId,
        id: SendId,
        lock: bool,
    ) -> Result<SendRecord, StoreError>;
    /// A send created in this transaction (no history yet).
    async fn load_new_send(&mut self, org: OrgId, id: SendId) -> Result<SendRecord, StoreError>;
    /// Orders this transaction's changes of the organization's sends after those of every
    /// transaction that called it before, until this one ends (so change feed positions grow in
    /// commit order, migration 0010). Called first, before any other lock is taken.
    async fn order_changes(&mut self, org: OrgId) -> Result<(), StoreError>;
    async fn load_delivery(
        &mut self,
        org: OrgId,
        id: SendId,
    ) -> Result<Option<Delivery>, StoreError>;
    /// A pending send at the end of its organization (its touch and sender must be the organization's).
    async fn insert_send(&mut self, org: OrgId, new: &NewSend) -> Result<SendId, StoreError>;
    async fn insert_delivery(
        &mut self,
        org: OrgId,
        id: SendId,
        delivery: &Delivery,
    ) -> Result<(), StoreError>;
    async fn set_address(
        &mut self,
        org: OrgId,
        id: SendId,
        address: &Address,
    ) -> Result<(), StoreError>;
    /// Appends `entry` to the history of `send` (as it is before the entry), sets its cost and
    /// status, counts one change, and moves the send from its status to the entry's in the
    /// per-touch, per-status totals.
    async fn append_status(
        &mut self,
        org: OrgId,
        send: &SendRecord,
        entry: &StatusEntry,
        cost: Money,
    ) -> Result<(), StoreError>;
    /// Records event number `seq` of a send (0: its creation).
    async fn insert_event(
        &mut self,
        org: OrgId,
        send: SendId,
        seq: usize,
        event_type: &str,
        status: SendStatus,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Moves a user's balance and records it in the ledger; `Refused` when a draw would take
    /// the balance below zero.
    async fn move_balance(&mut self, org: OrgId, movement: &NewMovement) -> Result<(), StoreError>;
    async fn insert_deadline(&mut self, deadline: &Deadline) -> Result<(), StoreError>;
    /// Deletes a deadline that is due at `now`; `false` when it is gone (another worker took it).
    async fn take_deadline(
        &mut self,
        deadline: &Deadline,
        now: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Mail to the outbox, caused by a send or (`None`) by something else.
    async fn insert_mail(
        &mut self,
        org: OrgId,
        send: Option<SendId>,
        mail: &NewMail,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    async fn expiry_days(&mut self, org: OrgId) -> Result<u32, StoreError>;
    /// The request hash and send ids recorded for a key. Waits first for a concurrent request
    /// holding the same key, so that it sees what that one wrote.
    async fn idempotency_key(
        &mut self,
        org: OrgId,
        key: &str,
    ) -> Result<Option<(Vec<u8>, String)>, StoreError>;
    async fn remember_idempotency_key(
        &mut self,
        org: OrgId,
        claim: &IdempotencyClaim,
        send_ids: &str,
    ) -> Result<(), StoreError>;
}

fn state_of(send: &SendRecord) -> SendState<'_> {
    SendState {
        kind: send.touch.send_type.kind(),
        created_at: send.created_at,
        cost: send.cost,
        history: &send.history,
    }
}

/// Creates a pending send at the end of its organization and draws its cost from its sender's
/// balance.
pub(crate) async fn create_send<C: SendSql>(
    conn: &mut C,
    org: OrgId,
    new: &NewSend,
) -> Result<SendRecord, StoreError> {
    conn.order_changes(org).await?;
    let id = conn.insert_send(org, new).await?;
    let send = conn.load_new_send(org, id).await?;
    let draw = NewMovement {
        user: send.sender.id,
        kind: MovementKind::Send,
        amount: Amount::draw(send.cost),
        send: Some(id),
        note: None,
        at: send.created_at,
    };
    conn.move_balance(org, &draw).await?;
    conn.insert_event(
        org,
        id,
        0,
        giftwire_core::events::INITIATED,
        SendStatus::Pending,
        send.created_at,
    )
    .await?;
    Ok(send)
}

/// Draws the cost of bulk-loaded sends from their senders' balances: per sender, a movement
/// funding the sends marked [`SeedSend::fund`], then one drawing all of its sends of the batch,
/// at the latest of their creation times.
pub(crate) async fn draw_bulk<C: SendSql>(
    conn: &mut C,
    org: OrgId,
    sends: &[SeedSend],
) -> Result<(), StoreError> {
    #[derive(Default)]
    struct Totals {
        drawn: i64,
        funded: i64,
        count: u64,
        at: Option<Timestamp>,
    }
    let mut per_sender: BTreeMap<UserId, Totals> = BTreeMap::new();
    for s in sends {
        let t = per_sender.entry(s.send.sender).or_default();
        t.drawn += s.cost.units();
        if s.fund {
            t.funded += s.cost.units();
        }
        t.count += 1;
        t.at = Some(t.at.map_or(s.send.created_at, |at| at.max(s.send.created_at)));
    }
    for (user, t) in per_sender {
        let at = t.at.unwrap_or_else(Timestamp::now);
        if t.funded > 0 {
            let fund = NewMovement {
                user,
                kind: MovementKind::Fund,
                amount: Amount::from_units(t.funded),
                send: None,
                note: Some("funds seeded sends".to_owned()),
                at,
            };
            conn.move_balance(org, &fund).await?;
        }
        let draw = NewMovement {
            user,
            kind: MovementKind::Send,
            amount: Amount::from_units(-t.drawn),
            send: None,
            note: Some(format!("{} sends loaded together", t.count)),
            at,
        };
        conn.move_balance(org, &draw).await?;
    }
    Ok(())
}

/// Writes a change the lifecycle accepted: the status update, the cost, the balance movement a
/// new cost makes (a credit gives it all back; a repricing moves the difference), and the
/// deadline the new status starts (an eGift that is `Sent` expires). Updates `send` to match.
pub(crate) async fn record_transition<C: SendSql>(
    conn: &mut C,
    org: OrgId,
    send: &mut SendRecord,
    transition: Transition,
    egift_expiry_days: Option<u32>,
) -> Result<(), StoreError> {
    if transition.cost != send.cost {
        let credit = transition.entry.status.zeroes_cost();
        let movement = NewMovement {
            user: send.sender.id,
            kind: if credit {
                MovementKind::Credit
            } else {
                MovementKind::CostChange
            },
            amount: Amount::from_units(send.cost.units() - transition.cost.units()),
            send: Some(send.id),
            note: None,
            at: transition.entry.occurred_at,
        };
        conn.move_balance(org, &movement).await?;
    }
    let seq = send.history.len() + 1;
    conn.append_status(org, send, &transition.entry, transition.cost)
        .await?;
    let status = transition.entry.status;
    let event_type = giftwire_core::events::event_type(send.touch.send_type, status);
    conn.insert_event(
        org,
        send.id,
        seq,
        event_type,
        status,
        transition.entry.occurred_at,
    )
    .await?;
    let kind = send.touch.send_type.kind();
    if kind == SendKind::Digital && transition.entry.status == SendStatus::Sent {
        let days = match egift_expiry_days {
            Some(days) => days,
            None => conn.expiry_days(org).await?,
        };
        if let Some(deadline) = deadline_after(kind, org, send.id, &transition.entry, days) {
            conn.insert_deadline(&deadline).await?;
        }
    }
    send.history.push(transition.entry);
    send.cost = transition.cost;
    Ok(())
}

/// Reads a send (locked), asks the lifecycle, and records the change.
pub(crate) async fn change_status<C: SendSql>(
    conn: &mut C,
    org: OrgId,
    id: SendId,
    change: StatusChange,
) -> Result<SendRecord, StoreError> {
    conn.order_changes(org).await?;
    let mut send = conn.load_send(org, id, true).await?;
    let transition = lifecycle::plan(&state_of(&send), &change)?;
    record_transition(conn, org, &mut send, transition, None).await?;
    Ok(send)
}

fn parse_ids(s: &str) -> Result<Vec<SendId>, StoreError> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse::<i64>()
                .map(SendId::new)
                .map_err(|_| corrupt(InvalidValue::new("send_ids", s)))
        })
        .collect()
}

/// Creates the orders' sends with their deliveries, initial statuses, deadlines and mail; with a
/// claim, replays (or refuses) a key used before.
pub(crate) async fn create_api_sends<C: SendSql>(
    conn: &mut C,
    org: OrgId,
    orders: Vec<SendOrder>,
    claim: Option<IdempotencyClaim>,
) -> Result<Created, StoreError> {
    conn.order_changes(org).await?;
    if let Some(claim) = &claim
        && let Some((hash, ids)) = conn.idempotency_key(org, &claim.key).await?
    {
        if hash != claim.request_hash {
            return Err(StoreError::Conflict(format!(
                "Idempotency-Key {:?} was already used with another request",
                claim.key
            )));
        }
        let mut sends = Vec::new();
        for id in parse_ids(&ids)? {
            let send = conn.load_send(org, id, false).await?;
            let delivery = conn
                .load_delivery(org, id)
                .await?
                .ok_or(StoreError::NotFound("Send"))?;
            sends.push(CreatedSend { send, delivery });
        }
        return Ok(Created {
            replayed: true,
            sends,
        });
    }
    let expiry = conn.expiry_days(org).await?;
    let mut sends = Vec::with_capacity(orders.len());
    for order in orders {
        let mut send = create_send(conn, org, &order.send).await?;
        let id = send.id;
        conn.insert_delivery(org, id, &order.delivery).await?;
        if let Some(status) = order.initial_status {
            let change = StatusChange {
                status,
                occurred_at: send.created_at,
                cost: None,
            };
            let transition = lifecycle::plan(&state_of(&send), &change)?;
            record_transition(conn, org, &mut send, transition, Some(expiry)).await?;
            if order.delivery.variant == Variant::AddressCollection
                && let Some(collection) = &order.delivery.collection
            {
                let deadline = Deadline::address_expiry(
                    org,
                    id,
                    send.created_at,
                    collection.expire_after_days,
                );
                conn.insert_deadline(&deadline).await?;
            }
        }
        for mail in &order.mail {
            conn.insert_mail(org, Some(id), mail, send.created_at)
                .await?;
        }
        sends.push(CreatedSend {
            send,
            delivery: order.delivery,
        });
    }
    if let Some(claim) = &claim {
        let ids: Vec<String> = sends.iter().map(|c| c.send.id.get().to_string()).collect();
        conn.remember_idempotency_key(org, claim, &ids.join(","))
            .await?;
    }
    Ok(Created {
        replayed: false,
        sends,
    })
}

/// Records a confirmed address and `Processing`, through the lifecycle.
pub(crate) async fn confirm_address<C: SendSql>(
    conn: &mut C,
    org: OrgId,
    id: SendId,
    address: &Address,
    at: Timestamp,
) -> Result<SendRecord, StoreError> {
    conn.order_changes(org).await?;
    let mut send = conn.load_send(org, id, true).await?;
    let change = StatusChange {
        status: SendStatus::Processing,
        occurred_at: at,
        cost: None,
    };
    let transition = lifecycle::plan(&state_of(&send), &change)?;
    conn.set_address(org, id, address).await?;
    record_transition(conn, org, &mut send, transition, None).await?;
    Ok(send)
}

/// Takes a due deadline and applies its change if it still applies; `None` when it does not (or
/// another worker took it).
pub(crate) async fn apply_deadline<C: SendSql>(
    conn: &mut C,
    deadline: &Deadline,
    now: Timestamp,
) -> Result<Option<SendRecord>, StoreError> {
    conn.order_changes(deadline.org).await?;
    if !conn.take_deadline(deadline, now).await? {
        return Ok(None);
    }
    let mut send = conn.load_send(deadline.org, deadline.send, true).await?;
    let delivery = conn.load_delivery(deadline.org, deadline.send).await?;
    let Some(status) = deadline.change(&send.history, delivery.as_ref()) else {
        return Ok(None);
    };
    let last = send.last_change_at();
    let change = StatusChange {
        status,
        occurred_at: now.max(last),
        cost: None,
    };
    match lifecycle::plan(&state_of(&send), &change) {
        Ok(transition) => {
            record_transition(conn, deadline.org, &mut send, transition, None).await?;
            Ok(Some(send))
        }
        Err(_) => Ok(None),
    }
}
