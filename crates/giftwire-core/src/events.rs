//! The webhook events of sends (API_REFERENCE.md §10): the 28 documented `send.*` types and
//! which of them each change of ours is. Every creation is `send.initiated`; every status
//! change is the type of its new status (for Amazon sends, fulfilment and shipping have types of
//! their own). Types no status of ours stands for are never emitted.

use crate::catalog::SendType;
use crate::status::SendStatus;

/// Every documented event type, in the documentation's order.
pub const EVENT_TYPES: [&str; 28] = [
    "send.amazon_fulfilling",
    "send.amazon_shipped",
    "send.blocked",
    "send.bounced",
    "send.canceled",
    "send.clicked",
    "send.confirmation_canceled",
    "send.confirming_address",
    "send.delivered",
    "send.email_blacklist",
    "send.expired",
    "send.failed",
    "send.fulfilling",
    "send.fulfillment_issue",
    "send.initiated",
    "send.insufficient_funds",
    "send.invalid_email_format",
    "send.opened",
    "send.order_received",
    "send.out_of_stock",
    "send.pending_approval",
    "send.pending_sendoso_approval",
    "send.redeemed",
    "send.refunded",
    "send.sent",
    "send.shipped",
    "send.suspicious_email",
    "send.undeliverable",
];

/// The type of a send's creation.
pub const INITIATED: &str = "send.initiated";

/// The event type of a change to `status` of a send of `send_type`.
pub fn event_type(send_type: SendType, status: SendStatus) -> &'static str {
    let amazon = send_type == SendType::Amazon;
    match status {
        SendStatus::Pending => INITIATED,
        SendStatus::Sent => "send.sent",
        SendStatus::Opened => "send.opened",
        SendStatus::Clicked => "send.clicked",
        SendStatus::Used => "send.redeemed",
        SendStatus::BouncedAndCredited => "send.bounced",
        SendStatus::Expired | SendStatus::ExpiredAndCredited => "send.expired",
        SendStatus::Cancelled => "send.canceled",
        SendStatus::Failed => "send.failed",
        SendStatus::Paused => "send.blocked",
        SendStatus::CollectingRecipientInfo | SendStatus::ConfirmingAddress => {
            "send.confirming_address"
        }
        SendStatus::AddressConfirmationCancelled => "send.confirmation_canceled",
        SendStatus::Processing if amazon => "send.amazon_fulfilling",
        SendStatus::Processing => "send.order_received",
        SendStatus::Packed if amazon => "send.amazon_fulfilling",
        SendStatus::Packed => "send.fulfilling",
        SendStatus::Shipped if amazon => "send.amazon_shipped",
        SendStatus::Shipped => "send.shipped",
        SendStatus::Delivered => "send.delivered",
        SendStatus::Undeliverable => "send.undeliverable",
        SendStatus::Refunded => "send.refunded",
    }
}

/// The documented types no change of ours is: refusals giftwire answers at once (insufficient
/// funds, an invalid email) and states it does not have (approvals, stock, screening).
pub fn never_emitted() -> Vec<&'static str> {
    EVENT_TYPES
        .iter()
        .copied()
        .filter(|t| {
            !SendType::ALL.iter().any(|send_type| {
                SendStatus::ALL
                    .iter()
                    .any(|status| event_type(*send_type, *status) == *t)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_change_has_a_documented_type_and_the_rest_are_listed_as_never_emitted() {
        for send_type in SendType::ALL {
            for status in SendStatus::ALL {
                let t = event_type(*send_type, *status);
                assert!(EVENT_TYPES.contains(&t), "{send_type} {status}: {t}");
            }
        }
        assert_eq!(
            never_emitted(),
            [
                "send.email_blacklist",
                "send.fulfillment_issue",
                "send.insufficient_funds",
                "send.invalid_email_format",
                "send.out_of_stock",
                "send.pending_approval",
                "send.pending_sendoso_approval",
                "send.suspicious_email",
            ]
        );
        assert_eq!(
            event_type(SendType::Amazon, SendStatus::Shipped),
            "send.amazon_shipped"
        );
        assert_eq!(
            event_type(SendType::SendosoDirect, SendStatus::Shipped),
            "send.shipped"
        );
    }
}
