//! The lifecycle of a send (CONTRACT.md §6): which status may follow which, what happens to
//! the cost, and the order of time. Every entry point (CLI, HTTP, recipient pages, workers,
//! seeding) asks [`plan`] before a store writes a status change, inside the store's transaction.

use jiff::Timestamp;

use crate::catalog::SendKind;
use crate::money::Money;
use crate::status::SendStatus;

/// One entry of a send's status history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusEntry {
    pub status: SendStatus,
    pub occurred_at: Timestamp,
}

/// A requested status change, as an entry point received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub status: SendStatus,
    pub occurred_at: Timestamp,
    /// A new `current_total_cost`, reported with the change.
    pub cost: Option<Money>,
}

/// What a send is now, as far as the lifecycle cares.
#[derive(Debug, Clone, Copy)]
pub struct SendState<'a> {
    pub kind: SendKind,
    pub created_at: Timestamp,
    pub cost: Money,
    /// Oldest first; the implicit `pending` is not in it.
    pub history: &'a [StatusEntry],
}

/// An accepted change: the entry to append and the cost the send has after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub entry: StatusEntry,
    pub cost: Money,
}

/// Why a change was refused. Each message names the statuses involved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("a send in status \"{from}\" cannot change to \"{to}\"")]
    NotAllowed { from: SendStatus, to: SendStatus },
    #[error(
        "the cost of a send in the final status \"{from}\" cannot change (requested with status \"{to}\")"
    )]
    CostFrozen { from: SendStatus, to: SendStatus },
    #[error(
        "the change from \"{from}\" to \"{to}\" sets the cost to 0.0, so current_total_cost {cost} cannot be recorded with it"
    )]
    CostZeroed {
        from: SendStatus,
        to: SendStatus,
        cost: Money,
    },
    #[error(
        "the change from \"{from}\" to \"{to}\" at {at} would precede {what} at {earlier}; changes are recorded in time order"
    )]
    OutOfOrder {
        from: SendStatus,
        to: SendStatus,
        at: Timestamp,
        what: &'static str,
        earlier: Timestamp,
    },
}

/// The status a history ends in: its last entry, or `pending` when it is empty.
pub fn current_status(history: &[StatusEntry]) -> SendStatus {
    history.last().map_or(SendStatus::Pending, |e| e.status)
}

/// The status a paused send would resume to: the one before its last `Paused` entry.
fn paused_from(history: &[StatusEntry]) -> SendStatus {
    let last_pause = history
        .iter()
        .rposition(|e| e.status == SendStatus::Paused)
        .unwrap_or(0);
    current_status(&history[..last_pause])
}

/// The statuses that may follow the current one. Empty for a final status.
pub fn allowed_next(kind: SendKind, history: &[StatusEntry]) -> Vec<SendStatus> {
    use SendStatus::*;
    let from = current_status(history);
    let fixed: &[SendStatus] = match (kind, from) {
        (_, Paused) => return vec![paused_from(history), Cancelled],
        (_, Failed) => &[Refunded],
        (SendKind::Digital, Pending) => &[Sent, BouncedAndCredited, Cancelled, Failed, Paused],
        (SendKind::Digital, Sent) => &[
            Opened,
            Clicked,
            Used,
            BouncedAndCredited,
            Expired,
            ExpiredAndCredited,
        ],
        (SendKind::Digital, Opened) => &[Clicked, Used, Expired, ExpiredAndCredited],
        (SendKind::Digital, Clicked) => &[Used, Expired, ExpiredAndCredited],
        (SendKind::Physical, Pending) => &[
            CollectingRecipientInfo,
            ConfirmingAddress,
            Processing,
            Cancelled,
            Failed,
            Paused,
        ],
        (SendKind::Physical, CollectingRecipientInfo) => &[
            ConfirmingAddress,
            Processing,
            AddressConfirmationCancelled,
            Cancelled,
            Paused,
        ],
        (SendKind::Physical, ConfirmingAddress) => {
            &[Processing, AddressConfirmationCancelled, Cancelled, Paused]
        }
        (SendKind::Physical, Processing) => &[Packed, Cancelled, Failed, Paused],
        (SendKind::Physical, Packed) => &[Shipped, Failed],
        (SendKind::Physical, Shipped) => &[Delivered, Undeliverable],
        (SendKind::Physical, Undeliverable) => &[Refunded],
        _ => &[],
    };
    fixed.to_vec()
}

/// Decides whether `change` may happen to a send in `state`, and what it leaves behind.
/// Nothing is written here: the store appends the entry and sets the cost only on `Ok`.
pub fn plan(state: &SendState<'_>, change: &StatusChange) -> Result<Transition, LifecycleError> {
    let from = current_status(state.history);
    let to = change.status;
    if from.is_final() && change.cost.is_some() {
        return Err(LifecycleError::CostFrozen { from, to });
    }
    if !allowed_next(state.kind, state.history).contains(&to) {
        return Err(LifecycleError::NotAllowed { from, to });
    }
    let (what, earlier) = match state.history.last() {
        Some(last) => ("the previous status change", last.occurred_at),
        None => ("the creation of the send", state.created_at),
    };
    if change.occurred_at < earlier {
        return Err(LifecycleError::OutOfOrder {
            from,
            to,
            at: change.occurred_at,
            what,
            earlier,
        });
    }
    let cost = if to.zeroes_cost() {
        match change.cost {
            Some(cost) if !cost.is_zero() => {
                return Err(LifecycleError::CostZeroed { from, to, cost });
            }
            _ => Money::ZERO,
        }
    } else {
        change.cost.unwrap_or(state.cost)
    };
    Ok(Transition {
        entry: StatusEntry {
            status: to,
            occurred_at: change.occurred_at,
        },
        cost,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use SendStatus::*;

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs).unwrap()
    }

    fn history(statuses: &[SendStatus]) -> Vec<StatusEntry> {
        statuses
            .iter()
            .enumerate()
            .map(|(i, &status)| StatusEntry {
                status,
                occurred_at: t(i as i64 * 10 + 10),
            })
            .collect()
    }

    fn try_change(
        kind: SendKind,
        statuses: &[SendStatus],
        to: SendStatus,
        cost: Option<&str>,
    ) -> Result<Transition, LifecycleError> {
        let history = history(statuses);
        let state = SendState {
            kind,
            created_at: t(0),
            cost: "25.5".parse().unwrap(),
            history: &history,
        };
        plan(
            &state,
            &StatusChange {
                status: to,
                occurred_at: t(1000),
                cost: cost.map(|c| c.parse().unwrap()),
            },
        )
    }

    #[test]
    fn the_happy_paths_of_both_kinds_are_allowed() {
        let digital = [Sent, Opened, Clicked, Used];
        for i in 0..digital.len() {
            try_change(SendKind::Digital, &digital[..i], digital[i], None).unwrap();
        }
        let physical = [
            CollectingRecipientInfo,
            ConfirmingAddress,
            Processing,
            Packed,
            Shipped,
            Delivered,
        ];
        for i in 0..physical.len() {
            try_change(SendKind::Physical, &physical[..i], physical[i], None).unwrap();
        }
    }

    #[test]
    fn a_digital_send_never_ships_and_a_physical_one_is_never_opened() {
        let err = try_change(SendKind::Digital, &[Sent], Shipped, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a send in status \"Sent\" cannot change to \"Shipped\""
        );
        assert!(try_change(SendKind::Physical, &[Processing], Opened, None).is_err());
        assert!(try_change(SendKind::Physical, &[], Sent, None).is_err());
    }

    #[test]
    fn nothing_follows_a_final_status() {
        for status in SendStatus::ALL.iter().filter(|s| s.is_final()) {
            for kind in [SendKind::Digital, SendKind::Physical] {
                assert!(
                    allowed_next(kind, &history(&[*status])).is_empty(),
                    "{status}"
                );
            }
        }
    }

    #[test]
    fn a_paused_send_resumes_only_to_where_it_paused_or_is_cancelled() {
        let h = [Processing, Paused];
        assert_eq!(
            allowed_next(SendKind::Physical, &history(&h)),
            vec![Processing, Cancelled]
        );
        assert!(try_change(SendKind::Physical, &h, Packed, None).is_err());
        assert_eq!(
            allowed_next(SendKind::Digital, &history(&[Paused])),
            vec![Pending, Cancelled]
        );
        let twice = [Processing, Paused, Processing, Paused];
        assert_eq!(
            allowed_next(SendKind::Physical, &history(&twice)),
            vec![Processing, Cancelled]
        );
    }

    #[test]
    fn credited_and_refunded_statuses_zero_the_cost_and_others_keep_it() {
        let refunded =
            try_change(SendKind::Physical, &[Processing, Failed], Refunded, None).unwrap();
        assert_eq!(refunded.cost.to_string(), "0.0");
        let cancelled = try_change(
            SendKind::Physical,
            &[ConfirmingAddress],
            AddressConfirmationCancelled,
            None,
        )
        .unwrap();
        assert_eq!(cancelled.cost.to_string(), "25.5");
        let repriced =
            try_change(SendKind::Physical, &[Processing], Packed, Some("31.25")).unwrap();
        assert_eq!(repriced.cost.to_string(), "31.25");
        let err =
            try_change(SendKind::Digital, &[Sent], ExpiredAndCredited, Some("3")).unwrap_err();
        assert!(matches!(err, LifecycleError::CostZeroed { .. }));
    }

    #[test]
    fn the_cost_of_a_final_send_is_frozen_and_the_message_names_both_statuses() {
        let err = try_change(
            SendKind::Physical,
            &[Processing, Packed, Shipped, Delivered],
            Delivered,
            Some("9"),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the cost of a send in the final status \"Delivered\" cannot change (requested with status \"Delivered\")"
        );
    }

    #[test]
    fn a_change_cannot_precede_the_creation_or_the_previous_change() {
        let history = history(&[Sent]);
        let state = SendState {
            kind: SendKind::Digital,
            created_at: t(0),
            cost: Money::ZERO,
            history: &history,
        };
        let change = |at| StatusChange {
            status: Opened,
            occurred_at: at,
            cost: None,
        };
        assert!(matches!(
            plan(&state, &change(t(9))),
            Err(LifecycleError::OutOfOrder { .. })
        ));
        assert!(plan(&state, &change(t(10))).is_ok());
        let fresh = SendState {
            history: &[],
            ..state
        };
        let sent = |at| StatusChange {
            status: Sent,
            occurred_at: at,
            cost: None,
        };
        assert!(matches!(
            plan(&fresh, &sent(t(-1))),
            Err(LifecycleError::OutOfOrder { .. })
        ));
    }
}
